/** SQLite stores for per-user and ephemeral data: account data, receipts, presence, to-device. */
import type { Database } from "better-sqlite3";
import type { DeviceId, UserId } from "../../events/ids.js";
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import type { AccountDataStore, PresenceStore, ReceiptStore, ToDeviceSendResult, ToDeviceStore } from "../storage.js";
import type { AccountDataRow, PresenceRow, ReceiptRow, ToDeviceMessage, ToDeviceRow } from "../rows.js";
import { dmRoomIdsOf } from "../direct-rooms.js";
import type { ChangeLog } from "./change-log.js";
import { placeholders } from "./sql.js";
import { LruCache } from "../../util/lru-cache.js";
import { pairKey } from "../../util/pair-key.js";


export class SqliteAccountDataStore implements AccountDataStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog) {}

  async put(userId: UserId, roomId: string | null, type: string, content: Record<string, unknown>): Promise<StreamPos> {
    return this.log.transaction((record) => {
      // Room account data is private: the log row names the room, but only the owner wakes.
      const pos = record({ kind: "account_data", userId, ...(roomId ? { roomId, wakeRoom: false } : {}), userIds: [userId] });
      this.db
        .prepare(
          `INSERT INTO account_data (user_id, room_id, type, content, pos) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, pos = excluded.pos`,
        )
        .run(userId, roomId ?? "", type, JSON.stringify(content), pos);
      if (roomId === null && type === "m.direct") {
        this.db.prepare("DELETE FROM dm_rooms WHERE user_id = ?").run(userId);
        const insert = this.db.prepare("INSERT INTO dm_rooms (user_id, room_id) VALUES (?, ?)");
        for (const room of dmRoomIdsOf(content)) insert.run(userId, room);
      }
      return pos;
    });
  }

  async isDm(userId: UserId, roomId: string): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM dm_rooms WHERE user_id = ? AND room_id = ?").get(userId, roomId) !== undefined;
  }

  async dmRooms(userId: UserId): Promise<string[]> {
    return (this.db.prepare("SELECT room_id FROM dm_rooms WHERE user_id = ? ORDER BY room_id").all(userId) as { room_id: string }[]).map((r) => r.room_id);
  }

  async get(userId: UserId, roomId: string | null, type: string): Promise<AccountDataRow | null> {
    const r = this.db.prepare("SELECT * FROM account_data WHERE user_id = ? AND room_id = ? AND type = ?").get(userId, roomId ?? "", type) as AccountDataSql | undefined;
    return r ? toAccountData(r) : null;
  }

  async changed(userId: UserId, after: StreamPos | null, upto: StreamPos): Promise<AccountDataRow[]> {
    const rows = this.db
      .prepare("SELECT * FROM account_data WHERE user_id = ? AND pos > ? AND pos <= ? ORDER BY pos")
      .all(userId, after ?? 0, upto) as AccountDataSql[];
    return rows.map(toAccountData);
  }
}

interface AccountDataSql {
  user_id: string;
  room_id: string;
  type: string;
  content: string;
  pos: number;
}

const toAccountData = (r: AccountDataSql): AccountDataRow => ({
  userId: r.user_id as UserId,
  roomId: r.room_id === "" ? null : r.room_id,
  type: r.type,
  content: JSON.parse(r.content) as Record<string, unknown>,
  pos: asStreamPos(r.pos),
});

interface ReceiptSql {
  room_id: string;
  user_id: string;
  receipt_type: string;
  thread_id: string;
  event_id: string;
  event_pos: number;
  ts: number;
  pos: number;
}

const toReceipt = (r: ReceiptSql): ReceiptRow => ({
  roomId: r.room_id,
  userId: r.user_id as UserId,
  receiptType: r.receipt_type,
  threadId: r.thread_id,
  eventId: r.event_id,
  eventPos: asStreamPos(r.event_pos),
  ts: r.ts,
  pos: asStreamPos(r.pos),
});

