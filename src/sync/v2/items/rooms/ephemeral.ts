/**
 * rooms.join.*.ephemeral: typing (current typers, from memory) and receipts changed in the
 * range as one `m.receipt` event. Private receipts (m.read.private) go only to their owner.
 * In an incremental sync typing is sent only when the log shows a typing change for the
 * room in range (`changed.typing`); initial syncs send the current typers. Receipts are read
 * only when the range may hold some (`changed.receipts`: a receipt row for the room in the
 * log slice, or any polylog).
 */
import type { SyncV2Context } from "../../context.js";
import { compileNonRoomEventFilter } from "../../filter-types.js";

export async function roomEphemeral(ctx: SyncV2Context, roomId: string, changed: { typing: boolean; receipts: boolean }): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  // The filter's room.ephemeral: types/not_types (globs) and rooms/not_rooms; these events
  // have no sender, so senders lists are not consulted; limit 0 turns the section off.
  const f = ctx.filter.room?.ephemeral;
  if (f?.limit === 0) return out;
  const { senders: _s, not_senders: _n, ...byType } = f ?? {};
  const allowed = compileNonRoomEventFilter(byType);
  const wants = (type: string) => allowed(type, ctx.userId, roomId);
  if (ctx.deps.typing && (ctx.isInitial || changed.typing) && wants("m.typing")) {
    const users = ctx.deps.typing.typingUsers(roomId);
    if (users.length > 0 || !ctx.isInitial) out.push({ type: "m.typing", content: { user_ids: [...users] } });
  }
  if (!changed.receipts || !wants("m.receipt")) return out;
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
