/**
 * SQLite EventStore: the event write path's single transaction, and the reads of room
 * history (pages, state at a position, relations, timestamps).
 */
import type { Database } from "better-sqlite3";
import type { DeviceId, UserId } from "../../events/ids.js";
import type { StreamPos } from "../../streams/position.js";
import type { EventRange, EventStore } from "../storage.js";
import type { EventRow, NewEvent } from "../rows.js";
import type { ChangeLog } from "./change-log.js";
import { EVENT_COLUMNS, toEventRow, type EventSqlRow } from "./event-rows.js";
import { applySummary } from "./summary-writer.js";
import { RecentEvents } from "./recent-events.js";
import type { MembershipCache } from "./membership-cache.js";

export class SqliteEventStore implements EventStore {
  /** The newest events, for incremental syncs' timelines (recent-events.ts). */
  private readonly recent: RecentEvents;

  constructor(
    private readonly db: Database,
    private readonly log: ChangeLog,
    highestAtStart: StreamPos,
    private readonly memberships: MembershipCache,
  ) {
    this.recent = new RecentEvents(highestAtStart);
  }

  async persist(ev: NewEvent, nowTs: number): Promise<StreamPos> {
    const pdu = ev.pdu;
    const isState = typeof pdu.state_key === "string";
    const isMember = pdu.type === "m.room.member" && isState;
    const json = JSON.stringify(pdu);
    const prunedJson = ev.redaction ? JSON.stringify(ev.redaction.prunedPdu) : "";
    const pos = this.log.transaction((record) => {
      const pos = record({
        kind: "event",
        roomId: ev.roomId,
        // A member event's row names its target (StreamLogRow.userId), so a sync's log slice
        // says whose membership changed where.
        ...(isMember ? { userId: pdu.state_key!, userIds: [pdu.state_key!], membership: String(pdu.content.membership) } : { userIds: [] }),
      });
      if (ev.newRoom) {
        this.db.prepare("INSERT INTO rooms (room_id, room_version, creator, created_ts) VALUES (?, ?, ?, ?)")
          .run(ev.roomId, ev.newRoom.roomVersion, ev.newRoom.creator, nowTs);
        this.db.prepare("INSERT INTO room_summaries (room_id, bump_pos) VALUES (?, ?)").run(ev.roomId, pos);
      }
      this.db
        .prepare(
          `INSERT INTO events (pos, event_id, room_id, type, state_key, sender, origin_server_ts, json, rel_type, relates_to)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(pos, ev.eventId, ev.roomId, pdu.type, isState ? pdu.state_key : null, pdu.sender, pdu.origin_server_ts, json,
          ev.relation?.relType ?? null, ev.relation?.relatesTo ?? null);
      this.db.prepare("UPDATE rooms SET last_event_id = ?, last_depth = ? WHERE room_id = ?").run(ev.eventId, pdu.depth, ev.roomId);
      if (isState) {
        this.db
          .prepare("INSERT INTO current_state (room_id, type, state_key, event_id, pos) VALUES (?, ?, ?, ?, ?) ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id, pos = excluded.pos")
          .run(ev.roomId, pdu.type, pdu.state_key, ev.eventId, pos);
      }
      if (isMember) {
        const membership = String(pdu.content.membership);
        this.db
          .prepare("INSERT INTO room_memberships (user_id, room_id, membership, event_id, pos) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, room_id) DO UPDATE SET membership = excluded.membership, event_id = excluded.event_id, pos = excluded.pos")
          .run(pdu.state_key, ev.roomId, membership, ev.eventId, pos);
        if (membership === "join" || membership === "invite" || membership === "knock") {
          this.db.prepare("DELETE FROM forgotten_rooms WHERE user_id = ? AND room_id = ?").run(pdu.state_key, ev.roomId);
        }
      }
      if (ev.redaction) {
        // A redacted event no longer relates to anything (its m.relates_to is gone), as in Synapse.
        this.db.prepare("UPDATE events SET json = ?, redacted_by = ?, rel_type = NULL, relates_to = NULL WHERE event_id = ?")
          .run(prunedJson, ev.eventId, ev.redaction.targetEventId);
      }
      if (ev.txn) {
        this.db.prepare("INSERT INTO txn_ids (user_id, device_id, txn_id, event_id, created_ts) VALUES (?, ?, ?, ?, ?)")
          .run(ev.txn.userId, ev.txn.deviceId, ev.txn.txnId, ev.eventId, nowTs);
      }
      if (ev.pushActions?.length) {
        const insert = this.db.prepare(
          "INSERT INTO event_push_actions (user_id, room_id, event_pos, event_id, thread_id, notify, highlight, actions, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        );
        for (const a of ev.pushActions) {
          insert.run(a.userId, a.roomId, pos, a.eventId, a.threadId, a.notify ? 1 : 0, a.highlight ? 1 : 0, JSON.stringify(a.actions), a.ts);
        }
      }
      applySummary(this.db, ev.roomId, pos, ev.summary, ev.bumps, isMember);
      return pos;
    });
    // Committed: now the in-memory copy may show it.
    this.recent.add({ pos, event_id: ev.eventId, room_id: ev.roomId, json, redacted_by: null });
    if (ev.redaction) this.recent.redact(ev.redaction.targetEventId, prunedJson, ev.eventId);
    if (isMember) this.memberships.set(ev.roomId, pdu.state_key!, { roomId: ev.roomId, userId: pdu.state_key! as UserId, membership: String(pdu.content.membership), eventId: ev.eventId, pos });
    return pos;
  }

  async txnIdsOf(userId: UserId, deviceId: DeviceId, eventIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    // Bounded batches of bound parameters; the (user_id, device_id) prefix of the key finds the rows.
    for (let i = 0; i < eventIds.length; i += 500) {
      const batch = eventIds.slice(i, i + 500);
      const rows = this.db
        .prepare(`SELECT event_id, txn_id FROM txn_ids WHERE user_id = ? AND device_id = ? AND event_id IN (${batch.map(() => "?").join(", ")})`)
        .all(userId, deviceId, ...batch) as { event_id: string; txn_id: string }[];
      for (const r of rows) out.set(r.event_id, r.txn_id);
    }
    return out;
  }

  async get(eventId: string): Promise<EventRow | null> {
    const r = this.db.prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.event_id = ?`).get(eventId) as EventSqlRow | undefined;
    return r ? toEventRow(r) : null;
  }

  async byTxn(userId: UserId, deviceId: DeviceId, txnId: string): Promise<string | null> {
    const r = this.db.prepare("SELECT event_id FROM txn_ids WHERE user_id = ? AND device_id = ? AND txn_id = ?").get(userId, deviceId, txnId) as
      | { event_id: string }
      | undefined;
    return r?.event_id ?? null;
  }

  async inRoom(roomId: string, range: EventRange): Promise<EventRow[]> {
    const held = this.recent.inRoom(roomId, range);
    if (held) return held.map(toEventRow);
    const { where, params, order } = rangeClause(range);
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.room_id = ? ${where} ORDER BY e.pos ${order} LIMIT ?`)
      .all(roomId, ...params, range.limit) as EventSqlRow[];
    return rows.map(toEventRow);
  }

  async stateAt(roomId: string, pos: StreamPos): Promise<EventRow[]> {
    // The newest state event per (type, state_key) at or below pos; SQLite returns the bare
    // columns of the row that holds MAX(pos) in each group.
    const rows = this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events e JOIN (
           SELECT MAX(pos) AS pos FROM events WHERE room_id = ? AND state_key IS NOT NULL AND pos <= ? GROUP BY type, state_key
         ) latest ON latest.pos = e.pos ORDER BY e.pos`,
      )
      .all(roomId, pos) as EventSqlRow[];
    return rows.map(toEventRow);
  }

  async stateEntryAt(roomId: string, type: string, stateKey: string, pos: StreamPos): Promise<EventRow | null> {
    const r = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.room_id = ? AND e.type = ? AND e.state_key = ? AND e.pos <= ? ORDER BY e.pos DESC LIMIT 1`)
      .get(roomId, type, stateKey, pos) as EventSqlRow | undefined;
    return r ? toEventRow(r) : null;
  }

  async stateHistory(roomId: string, type: string, stateKey: string): Promise<EventRow[]> {
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM events e WHERE e.room_id = ? AND e.type = ? AND e.state_key = ? ORDER BY e.pos`)
      .all(roomId, type, stateKey) as EventSqlRow[];
    return rows.map(toEventRow);
  }

