/**
 * rooms.{join,leave}.*.state (or state_after): the state the client needs besides the
 * timeline.
 *   classic `state` = state at the start of the timeline; for a client that already had the
 *     room, only entries that changed after `since` (non-empty only when the timeline is
 *     limited: otherwise every change is in the timeline);
 *   `state_after` (MSC4222) = state at the end of the timeline, again only changed entries
 *     for a client that had the room.
 * Full state (initial, full_state, newly joined) sends every entry.
 * Lazy-loading members (spec "Lazy-loading room members", sync.yaml): member events are
 * limited to those of the timeline's senders, the user's own on full state, and the heroes'
 * when the room needs heroes (full state or a gap). A limited incremental sync keeps every
 * membership change of the gap, as the spec requires. Without `include_redundant_members`,
 * an incremental sync then leaves out the member events the device already received
 * (sent-members.ts); full state (initial, full_state, newly joined) leaves out nothing.
 */
import type { EventRow } from "../../../../storage/rows.js";
import { asStreamPos, type StreamPos } from "../../../../streams/position.js";
import type { SyncV2Context } from "../../context.js";
import type { MembersSentView } from "../../sent-members.js";
import type { RoomPlan } from "../../room-plan.js";
import type { TimelineWindow } from "./timeline.js";

export async function roomState(ctx: SyncV2Context, plan: RoomPlan, timeline: TimelineWindow): Promise<EventRow[]> {
  const full = ctx.wantsFullState || plan.newlyJoined;
  const after = ctx.request.stateAfter !== null;
  const at = after ? plan.end : (timeline.rows[0]?.pos ?? plan.end + 1) - 1;
  let rows: EventRow[] = [];
  if (after) {
    if (at >= 1) rows = await ctx.deps.storage.events.stateAt(plan.roomId, asStreamPos(at));
  } else if (full || timeline.limited || ctx.timelineFiltered) {
    // Without a gap or a filter, classic `state` has nothing to say (every change is in the timeline)…
    rows = await classicState(ctx, plan, timeline, at);
  }
  if (!full) rows = rows.filter((r) => r.pos > ctx.since!);
  if (ctx.lazyLoadMembers && at >= 1) {
    // …but with lazy-loading the senders' memberships are owed whatever happened.
    rows = await lazyMembers(ctx, plan, timeline, rows, asStreamPos(at), full);
  }
  rows = rows.filter((r) => ctx.stateFilter(r.pdu, plan.roomId));
  const sent = ctx.lazyLoadMembers ? ctx.membersSent() : null;
  return sent ? withoutMembersSent(ctx, sent, plan.roomId, timeline, rows, full) : rows;
}

/**
 * Without `include_redundant_members`, leaves out the member events the device already has
 * (never in full state: a newly joined room may have been forgotten by the client). Then
 * remembers the ones this response gives it: those in the state sent, and with classic
 * `state` those in the timeline too (the client applies them; with state_after it takes
 * state from state_after only). Not with `event_fields`, which may cut their content.
 */
function withoutMembersSent(ctx: SyncV2Context, sent: MembersSentView, roomId: string, timeline: TimelineWindow, rows: EventRow[], full: boolean): EventRow[] {
  const isMember = (r: EventRow) => r.pdu.type === "m.room.member" && r.pdu.state_key !== undefined;
  const leaveOut = !full && !ctx.includeRedundantMembers;
  const kept = leaveOut ? rows.filter((r) => !isMember(r) || !sent.has(roomId, r.pdu.state_key!, r.eventId)) : rows;
  if (ctx.filter.event_fields?.length) return kept;
  // In the client's order (state, then the timeline), so the member's last event wins.
  const given = ctx.request.stateAfter !== null ? kept : [...kept, ...timeline.rows];
  for (const r of given) if (isMember(r)) sent.add(roomId, r.pdu.state_key!, r.eventId);
  return kept;
}

/**
 * Classic `state`: the state at the timeline's start — except for entries the window changed
 * out of the timeline (events the filter rejected): for those the client would never see the
 * change, so the entry as of the timeline's end is sent instead (Synapse's
 * "state at start ∪ state at end − timeline", with the end winning where they differ).
 * Entries the timeline itself carries are not repeated.
 */
async function classicState(ctx: SyncV2Context, plan: RoomPlan, timeline: TimelineWindow, start: number): Promise<EventRow[]> {
  const atStart = start >= 1 ? await ctx.deps.storage.events.stateAt(plan.roomId, asStreamPos(start)) : [];
  const inTimeline = new Set(timeline.rows.map((r) => r.eventId));
  const key = (r: EventRow) => `${r.pdu.type}\u0000${r.pdu.state_key}`;
  const byKey = new Map(atStart.map((r) => [key(r), r]));
  if (ctx.timelineFiltered && timeline.rows.length > 0) {
    const lastShown = new Map<string, string>();
    for (const r of timeline.rows) if (r.pdu.state_key !== undefined) lastShown.set(key(r), r.eventId);
    for (const r of await ctx.deps.storage.events.stateAt(plan.roomId, plan.end)) {
      const k = key(r);
      if (byKey.get(k)?.eventId !== r.eventId && lastShown.get(k) !== r.eventId) byKey.set(k, r);
    }
  }
  return [...byKey.values()].filter((r) => !inTimeline.has(r.eventId)).sort((a, b) => a.pos - b.pos);
}

async function lazyMembers(ctx: SyncV2Context, plan: RoomPlan, timeline: TimelineWindow, rows: EventRow[], at: StreamPos, full: boolean): Promise<EventRow[]> {
  const needed = new Set<string>(timeline.rows.map((r) => r.pdu.sender));
  if (full) needed.add(ctx.userId);
  if (full || timeline.limited) for (const h of await heroes(ctx, plan.roomId)) needed.add(h);
  // A gap's membership changes stay even for users who sent nothing shown (spec: MUST).
  const keepAllChanges = !full && timeline.limited;
  const inTimeline = new Set(timeline.rows.map((r) => r.eventId));
  const after = ctx.request.stateAfter !== null;
  // With state_after the client ignores the timeline's state: a member event it carries stays.
  const kept = rows.filter((r) => r.pdu.type !== "m.room.member" || keepAllChanges || needed.has(r.pdu.state_key!) || (after && inTimeline.has(r.eventId)));
  const have = new Set(kept.filter((r) => r.pdu.type === "m.room.member").map((r) => r.pdu.state_key!));
  for (const userId of needed) {
    if (have.has(userId)) continue;
    const member = await ctx.deps.storage.events.stateEntryAt(plan.roomId, "m.room.member", userId, at);
    // Classic state describes the timeline's start; a member event the timeline carries is not repeated.
    if (member && (after || !inTimeline.has(member.eventId))) kept.push(member);
  }
  return kept.sort((a, b) => a.pos - b.pos);
}

/** The heroes the summary names when the room has neither name nor canonical alias. */
async function heroes(ctx: SyncV2Context, roomId: string): Promise<string[]> {
  const s = await ctx.deps.storage.rooms.summary(roomId);
  if (!s || s.name || s.canonicalAlias) return [];
  return s.heroes.filter((u) => u !== ctx.userId).slice(0, 5);
}
