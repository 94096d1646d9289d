/**
 * Rule 1 of the authorization rules (room versions 10 and 11): the `m.room.create` event,
 * and who "the creator" is in each version.
 */
import type { Pdu } from "../../events/pdu.js";
import { roomVersion, type RoomVersion } from "../../events/room-versions.js";
import { ALLOW, deny, domainOf, type AuthResult } from "./result.js";

export const CREATE = "m.room.create";

/**
 * The room's creator: `content.creator` up to v10, the `sender` from v11. Without a
 * `version`, the create event's own `content.room_version` decides (absent means "1").
 */
export function roomCreator(create: Pdu, version?: RoomVersion): string | undefined {
  const creator = typeof create.content.creator === "string" ? create.content.creator : undefined;
  const declared = create.content.room_version;
  const rules = version ?? roomVersion(typeof declared === "string" ? declared : "1");
  if (rules === undefined) return creator ?? create.sender; // a version we do not know: best effort
  return rules.createHasCreator ? creator : create.sender;
}

/** Rule 1: an `m.room.create` event. Nothing later in the rules applies to it. */
export function checkCreate(event: Pdu, version: RoomVersion): AuthResult {
  // 1.1: the first event of the room has no previous events.
  if (event.prev_events.length > 0) return deny("the create event must not have prev_events");

  // 1.2: the room id is minted by the creator's server (until room ids derive from the event).
  if (!version.roomIdFromCreateEvent) {
    if (typeof event.room_id !== "string") return deny("the create event has no room_id");
    if (domainOf(event.room_id) !== domainOf(event.sender)) {
      return deny("the room id's domain does not match the sender's domain");
    }
  }

  // 1.3: a declared room version must be one we recognise.
  const declared = event.content.room_version;
  if (declared !== undefined && (typeof declared !== "string" || roomVersion(declared) === undefined)) {
    return deny(`unrecognised room version ${JSON.stringify(declared)}`);
  }

  // 1.4 (up to v10): the content names the creator. v11 dropped the property.
  if (version.createHasCreator && !Object.hasOwn(event.content, "creator")) {
    return deny("the create event has no creator");
  }

  return ALLOW; // 1.4 (v11) / 1.5 (v10)
}