export class SqliteReceiptStore implements ReceiptStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog) {}

  async put(receipt: Omit<ReceiptRow, "pos">): Promise<StreamPos | null> {
    return this.log.transaction((record) => {
      const current = this.db
        .prepare("SELECT event_pos FROM receipts WHERE room_id = ? AND user_id = ? AND receipt_type = ? AND thread_id = ?")
        .get(receipt.roomId, receipt.userId, receipt.receiptType, receipt.threadId) as { event_pos: number } | undefined;
      if (current && current.event_pos >= receipt.eventPos) return null;
      // Private receipts wake only their owner; public ones everyone in the room.
      const isPrivate = receipt.receiptType === "m.read.private";
      const pos = record({ kind: "receipt", roomId: receipt.roomId, userId: receipt.userId, userIds: [receipt.userId], wakeRoom: !isPrivate });
      this.db
        .prepare(
          `INSERT INTO receipts (room_id, user_id, receipt_type, thread_id, event_id, event_pos, ts, pos) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (room_id, user_id, receipt_type, thread_id) DO UPDATE SET event_id = excluded.event_id, event_pos = excluded.event_pos, ts = excluded.ts, pos = excluded.pos`,
        )
        .run(receipt.roomId, receipt.userId, receipt.receiptType, receipt.threadId, receipt.eventId, receipt.eventPos, receipt.ts, pos);
      return pos;
    });
  }

  async changedInRoom(roomId: string, after: StreamPos | null, upto: StreamPos): Promise<ReceiptRow[]> {
    const rows = this.db.prepare("SELECT * FROM receipts WHERE room_id = ? AND pos > ? AND pos <= ? ORDER BY pos").all(roomId, after ?? 0, upto) as ReceiptSql[];
    return rows.map(toReceipt);
  }

  async ofUser(userId: UserId, roomId: string): Promise<ReceiptRow[]> {
    const rows = this.db.prepare("SELECT * FROM receipts WHERE room_id = ? AND user_id = ? ORDER BY pos").all(roomId, userId) as ReceiptSql[];
    return rows.map(toReceipt);
  }
}

interface PresenceSql {
  user_id: string;
  state: string;
  status_msg: string | null;
  last_active_ts: number;
  currently_active: number;
  pos: number;
}

const toPresence = (r: PresenceSql): PresenceRow => ({
  userId: r.user_id as UserId,
  state: r.state as PresenceRow["state"],
  statusMsg: r.status_msg,
  lastActiveTs: r.last_active_ts,
  currentlyActive: r.currently_active === 1,
  pos: asStreamPos(r.pos),
});

export class SqlitePresenceStore implements PresenceStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog) {}

  async put(row: Omit<PresenceRow, "pos">): Promise<StreamPos> {
    return this.log.transaction((record) => {
      const pos = record({ kind: "presence", userId: row.userId });
      this.db
        .prepare(
          `INSERT INTO presence (user_id, state, status_msg, last_active_ts, currently_active, pos) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET state = excluded.state, status_msg = excluded.status_msg,
             last_active_ts = excluded.last_active_ts, currently_active = excluded.currently_active, pos = excluded.pos`,
        )
        .run(row.userId, row.state, row.statusMsg, row.lastActiveTs, row.currentlyActive ? 1 : 0, pos);
      return pos;
    });
  }

  async get(userId: UserId): Promise<PresenceRow | null> {
    const r = this.db.prepare("SELECT * FROM presence WHERE user_id = ?").get(userId) as PresenceSql | undefined;
    return r ? toPresence(r) : null;
  }

  async changed(userIds: readonly UserId[], after: StreamPos | null, upto: StreamPos): Promise<PresenceRow[]> {
    const out: PresenceRow[] = [];
    // Chunked to stay under SQLite's bound-parameter limit.
    for (let i = 0; i < userIds.length; i += 500) {
      const chunk = userIds.slice(i, i + 500);
      const rows = this.db
        .prepare(`SELECT * FROM presence WHERE user_id IN (${placeholders(chunk.length)}) AND pos > ? AND pos <= ? ORDER BY pos`)
        .all(...chunk, after ?? 0, upto) as PresenceSql[];
      out.push(...rows.map(toPresence));
    }
    return out.sort((a, b) => a.pos - b.pos);
  }

  async onlineInactiveSince(lastActiveBefore: number, limit: number): Promise<PresenceRow[]> {
    const rows = this.db
      .prepare("SELECT * FROM presence WHERE state = 'online' AND last_active_ts < ? ORDER BY last_active_ts LIMIT ?")
      .all(lastActiveBefore, limit) as PresenceSql[];
    return rows.map(toPresence);
  }
}

export class SqliteToDeviceStore implements ToDeviceStore {
  /**
   * Per device, when known, a position at or below every message in its inbox (Infinity:
   * none). Every /sync acknowledges, and nearly always there is nothing to delete: then the
   * mark is above `upto` and no read is needed. Only send() adds messages (and lowers the
   * mark); a delete elsewhere (a removed device) can only leave the mark too low, which costs
   * one needless read, never a message.
   */
  private readonly lowestPending = new LruCache<string, number>(100_000);

  constructor(private readonly db: Database, private readonly log: ChangeLog, private readonly now: () => number) {}

