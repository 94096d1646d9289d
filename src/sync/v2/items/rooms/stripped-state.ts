/**
 * invite_state / knock_state: the stripped state events a client shows for a room it is
 * invited to or knocking on (spec "Stripped state": type, state_key, content, sender), taken
 * just after the membership event, which is included itself.
 */
import type { SyncV2Context } from "../../context.js";
import type { RoomPlan } from "../../room-plan.js";
import type { StrippedEvent } from "../../response.js";

const STRIPPED_TYPES = new Set([
  "m.room.create",
  "m.room.join_rules",
  "m.room.name",
  "m.room.avatar",
  "m.room.canonical_alias",
  "m.room.encryption",
  "m.room.topic",
]);

export async function strippedState(ctx: SyncV2Context, plan: RoomPlan): Promise<StrippedEvent[]> {
  const state = await ctx.deps.storage.events.stateAt(plan.roomId, plan.membership.pos);
  // Clients show who invited them from the inviter's own member event.
  const inviter = state.find((r) => r.eventId === plan.membership.eventId)?.pdu.sender;
  return state
    .filter((r) => STRIPPED_TYPES.has(r.pdu.type) || r.eventId === plan.membership.eventId || (r.pdu.type === "m.room.member" && r.pdu.state_key === inviter))
    .map((r) => ({ type: r.pdu.type, state_key: r.pdu.state_key!, content: r.pdu.content, sender: r.pdu.sender }));
}
