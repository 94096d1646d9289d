/** SQLite PushStore: per-user rule documents, per-event push actions (counts), pushers. */
import type { Database } from "better-sqlite3";
import type { UserId } from "../../events/ids.js";
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import type { PushStore } from "../storage.js";
import type { PushActionRow, PusherRow } from "../rows.js";
import type { ChangeLog } from "./change-log.js";

export class SqlitePushStore implements PushStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog) {}

  async rules(userId: UserId): Promise<Record<string, unknown> | null> {
    const r = this.db.prepare("SELECT rules FROM push_rules WHERE user_id = ?").get(userId) as { rules: string } | undefined;
    return r ? (JSON.parse(r.rules) as Record<string, unknown>) : null;
  }

  async putRules(userId: UserId, rules: Record<string, unknown>): Promise<StreamPos> {
    return this.log.transaction((record) => {
      const pos = record({ kind: "push_rules", userId });
      this.db
        .prepare("INSERT INTO push_rules (user_id, rules, pos) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET rules = excluded.rules, pos = excluded.pos")
        .run(userId, JSON.stringify(rules), pos);
      return pos;
    });
  }

  async counts(
    userId: UserId,
    roomId: string,
    after: StreamPos,
    threadAfter?: ReadonlyMap<string, StreamPos>,
    upto: StreamPos = asStreamPos(Number.MAX_SAFE_INTEGER),
  ): Promise<{ threadId: string; notify: number; highlight: number }[]> {
    // Aggregated in SQL (one row per thread), not one row per unread event: sync asks for
    // every room of a user, and a room nobody reads may hold thousands of notifications.
    const grouped = this.db
      .prepare(
        `SELECT thread_id, COUNT(*) AS notify, SUM(highlight) AS highlight FROM event_push_actions
         WHERE user_id = ? AND room_id = ? AND event_pos > ? AND event_pos <= ? AND notify = 1 GROUP BY thread_id`,
      )
      .all(userId, roomId, after, upto) as { thread_id: string; notify: number; highlight: number }[];
    const oneThread = this.db.prepare(
      `SELECT COUNT(*) AS notify, COALESCE(SUM(highlight), 0) AS highlight FROM event_push_actions
       WHERE user_id = ? AND room_id = ? AND thread_id = ? AND event_pos > ? AND event_pos <= ? AND notify = 1`,
    );
    const out: { threadId: string; notify: number; highlight: number }[] = [];
    for (const g of grouped) {
      // A threaded receipt further along than the unthreaded one hides older events of its thread.
      const threadBound = threadAfter?.get(g.thread_id);
      const c =
        threadBound !== undefined && threadBound > after
          ? (oneThread.get(userId, roomId, g.thread_id, threadBound, upto) as { notify: number; highlight: number })
          : g;
      if (c.notify > 0) out.push({ threadId: g.thread_id, notify: c.notify, highlight: c.highlight });
    }
    return out;
  }

  async notifications(userId: UserId, beforePos: StreamPos | null, limit: number, onlyHighlight: boolean): Promise<PushActionRow[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM event_push_actions WHERE user_id = ? AND notify = 1 AND event_pos < ? ${onlyHighlight ? "AND highlight = 1" : ""}
         ORDER BY event_pos DESC LIMIT ?`,
      )
      .all(userId, beforePos ?? Number.MAX_SAFE_INTEGER, limit) as {
      user_id: string;
      room_id: string;
      event_pos: number;
      event_id: string;
      thread_id: string;
      notify: number;
      highlight: number;
      actions: string;
      ts: number;
    }[];
    return rows.map((r) => ({
      userId: r.user_id as UserId,
      roomId: r.room_id,
      eventId: r.event_id,
      eventPos: asStreamPos(r.event_pos),
      threadId: r.thread_id,
      notify: r.notify === 1,
      highlight: r.highlight === 1,
      actions: JSON.parse(r.actions) as unknown[],
      ts: r.ts,
    }));
  }

  async pushers(userId: UserId): Promise<PusherRow[]> {
    const rows = this.db.prepare("SELECT * FROM pushers WHERE user_id = ? ORDER BY app_id, pushkey").all(userId) as {
      user_id: string;
      app_id: string;
      pushkey: string;
      kind: string;
      app_display_name: string;
      device_display_name: string;
      profile_tag: string | null;
      lang: string;
      data: string;
    }[];
    return rows.map((r) => ({
      userId: r.user_id as UserId,
      appId: r.app_id,
      pushkey: r.pushkey,
      kind: r.kind,
      appDisplayName: r.app_display_name,
      deviceDisplayName: r.device_display_name,
      profileTag: r.profile_tag,
      lang: r.lang,
      data: JSON.parse(r.data) as Record<string, unknown>,
    }));
  }

  async setPusher(row: PusherRow, append: boolean): Promise<void> {
    this.db.transaction(() => {
      if (!append) this.db.prepare("DELETE FROM pushers WHERE app_id = ? AND pushkey = ? AND user_id != ?").run(row.appId, row.pushkey, row.userId);
      this.db
        .prepare(
          `INSERT INTO pushers (user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (app_id, pushkey, user_id) DO UPDATE SET kind = excluded.kind, app_display_name = excluded.app_display_name,
             device_display_name = excluded.device_display_name, profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data`,
        )
        .run(row.userId, row.appId, row.pushkey, row.kind, row.appDisplayName, row.deviceDisplayName, row.profileTag, row.lang, JSON.stringify(row.data));
    })();
  }

  async deletePusher(userId: UserId, appId: string, pushkey: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?").run(userId, appId, pushkey).changes > 0;
  }
}
