/**
 * rooms.join.*.unread_notifications (and unread_thread_notifications when the filter asks):
 * counts of notifying events after the user's read receipt, from the push actions written
 * with each event. Without thread counts requested, thread counts fold into the room's.
 */
import { asStreamPos, type StreamPos } from "../../../../streams/position.js";
import type { SyncV2Context } from "../../context.js";
import type { JoinedRoom } from "../../response.js";

type Counts = { notification_count: number; highlight_count: number };

export async function unreadCounts(ctx: SyncV2Context, roomId: string): Promise<Pick<JoinedRoom, "unread_notifications" | "unread_thread_notifications">> {
  const receipts = await ctx.deps.storage.receipts.ofUser(ctx.userId, roomId);
  let main = 0;
  const threads = new Map<string, StreamPos>();
  for (const r of receipts) {
    if (r.receiptType !== "m.read" && r.receiptType !== "m.read.private") continue;
    if (r.threadId === "") main = Math.max(main, r.eventPos);
    else threads.set(r.threadId, asStreamPos(Math.max(threads.get(r.threadId) ?? 0, r.eventPos)));
  }
  const rows = await ctx.deps.storage.push.counts(ctx.userId, roomId, asStreamPos(main), threads);
  const room: Counts = { notification_count: 0, highlight_count: 0 };
  const perThread: Record<string, Counts> = {};
  for (const c of rows) {
    if (!ctx.threadCounts || c.threadId === "main") {
      room.notification_count += c.notify;
      room.highlight_count += c.highlight;
    } else {
      perThread[c.threadId] = { notification_count: c.notify, highlight_count: c.highlight };
    }
  }
  return ctx.threadCounts ? { unread_notifications: room, unread_thread_notifications: perThread } : { unread_notifications: room };
}
