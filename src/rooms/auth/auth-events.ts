/**
 * Which state an event is authorized against: the spec's "auth events selection"
 * (server-server API), building the auth state from the events an event lists (rule 2.1),
 * and the sanity rules 2.2, 2.4 and 2.5 over what a caller hands to `checkAuth`.
 */
import type { Pdu, StateMap, StoredPdu } from "../../events/pdu.js";
import { stateKeyOf, type StateKey } from "../../events/pdu.js";
import type { RoomVersion } from "../../events/room-versions.js";
import { CREATE } from "./create-rules.js";
import { JOIN_RULES, MEMBER, THIRD_PARTY_INVITE } from "./membership-rules.js";
import { POWER_LEVELS } from "./power-levels.js";
import { ALLOW, deny, isPlainObject, type AuthResult } from "./result.js";

/**
 * The (type, state_key) pairs an event's `auth_events` should name: none for the create
 * event; otherwise the create event, the power levels, the sender's membership and, for
 * member events, the target's membership, the join rules (join/invite/knock), the
 * third-party invite a `third_party_invite` redeems, and the member event of the user in
 * `join_authorised_via_users_server` (joins, in versions with restricted rooms).
 * `version` defaults to one with restricted rooms (every version Sluice serves).
 */
export function authEventsNeeded(
  type: string,
  stateKey: string | undefined,
  sender: string,
  content: Record<string, unknown>,
  version?: RoomVersion,
): Array<[type: string, stateKey: string]> {
  if (type === CREATE) return [];
  const needed: Array<[string, string]> = [[CREATE, ""], [POWER_LEVELS, ""], [MEMBER, sender]];
  if (type === MEMBER && typeof stateKey === "string") {
    const membership = content.membership;
    needed.push([MEMBER, stateKey]);
    if (membership === "join" || membership === "invite" || membership === "knock") needed.push([JOIN_RULES, ""]);
    const thirdParty = content.third_party_invite;
    const signed = isPlainObject(thirdParty) ? thirdParty.signed : undefined;
    if (membership === "invite" && isPlainObject(signed) && typeof signed.token === "string") {
      needed.push([THIRD_PARTY_INVITE, signed.token]);
    }
    const via = content.join_authorised_via_users_server;
    if (membership === "join" && typeof via === "string" && (version?.restricted ?? true)) needed.push([MEMBER, via]);
  }
  const seen = new Set<StateKey>();
  return needed.filter(([t, k]) => {
    const key = stateKeyOf(t, k);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function neededKeys(event: Pdu, version: RoomVersion): Set<StateKey> {
  const pairs = authEventsNeeded(event.type, event.state_key, event.sender, event.content, version);
  return new Set(pairs.map(([t, k]) => stateKeyOf(t, k)));
}

/** The part of `state` that `event` is authorized against (for events this server builds). */
export function selectAuthState(event: Pdu, state: StateMap, version: RoomVersion): StateMap {
  const selected = new Map<StateKey, StoredPdu>();
  for (const key of neededKeys(event, version)) {
    const entry = state.get(key);
    if (entry !== undefined) selected.set(key, entry);
  }
  return selected;
}

export type AuthStateResult = { allowed: true; state: StateMap } | { allowed: false; reason: string };

/**
 * The auth state made of the events an event's `auth_events` name (fetched by the caller,
 * which also refuses any of them that were rejected: rule 2.3).
 */
export function buildAuthState(authEvents: readonly StoredPdu[]): AuthStateResult {
  const state = new Map<StateKey, StoredPdu>();
  for (const entry of authEvents) {
    if (typeof entry.pdu.state_key !== "string") return { allowed: false, reason: `auth event ${entry.eventId} is not a state event` };
    const key = stateKeyOf(entry.pdu.type, entry.pdu.state_key);
    // 2.1: at most one entry per (type, state_key).
    if (state.has(key)) {
      return { allowed: false, reason: `duplicate auth events for (${entry.pdu.type}, ${JSON.stringify(entry.pdu.state_key)})` };
    }
    state.set(key, entry);
  }
  return { allowed: true, state };
}

/** Rules 2.2, 2.4 and 2.5 over the auth state of a (non-create) event. */
export function checkAuthEvents(event: Pdu, authState: StateMap, version: RoomVersion): AuthResult {
  const needed = neededKeys(event, version);
  for (const [key, entry] of authState) {
    const { type, state_key: stateKey } = entry.pdu;
    if (typeof stateKey !== "string" || stateKeyOf(type, stateKey) !== key) {
      return deny(`auth event ${entry.eventId} is filed under the wrong (type, state_key)`);
    }
    // 2.2: only what the auth events selection names.
    if (!needed.has(key)) return deny(`unexpected auth event (${type}, ${JSON.stringify(stateKey)})`);
    // 2.5: all from this room.
    if (entry.pdu.room_id !== event.room_id) return deny(`auth event ${entry.eventId} belongs to another room`);
  }
  // 2.4: the create event is always among them.
  if (!authState.has(stateKeyOf(CREATE, ""))) return deny("no m.room.create event among the auth events");
  return ALLOW;
}
