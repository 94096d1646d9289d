/**
 * Redactions in room versions 10 and 11. The authorization rules treat `m.room.redaction`
 * like any other event (rule 7 through `events` / `events_default`; the redact level plays no
 * part there). Whether a redaction that passed them is *applied* is the spec's "Handling
 * redactions" check (v3+), made once both events are known: here.
 */
import type { Pdu, StateMap } from "../../events/pdu.js";
import type { RoomVersion } from "../../events/room-versions.js";
import { namedLevel, powerLevelOf } from "./power-levels.js";
import { ALLOW, deny, domainOf, type AuthResult } from "./result.js";

export const REDACTION = "m.room.redaction";

/** The id of the event a redaction targets: top-level `redacts` up to v10, `content.redacts` from v11. */
export function redactedEventId(redaction: Pdu, version: RoomVersion): string | undefined {
  const redacts = version.redactsInContent ? redaction.content.redacts : redaction.redacts;
  return typeof redacts === "string" ? redacts : undefined;
}

/**
 * "Handling redactions": apply the redaction if its sender has the redact level, or if the
 * sender's server is the original event's sender's server. `state` is the room state at the
 * redaction.
 */
export function mayApplyRedaction(redaction: Pdu, original: Pdu, state: StateMap, version: RoomVersion): AuthResult {
  if (original.room_id !== redaction.room_id) return deny("the redacted event is in another room");
  const senderLevel = powerLevelOf(redaction.sender, state, version);
  const redactLevel = namedLevel("redact", state);
  if (senderLevel >= redactLevel) return ALLOW; // condition 1
  if (domainOf(redaction.sender) === domainOf(original.sender)) return ALLOW; // condition 2
  return deny(`redacting another server's event needs power level ${redactLevel}; ${redaction.sender} has ${senderLevel}`);
}

/**
 * What a local client may redact (stricter than the federation check, as Synapse): its own
 * events, or anyone's with the redact level. A server vouches for its own users, so
 * "same domain" is narrowed to "same user" here.
 */
export function mayUserRedact(redaction: Pdu, original: Pdu, state: StateMap, version: RoomVersion): AuthResult {
  if (original.room_id !== redaction.room_id) return deny("the redacted event is in another room");
  if (original.sender === redaction.sender) return ALLOW;
  const senderLevel = powerLevelOf(redaction.sender, state, version);
  const redactLevel = namedLevel("redact", state);
  if (senderLevel >= redactLevel) return ALLOW;
  return deny(`redacting other users' events needs power level ${redactLevel}; ${redaction.sender} has ${senderLevel}`);
}
