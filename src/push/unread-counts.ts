/**
 * UnreadCounts: the notification and highlight counts of a room for one user, as sync
 * reports them (`unread_notifications`, `unread_thread_notifications`).
 * In:  user id, room id; every retired stream change (onChange, wired in app.ts).
 * Out: counts of the notifying events the user has not read, overall, for the main timeline
 *      and per thread root.
 * "Read" (client-server API, "Marking notifications as read", "Threaded read receipts"): an
 *      event is read when it is at or before the user's newest unthreaded receipt, or at or
 *      before their newest receipt in the event's own thread ("main" for the main timeline).
 *      `m.read` and `m.read.private` both count, whichever is further ahead.
 * Cost: the first time for a (user, room), one receipt read and one indexed range read of the
 *      user's push actions there; afterwards a running total is kept (`Running`): a later call
 *      reads only the actions after the position the total covers, and no receipts. Push
 *      actions are only ever added, at their event's position, so total + newer ones = the
 *      count. A receipt of the user (any room, any type: private receipts name no room in
 *      their change) moves the user's stamp, which retires all their totals.
 */
import type { UserId } from "../events/ids.js";
import type { ReceiptRow } from "../storage/rows.js";
import type { Storage } from "../storage/storage.js";
import { ORIGIN, type StreamChange, type StreamPos } from "../streams/position.js";
import { LruCache } from "../util/lru-cache.js";
import { pairKey } from "../util/pair-key.js";
import { MAIN_THREAD } from "./thread-of.js";

const RECEIPT_CHANGE = "receipt";
const DEFAULT_RUNNING_TOTALS = 50_000;

type ThreadCounts = { threadId: string; notify: number; highlight: number }[];

/** A (user, room)'s counts over push actions up to `asOf`, under the read marks `marks`. */
interface Running {
  marks: ReadMarks;
  asOf: StreamPos;
  threads: ThreadCounts;
  /** The user's receipt stamp when `marks` were read: a different stamp now retires this total. */
  stamp: number;
}

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
  private readonly running: LruCache<string, Running>;
  /** Per user, moved by each of their receipts (values from one counter, so never reused). */
  private readonly receiptStamps = new Map<string, number>();
  private stamps = 0;

  constructor(private readonly storage: Storage, opts: { runningTotals?: number } = {}) {
    this.running = new LruCache(opts.runningTotals ?? DEFAULT_RUNNING_TOTALS);
  }

  async readMarks(userId: UserId, roomId: string): Promise<ReadMarks> {
    return readMarksOf(await this.storage.receipts.ofUser(userId, roomId));
  }

  async unreadCounts(userId: UserId, roomId: string): Promise<RoomUnreadCounts> {
    const key = pairKey(userId, roomId);
    const stamp = this.receiptStamps.get(userId) ?? 0;
    // Every position up to here has committed (or been abandoned): no action below it can appear later.
    const upto = this.storage.sequencer.retired();
    const held = this.running.get(key);
    let next: Running;
    if (held && held.stamp === stamp) {
      if (held.asOf >= upto) return summarise(held.threads);
      const { marks, asOf } = held;
      const newer = await this.storage.push.counts(userId, roomId, asOf > marks.unthreaded ? asOf : marks.unthreaded, marks.threads, upto);
      next = { marks, asOf: upto, threads: addCounts(held.threads, newer), stamp };
    } else {
      const marks = await this.readMarks(userId, roomId);
      next = { marks, asOf: upto, threads: await this.storage.push.counts(userId, roomId, marks.unthreaded, marks.threads, upto), stamp };
    }
    // A concurrent call may have stored a total meanwhile; each is right, the later one is kept.
    if (next.asOf >= (this.running.get(key)?.asOf ?? ORIGIN)) this.running.set(key, next);
    return summarise(next.threads);
  }

  /** Listener for retired stream changes: a receipt of a user retires their running totals. */
  onChange(change: StreamChange): void {
    if (change.kind !== RECEIPT_CHANGE) return;
    for (const userId of change.userIds ?? []) this.receiptStamps.set(userId, ++this.stamps);
  }
}

function addCounts(a: ThreadCounts, b: ThreadCounts): ThreadCounts {
  const out = new Map(a.map((r) => [r.threadId, { ...r }]));
  for (const r of b) {
    const t = out.get(r.threadId);
    if (t) {
      t.notify += r.notify;
      t.highlight += r.highlight;
    } else out.set(r.threadId, { ...r });
  }
  return [...out.values()];
}

function summarise(rows: ThreadCounts): RoomUnreadCounts {
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
