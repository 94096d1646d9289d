/**
 * UnreadCounts: the notification and highlight counts of a room for one user, as sync
 * reports them (`unread_notifications`, `unread_thread_notifications`).
 * In:  user id, room id.
 * Out: counts of the notifying events the user has not read, overall, for the main timeline
 *      and per thread root.
 * "Read" (client-server API, "Marking notifications as read", "Threaded read receipts"): an
 *      event is read when it is at or before the user's newest unthreaded receipt, or at or
 *      before their newest receipt in the event's own thread ("main" for the main timeline).
 *      `m.read` and `m.read.private` both count, whichever is further ahead.
 * Cost: one receipt read and one indexed range read of the user's push actions in the room.
 */
import type { UserId } from "../events/ids.js";
import type { ReceiptRow } from "../storage/rows.js";
import type { Storage } from "../storage/storage.js";
import { ORIGIN, type StreamPos } from "../streams/position.js";
import { MAIN_THREAD } from "./thread-of.js";

export interface NotificationCounts {
  notification_count: number;
  highlight_count: number;
}

export interface RoomUnreadCounts extends NotificationCounts {
  /** The main timeline only (sync's `unread_notifications` when the filter asks for thread counts). */
  main: NotificationCounts;
  /** Per thread root event id, threads with unread notifications only. */
  threads: Record<string, NotificationCounts>;
}

/** Receipt types that mark notifications read. */
const READ_RECEIPTS: ReadonlySet<string> = new Set(["m.read", "m.read.private"]);

/** Where the user has read up to: the unthreaded receipt and each thread's own. */
export interface ReadMarks {
  unthreaded: StreamPos;
  threads: ReadonlyMap<string, StreamPos>;
}

export function readMarksOf(receipts: readonly ReceiptRow[]): ReadMarks {
  let unthreaded = ORIGIN;
  const threads = new Map<string, StreamPos>();
  for (const r of receipts) {
    if (!READ_RECEIPTS.has(r.receiptType)) continue;
    if (r.threadId === "") {
      if (r.eventPos > unthreaded) unthreaded = r.eventPos;
    } else if (r.eventPos > (threads.get(r.threadId) ?? ORIGIN)) {
      threads.set(r.threadId, r.eventPos);
    }
  }
  return { unthreaded, threads };
}

/** Has the user read the event at `eventPos` in thread `threadId`? */
export function isRead(marks: ReadMarks, eventPos: StreamPos, threadId: string): boolean {
  return eventPos <= marks.unthreaded || eventPos <= (marks.threads.get(threadId) ?? ORIGIN);
}

export class UnreadCounts {
  constructor(private readonly storage: Storage) {}

  async readMarks(userId: UserId, roomId: string): Promise<ReadMarks> {
    return readMarksOf(await this.storage.receipts.ofUser(userId, roomId));
  }

  async unreadCounts(userId: UserId, roomId: string): Promise<RoomUnreadCounts> {
    const marks = await this.readMarks(userId, roomId);
    const rows = await this.storage.push.counts(userId, roomId, marks.unthreaded, marks.threads);
    const out: RoomUnreadCounts = { notification_count: 0, highlight_count: 0, main: { notification_count: 0, highlight_count: 0 }, threads: {} };
    for (const r of rows) {
      if (r.notify === 0 && r.highlight === 0) continue;
      out.notification_count += r.notify;
      out.highlight_count += r.highlight;
      const counts = { notification_count: r.notify, highlight_count: r.highlight };
      if (r.threadId === MAIN_THREAD) out.main = counts;
      else out.threads[r.threadId] = counts;
    }
    return out;
  }
}
