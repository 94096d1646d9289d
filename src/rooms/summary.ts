/**
 * What an event changes in the per-room summary (sliding sync sorts and filters on it):
 * the state fields it sets, and whether it bumps the room in recency order.
 */
import type { Pdu } from "../events/pdu.js";
import type { RoomSummaryPatch } from "../storage/rows.js";

/**
 * Event types that move a room up the list (the set Synapse and MSC4186 use for
 * `bump_stamp`): what a person would call "new activity", not every state change.
 */
export const BUMP_EVENT_TYPES: ReadonlySet<string> = new Set([
  "m.room.create",
  "m.room.message",
  "m.room.encrypted",
  "m.sticker",
  "m.call.invite",
  "m.poll.start",
  "m.beacon_info",
]);

const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 ? v : null);

/** The summary fields set by a state event with this content (empty patch for other events). */
export function summaryPatchFor(pdu: Pdu): RoomSummaryPatch {
  if (typeof pdu.state_key !== "string" || pdu.state_key !== "") return {};
  const c = pdu.content;
  switch (pdu.type) {
    case "m.room.create":
      return { roomType: str(c.type) };
    case "m.room.name":
      return { name: str(c.name) };
    case "m.room.canonical_alias":
      return { canonicalAlias: str(c.alias) };
    case "m.room.avatar":
      return { avatarUrl: str(c.url) };
    case "m.room.topic":
      return { topic: str(c.topic) };
    case "m.room.encryption":
      return { encryption: str(c.algorithm) };
    case "m.room.join_rules":
      return { joinRule: str(c.join_rule) };
    case "m.room.history_visibility":
      return { historyVisibility: str(c.history_visibility) };
    case "m.room.guest_access":
      return { guestAccess: str(c.guest_access) };
    default:
      return {};
  }
}

export function bumpsRoom(pdu: Pdu): boolean {
  return BUMP_EVENT_TYPES.has(pdu.type);
}