  async relations(eventId: string, relType: string | null, range: EventRange): Promise<EventRow[]> {
    const { where, params, order } = rangeClause(range);
    const typeClause = relType === null ? "" : "AND e.rel_type = ?";
    const rows = this.db
      // Relations count only within the target's own room (spec: relationships between
      // events in different rooms are ignored).
      .prepare(
        `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.relates_to = ?
           AND e.room_id = (SELECT room_id FROM events WHERE event_id = ?) ${typeClause} ${where} ORDER BY e.pos ${order} LIMIT ?`,
      )
      .all(eventId, eventId, ...(relType === null ? [] : [relType]), ...params, range.limit) as EventSqlRow[];
    return rows.map(toEventRow);
  }

  async closestByTimestamp(roomId: string, ts: number, dir: "b" | "f"): Promise<EventRow | null> {
    const sql =
      dir === "f"
        ? `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.room_id = ? AND e.origin_server_ts >= ? ORDER BY e.origin_server_ts ASC, e.pos ASC LIMIT 1`
        : `SELECT ${EVENT_COLUMNS} FROM events e WHERE e.room_id = ? AND e.origin_server_ts <= ? ORDER BY e.origin_server_ts DESC, e.pos DESC LIMIT 1`;
    const r = this.db.prepare(sql).get(roomId, ts) as EventSqlRow | undefined;
    return r ? toEventRow(r) : null;
  }
}

function rangeClause(range: EventRange): { where: string; params: number[]; order: "ASC" | "DESC" } {
  const parts: string[] = [];
  const params: number[] = [];
  const add = (clause: string, value: number) => {
    parts.push(clause);
    params.push(value);
  };
  if (range.dir === "b") {
    if (range.from !== null) add("AND e.pos < ?", range.from);
    if (range.to !== null) add("AND e.pos >= ?", range.to);
    return { where: parts.join(" "), params, order: "DESC" };
  }
  if (range.from !== null) add("AND e.pos >= ?", range.from);
  if (range.to !== null) add("AND e.pos < ?", range.to);
  return { where: parts.join(" "), params, order: "ASC" };
}
