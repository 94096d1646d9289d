/**
 * The authorization rules of room versions 10 and 11 (spec: rooms/v10 and rooms/v11,
 * "Authorisation rules"): may `event` be accepted given the state it is authorized against?
 *
 * In:  the event; its auth state, already selected (`authEventsNeeded` / `selectAuthState`
 *      for events we build, `buildAuthState` over the listed `auth_events` for received ones);
 *      the room version's rules.
 * Out: allowed, or denied with a reason. Pure: no I/O, no signatures (the caller verifies
 *      those, and refuses auth events that were themselves rejected: rule 2.3).
 *
 * Rule files: create-rules.ts (1), auth-events.ts (2), membership-rules.ts (4),
 * power-levels.ts (7, 9), redactions.ts ("Handling redactions").
 */
import type { Pdu, StateMap } from "../events/pdu.js";
import { isStateEvent } from "../events/pdu.js";
import type { RoomVersion } from "../events/room-versions.js";
import { checkAuthEvents } from "./auth/auth-events.js";
import { CREATE, checkCreate } from "./auth/create-rules.js";
import { MEMBER, THIRD_PARTY_INVITE, checkMembership, membershipOf } from "./auth/membership-rules.js";
import { POWER_LEVELS, checkPowerLevelsChange, namedLevel, powerLevelOf, requiredLevelForEvent } from "./auth/power-levels.js";
import { ALLOW, deny, domainOf, stateEvent, type AuthResult } from "./auth/result.js";

export type { AuthResult } from "./auth/result.js";
export { authEventsNeeded, buildAuthState, selectAuthState, type AuthStateResult } from "./auth/auth-events.js";
export { roomCreator } from "./auth/create-rules.js";
export { joinRuleOf, membershipOf, type Membership } from "./auth/membership-rules.js";
export { namedLevel, powerLevelOf, requiredLevelForEvent } from "./auth/power-levels.js";
export { mayApplyRedaction, mayUserRedact, redactedEventId } from "./auth/redactions.js";

export function checkAuth(event: Pdu, authState: StateMap, version: RoomVersion): AuthResult {
  // 1: the create event stands alone.
  if (event.type === CREATE) return checkCreate(event, version);

  // 2: the auth state is exactly what the selection names, from this room, with a create event.
  const sane = checkAuthEvents(event, authState, version);
  if (!sane.allowed) return sane;
  const create = stateEvent(authState, CREATE);
  if (create === undefined) return deny("no m.room.create event among the auth events"); // 2.4

  // 3: a room created with `m.federate: false` stays on its creator's server. Like
  // Synapse, the target of a membership event is held to it too (no inviting remote users).
  if (create.pdu.content["m.federate"] === false) {
    const home = domainOf(create.pdu.sender);
    if (domainOf(event.sender) !== home) return deny("the room does not federate and the sender is on another server");
    if (event.type === MEMBER && typeof event.state_key === "string" && domainOf(event.state_key) !== home) {
      return deny("the room does not federate and the target user is on another server");
    }
  }

  // 4: membership changes have their own rules and end here.
  if (event.type === MEMBER) return checkMembership(event, authState, version);

  // 5: everything else needs the sender in the room.
  if (membershipOf(event.sender, authState) !== "join") return deny(`${event.sender} is not in the room`);

  // 6: third-party invites need the invite level, and nothing else.
  const senderLevel = powerLevelOf(event.sender, authState, version);
  if (event.type === THIRD_PARTY_INVITE) {
    const inviteLevel = namedLevel("invite", authState);
    if (senderLevel >= inviteLevel) return ALLOW;
    return deny(`inviting needs power level ${inviteLevel}; ${event.sender} has ${senderLevel}`);
  }

  // 7: the event type's required power level (this is also all a redaction needs).
  const required = requiredLevelForEvent(event.type, isStateEvent(event), authState);
  if (required > senderLevel) {
    return deny(`sending ${event.type} needs power level ${required}; ${event.sender} has ${senderLevel}`);
  }

  // 8: a state key naming a user belongs to that user.
  if (typeof event.state_key === "string" && event.state_key.startsWith("@") && event.state_key !== event.sender) {
    return deny("a state key starting with @ must be the sender's own user id");
  }

  // 9: changes to the power levels.
  if (event.type === POWER_LEVELS) return checkPowerLevelsChange(event, authState, version);

  return ALLOW; // 10
}