  async send(sender: { userId: UserId; deviceId: DeviceId }, txnId: string, messages: readonly ToDeviceMessage[]): Promise<ToDeviceSendResult> {
    return this.log.transaction((record) => {
      const fresh = this.db
        .prepare("INSERT INTO to_device_txns (user_id, device_id, txn_id, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .run(sender.userId, sender.deviceId, txnId, this.now()).changes > 0;
      if (!fresh) return { duplicate: true, pos: null, delivered: 0 };
      const queue = this.resolveDevices(messages);
      if (queue.length === 0) return { duplicate: false, pos: null, delivered: 0 };
      const recipients = [...new Set(queue.map((m) => m.userId))];
      const pos = record({ kind: "to_device", userId: sender.userId, userIds: recipients });
      const insert = this.db.prepare("INSERT INTO device_inbox (pos, user_id, device_id, sender, type, content) VALUES (?, ?, ?, ?, ?, ?)");
      for (const m of queue) {
        insert.run(pos, m.userId, m.deviceId, sender.userId, m.type, JSON.stringify(m.content));
        // Lowered inside the transaction: were it to roll back, a too-low mark only costs a read.
        const key = pairKey(m.userId, m.deviceId);
        const lowest = this.lowestPending.get(key);
        if (lowest !== undefined && pos < lowest) this.lowestPending.set(key, pos);
      }
      return { duplicate: false, pos, delivered: queue.length };
    });
  }

  /** Explicit device ids that exist, then `"*"` for every other current device of the user. */
  private resolveDevices(messages: readonly ToDeviceMessage[]): (ToDeviceMessage & { deviceId: DeviceId })[] {
    const out = new Map<string, ToDeviceMessage & { deviceId: DeviceId }>();
    const exists = this.db.prepare("SELECT 1 FROM devices WHERE user_id = ? AND device_id = ?");
    const devicesOf = this.db.prepare("SELECT device_id FROM devices WHERE user_id = ? ORDER BY device_id");
    for (const m of messages) {
      if (m.deviceId === "*" || exists.get(m.userId, m.deviceId) === undefined) continue;
      out.set(JSON.stringify([m.userId, m.deviceId]), { ...m, deviceId: m.deviceId });
    }
    for (const m of messages) {
      if (m.deviceId !== "*") continue;
      for (const { device_id } of devicesOf.all(m.userId) as { device_id: string }[]) {
        const key = JSON.stringify([m.userId, device_id]);
        if (!out.has(key)) out.set(key, { ...m, deviceId: device_id as DeviceId });
      }
    }
    return [...out.values()];
  }

  /**
   * Whole positions only: if the `limit`-th message shares its position with later ones,
   * those come too, so that acknowledging "everything up to pos P" never drops an unsent one.
   */
  async pending(userId: UserId, deviceId: DeviceId, upto: StreamPos, limit: number): Promise<ToDeviceRow[]> {
    const nth = this.db
      .prepare("SELECT pos FROM device_inbox WHERE user_id = ? AND device_id = ? AND pos <= ? ORDER BY id LIMIT 1 OFFSET ?")
      .get(userId, deviceId, upto, Math.max(0, limit - 1)) as { pos: number } | undefined;
    const bound = nth ? Math.min(nth.pos, upto) : upto;
    const rows = this.db
      .prepare("SELECT * FROM device_inbox WHERE user_id = ? AND device_id = ? AND pos <= ? ORDER BY id")
      .all(userId, deviceId, bound) as { pos: number; user_id: string; device_id: string; sender: string; type: string; content: string }[];
    return rows.map((r) => ({
      pos: asStreamPos(r.pos),
      userId: r.user_id as UserId,
      deviceId: r.device_id as DeviceId,
      sender: r.sender as UserId,
      type: r.type,
      content: JSON.parse(r.content) as Record<string, unknown>,
    }));
  }

  async acknowledge(userId: UserId, deviceId: DeviceId, upto: StreamPos): Promise<number> {
    const key = pairKey(userId, deviceId);
    if ((this.lowestPending.get(key) ?? -1) > upto) return 0;
    // A read first keeps syncs with nothing to delete from taking SQLite's write lock.
    const { lowest } = this.db.prepare("SELECT MIN(pos) AS lowest FROM device_inbox WHERE user_id = ? AND device_id = ?").get(userId, deviceId) as { lowest: number | null };
    let deleted = 0;
    if (lowest !== null && lowest <= upto) {
      deleted = this.db.prepare("DELETE FROM device_inbox WHERE user_id = ? AND device_id = ? AND pos <= ?").run(userId, deviceId, upto).changes;
      // What is left lies after `upto`; the next acknowledgement reads its lowest.
      this.lowestPending.set(key, upto + 1);
    } else {
      this.lowestPending.set(key, lowest ?? Infinity);
    }
    return deleted;
  }
}
