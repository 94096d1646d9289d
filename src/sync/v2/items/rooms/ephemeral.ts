/**
 * rooms.join.*.ephemeral: typing (current typers, from memory) and receipts changed in the
 * range as one `m.receipt` event. Private receipts (m.read.private) go only to their owner.
 * In an incremental sync typing is sent only when the log shows a typing change for the
 * room in range (`typingChanged`); initial syncs send the current typers.
 */
import type { SyncV2Context } from "../../context.js";

export async function roomEphemeral(ctx: SyncV2Context, roomId: string, typingChanged: boolean): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  if (ctx.deps.typing && (ctx.isInitial || typingChanged)) {
    const users = ctx.deps.typing.typingUsers(roomId);
    if (users.length > 0 || !ctx.isInitial) out.push({ type: "m.typing", content: { user_ids: [...users] } });
  }
  const receipts = await ctx.deps.storage.receipts.changedInRoom(roomId, ctx.since, ctx.upto);
  const content: Record<string, Record<string, Record<string, Record<string, unknown>>>> = {};
  for (const r of receipts) {
    if (r.receiptType === "m.read.private" && r.userId !== ctx.userId) continue;
    const byType = (content[r.eventId] ??= {});
    const byUser = (byType[r.receiptType] ??= {});
    byUser[r.userId] = r.threadId ? { ts: r.ts, thread_id: r.threadId } : { ts: r.ts };
  }
  if (Object.keys(content).length > 0) out.push({ type: "m.receipt", content });
  return out;
}
