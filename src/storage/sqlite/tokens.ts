/** SQLite TokenStore: login sessions, access tokens and rotating refresh tokens (all hashed). */
import type { Database } from "better-sqlite3";
import type { DeviceId, UserId } from "../../events/ids.js";
import type { TokenStore } from "../storage.js";
import type { AccessTokenRow, NewSession } from "../rows.js";
import type { ChangeLog, Record } from "./change-log.js";
import type { Generations } from "./generation.js";

/** Writes a session inside an open transaction (shared with createUser). */
export function insertSession(db: Database, record: Record, s: NewSession, nowTs: number): void {
  const isNewDevice =
    db
      .prepare("INSERT INTO devices (user_id, device_id, display_name, created_ts, last_seen_ts, last_seen_ip) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .run(s.userId, s.deviceId, s.deviceDisplayName, nowTs, nowTs, s.ip).changes > 0;
  let refreshId: number | null = null;
  if (s.refresh) {
    refreshId = Number(
      db.prepare("INSERT INTO refresh_tokens (token_hash, user_id, device_id, created_ts) VALUES (?, ?, ?, ?)")
        .run(s.refresh.refreshTokenHash, s.userId, s.deviceId, nowTs).lastInsertRowid,
    );
  }
  db.prepare("INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, refresh_token_id) VALUES (?, ?, ?, ?, ?, ?)")
    .run(s.accessTokenHash, s.userId, s.deviceId, nowTs, s.refresh?.accessExpiresTs ?? null, refreshId);
  if (isNewDevice) record({ kind: "device_list", userId: s.userId });
}

export class SqliteTokenStore implements TokenStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog, private readonly generations: Generations) {}

  accessGeneration(): number {
    return this.generations.access.value;
  }

  async createSession(session: NewSession, nowTs: number): Promise<void> {
    this.log.transaction((record) => insertSession(this.db, record, session, nowTs));
  }

  async lookupAccess(accessTokenHash: string): Promise<AccessTokenRow | null> {
    const r = this.db
      .prepare(
        `SELECT t.user_id, t.device_id, t.expires_ts, t.predecessor_refresh_id, u.is_admin, u.deactivated
           FROM access_tokens t JOIN users u ON u.user_id = t.user_id WHERE t.token_hash = ?`,
      )
      .get(accessTokenHash) as
      | { user_id: string; device_id: string; expires_ts: number | null; predecessor_refresh_id: number | null; is_admin: number; deactivated: number }
      | undefined;
    if (!r) return null;
    return {
      userId: r.user_id as UserId,
      deviceId: r.device_id as DeviceId,
      expiresTs: r.expires_ts,
      predecessorRefreshId: r.predecessor_refresh_id,
      isAdmin: r.is_admin === 1,
      deactivated: r.deactivated === 1,
    };
  }

  async consumePredecessor(accessTokenHash: string): Promise<void> {
    this.db.transaction(() => {
      const r = this.db.prepare("SELECT predecessor_refresh_id AS p FROM access_tokens WHERE token_hash = ?").get(accessTokenHash) as { p: number | null } | undefined;
      if (!r || r.p === null) return;
      this.revokeRefresh(r.p);
      this.db.prepare("UPDATE access_tokens SET predecessor_refresh_id = NULL WHERE token_hash = ?").run(accessTokenHash);
      this.generations.access.bump();
    })();
  }

  async refresh(
    refreshTokenHash: string,
    next: { accessTokenHash: string; refreshTokenHash: string; accessExpiresTs: number },
    nowTs: number,
  ): Promise<{ userId: UserId; deviceId: DeviceId } | null> {
    return this.db.transaction(() => {
      const old = this.db.prepare("SELECT id, user_id, device_id FROM refresh_tokens WHERE token_hash = ?").get(refreshTokenHash) as
        | { id: number; user_id: string; device_id: string }
        | undefined;
      if (!old) return null;
      // Using this refresh token proves the pair it came with arrived: revoke what it replaced.
      const earlier = this.db
        .prepare("SELECT DISTINCT predecessor_refresh_id AS p FROM access_tokens WHERE refresh_token_id = ? AND predecessor_refresh_id IS NOT NULL")
        .all(old.id) as { p: number }[];
      for (const { p } of earlier) this.revokeRefresh(p);
      const newId = Number(
        this.db.prepare("INSERT INTO refresh_tokens (token_hash, user_id, device_id, created_ts) VALUES (?, ?, ?, ?)")
          .run(next.refreshTokenHash, old.user_id, old.device_id, nowTs).lastInsertRowid,
      );
      this.db
        .prepare("INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, refresh_token_id, predecessor_refresh_id) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(next.accessTokenHash, old.user_id, old.device_id, nowTs, next.accessExpiresTs, newId, old.id);
      return { userId: old.user_id as UserId, deviceId: old.device_id as DeviceId };
    })();
  }

  /** Deletes a refresh token and every access token issued together with it. */
  private revokeRefresh(id: number): void {
    this.db.prepare("DELETE FROM access_tokens WHERE refresh_token_id = ?").run(id);
    this.db.prepare("DELETE FROM refresh_tokens WHERE id = ?").run(id);
    this.generations.access.bump();
  }
}
