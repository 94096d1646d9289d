/**
 * rooms.join.*.unread_notifications (and unread_thread_notifications when the filter asks):
 * the push module's counts of notifying events after the user's read receipts. Without
 * thread counts requested, thread counts fold into the room's.
 */
import type { SyncV2Context } from "../../context.js";
import type { JoinedRoom } from "../../response.js";

export async function unreadCounts(ctx: SyncV2Context, roomId: string): Promise<Pick<JoinedRoom, "unread_notifications" | "unread_thread_notifications">> {
  const c = await ctx.deps.unreadCounts.unreadCounts(ctx.userId, roomId);
  if (ctx.threadCounts) return { unread_notifications: c.main, unread_thread_notifications: c.threads };
  return { unread_notifications: { notification_count: c.notification_count, highlight_count: c.highlight_count } };
}
