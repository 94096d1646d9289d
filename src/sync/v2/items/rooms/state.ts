/**
 * rooms.{join,leave}.*.state (or state_after): the state the client needs besides the
 * timeline.
 *   classic `state` = state at the start of the timeline; for a client that already had the
 *     room, only entries that changed after `since` (non-empty only when the timeline is
 *     limited: otherwise every change is in the timeline);
 *   `state_after` (MSC4222) = state at the end of the timeline, again only changed entries
 *     for a client that had the room.
 * Full state (initial, full_state, newly joined) sends every entry. With lazy-loading, only
 * the membership events of the timeline's senders (and the user's own) are sent.
 */
import type { EventRow } from "../../../../storage/rows.js";
import { asStreamPos } from "../../../../streams/position.js";
import type { SyncV2Context } from "../../context.js";
import type { RoomPlan } from "../../room-plan.js";
import type { TimelineWindow } from "./timeline.js";

export async function roomState(ctx: SyncV2Context, plan: RoomPlan, timeline: TimelineWindow): Promise<EventRow[]> {
  const full = ctx.wantsFullState || plan.newlyJoined;
  const after = ctx.request.stateAfter !== null;
  let at: number;
  if (after) at = plan.end;
  else {
    if (!full && !timeline.limited) return [];
    at = (timeline.rows[0]?.pos ?? plan.end + 1) - 1;
  }
  if (at < 1) return [];
  let rows = await ctx.deps.storage.events.stateAt(plan.roomId, asStreamPos(at));
  if (!full) rows = rows.filter((r) => r.pos > ctx.since!);
  if (ctx.lazyLoadMembers) {
    const needed = new Set<string>([ctx.userId, ...timeline.rows.map((r) => r.pdu.sender)]);
    const all = full ? rows : await ctx.deps.storage.events.stateAt(plan.roomId, asStreamPos(at));
    const members = all.filter((r) => r.pdu.type === "m.room.member" && needed.has(r.pdu.state_key!));
    const inTimeline = new Set(timeline.rows.map((r) => r.eventId));
    rows = [...rows.filter((r) => r.pdu.type !== "m.room.member"), ...members.filter((m) => after || !inTimeline.has(m.eventId))];
    rows = [...new Map(rows.map((r) => [r.eventId, r])).values()].sort((a, b) => a.pos - b.pos);
  }
  return rows.filter((r) => ctx.stateFilter(r.pdu, plan.roomId));
}
