/** SQLite stores too small for a file each: meta, stream log reads, UIA sessions, filters. */
import { randomBytes } from "node:crypto";
import type { Database } from "better-sqlite3";
import type { UserId } from "../../events/ids.js";
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import type { FilterStore, MetaStore, StreamStore, UiaStore } from "../storage.js";
import type { StreamLogRow, UiaSessionRow } from "../rows.js";
import type { ChangeLog } from "./change-log.js";

export class SqliteMetaStore implements MetaStore {
  /**
   * The epoch is read on every /sync: kept in memory. Only this process's rotateEpoch()
   * changes it (at start-up; no CLI command rotates it while a server runs).
   */
  private epochValue: string | null = null;
  constructor(private readonly db: Database) {}
  async epoch(): Promise<string> {
    this.epochValue ??= (this.db.prepare("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string }).value;
    return this.epochValue;
  }
  async schemaVersion(): Promise<number> {
    return this.db.pragma("user_version", { simple: true }) as number;
  }
  async rotateEpoch(): Promise<string> {
    const epoch = randomBytes(12).toString("base64url");
    this.db.prepare("UPDATE meta SET value = ? WHERE key = 'epoch'").run(epoch);
    this.epochValue = epoch;
    return epoch;
  }
  async addSyncReset(r: { scope: "all" | "user" | "device"; userId?: string; deviceId?: string; pos?: StreamPos; reason?: string; ts: number }): Promise<StreamPos> {
    // IMMEDIATE: holds the write lock while reading the highest position, so no server write
    // can slip in between; the server's next allocation is then exactly highest + 1.
    return this.db.transaction(() => {
      const pos = r.pos ?? asStreamPos(highestPositionSync(this.db) + 1);
      this.db
        .prepare("INSERT INTO sync_resets (scope, user_id, device_id, pos, reason, ts) VALUES (?, ?, ?, ?, ?, ?)")
        .run(r.scope, r.scope === "all" ? "" : (r.userId ?? ""), r.scope === "device" ? (r.deviceId ?? "") : "", pos, r.reason ?? null, r.ts);
      return pos;
    }).immediate();
  }
  async syncResetFor(userId: string, deviceId: string): Promise<StreamPos> {
    const row = this.db
      .prepare(
        `SELECT COALESCE(MAX(pos), 0) AS p FROM sync_resets WHERE scope = 'all'
            OR (scope = 'user' AND user_id = ?) OR (scope = 'device' AND user_id = ? AND device_id = ?)`,
      )
      .get(userId, userId, deviceId) as { p: number };
    return asStreamPos(row.p);
  }
}

export class SqliteStreamStore implements StreamStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog) {}
  async recordEphemeral(change: { kind: string; roomId?: string; userIds?: readonly string[] }): Promise<StreamPos> {
    return this.log.transaction((record) => record({ kind: change.kind, ...(change.roomId ? { roomId: change.roomId } : {}), ...(change.userIds ? { userIds: change.userIds } : {}) }));
  }
  async highestPosition(): Promise<StreamPos> {
    return highestPositionSync(this.db);
  }
  async stampAt(pos: StreamPos): Promise<number | null> {
    if (pos === 0) return 0;
    const recent = this.log.recent.stamp(pos);
    if (recent !== undefined) return recent;
    const r = this.db.prepare("SELECT stamp FROM stream_log WHERE pos = ?").get(pos) as { stamp: number } | undefined;
    return r?.stamp ?? null;
  }
  async read(after: StreamPos, upto: StreamPos, limit: number): Promise<StreamLogRow[]> {
    const recent = this.log.recent.read(after, upto, limit);
    if (recent) return recent;
    const rows = this.db
      .prepare("SELECT pos, kind, user_id, room_id, stamp, ts FROM stream_log WHERE pos > ? AND pos <= ? ORDER BY pos LIMIT ?")
      .all(after, upto, limit) as { pos: number; kind: string; user_id: string | null; room_id: string | null; stamp: number; ts: number }[];
    return rows.map((r) => ({ pos: asStreamPos(r.pos), kind: r.kind, userId: r.user_id as UserId | null, roomId: r.room_id, stamp: r.stamp, ts: r.ts }));
  }
}

export function highestPositionSync(db: Database): StreamPos {
  const r = db.prepare("SELECT COALESCE(MAX(pos), 0) AS p FROM stream_log").get() as { p: number };
  return asStreamPos(r.p);
}

export class SqliteUiaStore implements UiaStore {
  constructor(private readonly db: Database) {}
  async create(row: UiaSessionRow): Promise<void> {
    this.db.prepare("INSERT INTO uia_sessions (session_id, data, expires_ts) VALUES (?, ?, ?)").run(row.sessionId, JSON.stringify(row.data), row.expiresTs);
  }
  async get(sessionId: string, nowTs: number): Promise<UiaSessionRow | null> {
    const r = this.db.prepare("SELECT * FROM uia_sessions WHERE session_id = ? AND expires_ts > ?").get(sessionId, nowTs) as
      | { session_id: string; data: string; expires_ts: number }
      | undefined;
    return r ? { sessionId: r.session_id, data: JSON.parse(r.data) as Record<string, unknown>, expiresTs: r.expires_ts } : null;
  }
  async update(sessionId: string, data: Record<string, unknown>): Promise<void> {
    this.db.prepare("UPDATE uia_sessions SET data = ? WHERE session_id = ?").run(JSON.stringify(data), sessionId);
  }
  async delete(sessionId: string): Promise<void> {
    this.db.prepare("DELETE FROM uia_sessions WHERE session_id = ?").run(sessionId);
  }
  async purgeExpired(nowTs: number): Promise<number> {
    return this.db.prepare("DELETE FROM uia_sessions WHERE expires_ts <= ?").run(nowTs).changes;
  }
}

export class SqliteFilterStore implements FilterStore {
  constructor(private readonly db: Database) {}
  async create(userId: UserId, filter: Record<string, unknown>): Promise<string> {
    return this.db.transaction(() => {
      const { n } = this.db.prepare("SELECT COALESCE(MAX(filter_id), -1) + 1 AS n FROM filters WHERE user_id = ?").get(userId) as { n: number };
      this.db.prepare("INSERT INTO filters (user_id, filter_id, json) VALUES (?, ?, ?)").run(userId, n, JSON.stringify(filter));
      return String(n);
    })();
  }
  async get(userId: UserId, filterId: string): Promise<Record<string, unknown> | null> {
    if (!/^\d{1,15}$/.test(filterId)) return null;
    const r = this.db.prepare("SELECT json FROM filters WHERE user_id = ? AND filter_id = ?").get(userId, Number(filterId)) as { json: string } | undefined;
    return r ? (JSON.parse(r.json) as Record<string, unknown>) : null;
  }
}
