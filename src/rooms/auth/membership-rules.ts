/**
 * Rule 4 of the authorization rules (room versions 10 and 11): `m.room.member` events.
 * "Current membership" always means the membership in the auth state passed in, which is
 * the state before the event.
 */
import type { Pdu, StateMap } from "../../events/pdu.js";
import type { RoomVersion } from "../../events/room-versions.js";
import { CREATE, roomCreator } from "./create-rules.js";
import { namedLevel, powerLevelOf } from "./power-levels.js";
import { ALLOW, deny, isPlainObject, stateEvent, type AuthResult } from "./result.js";

export const MEMBER = "m.room.member";
export const JOIN_RULES = "m.room.join_rules";
export const THIRD_PARTY_INVITE = "m.room.third_party_invite";

export type Membership = "join" | "invite" | "leave" | "ban" | "knock";
const MEMBERSHIPS: ReadonlySet<string> = new Set<Membership>(["join", "invite", "leave", "ban", "knock"]);

/** The user's membership in `state`, or undefined when the state has no member event for them. */
export function membershipOf(userId: string, state: StateMap): Membership | undefined {
  const m = stateEvent(state, MEMBER, userId)?.pdu.content.membership;
  return typeof m === "string" && MEMBERSHIPS.has(m) ? (m as Membership) : undefined;
}

/**
 * The room's join rule. A room without `m.room.join_rules` is treated as `invite` (as
 * Synapse and ruma do); rules the version does not support read as "none" and therefore
 * never let anyone in.
 */
export function joinRuleOf(state: StateMap, version: RoomVersion): string {
  const rule = stateEvent(state, JOIN_RULES)?.pdu.content.join_rule;
  if (typeof rule !== "string") return "invite";
  const supported =
    (rule !== "knock" || version.knock) &&
    (rule !== "restricted" || version.restricted) &&
    (rule !== "knock_restricted" || version.knockRestricted);
  return supported ? rule : "none";
}

/** Rule 4: an `m.room.member` event. */
export function checkMembership(event: Pdu, state: StateMap, version: RoomVersion): AuthResult {
  // 4.1: a member event names its target and a membership.
  if (typeof event.state_key !== "string") return deny("a member event needs a state_key");
  const membership = event.content.membership;
  if (typeof membership !== "string") return deny("a member event needs content.membership");
  // 4.2 (the event is signed by the server of `join_authorised_via_users_server`) is a
  // signature check: the caller verifies signatures before asking for authorization.
  switch (membership) {
    case "join":
      return checkJoin(event, event.state_key, state, version);
    case "invite":
      return checkInvite(event, event.state_key, state, version);
    case "leave":
      return checkLeave(event, event.state_key, state, version);
    case "ban":
      return checkBan(event, event.state_key, state, version);
    case "knock":
      if (version.knock) return checkKnock(event, event.state_key, state, version);
      break;
  }
  return deny(`unknown membership ${JSON.stringify(membership)}`); // 4.8
}

/** Rule 4.3: `join`. */
function checkJoin(event: Pdu, target: string, state: StateMap, version: RoomVersion): AuthResult {
  // 4.3.1: the creator's own join straight after the create event (the creator is
  // `content.creator` in v10, the create event's sender in v11).
  const create = stateEvent(state, CREATE);
  const followsCreateOnly = event.prev_events.length === 1 && event.prev_events[0] === create?.eventId;
  if (create !== undefined && followsCreateOnly && roomCreator(create.pdu, version) === target) return ALLOW;

  // 4.3.2: nobody joins on someone else's behalf.
  if (event.sender !== target) return deny("cannot join a room on behalf of another user");

  // 4.3.3
  const current = membershipOf(event.sender, state);
  if (current === "ban") return deny(`${event.sender} is banned from the room`);

  const rule = joinRuleOf(state, version);
  const isInvitedOrJoined = current === "invite" || current === "join";

  // 4.3.4: invite-only and knock rooms admit the invited (and the already joined).
  if (rule === "invite" || rule === "knock") {
    return isInvitedOrJoined ? ALLOW : deny(`the room's join rule is ${rule} and ${event.sender} is not invited`);
  }

  // 4.3.5: restricted rooms admit the invited, or a join vouched for by a joined member who
  // may invite (`join_authorised_via_users_server`).
  if (rule === "restricted" || rule === "knock_restricted") {
    if (isInvitedOrJoined) return ALLOW; // 4.3.5.1
    const via = event.content.join_authorised_via_users_server;
    if (typeof via !== "string") return deny("a join to a restricted room needs join_authorised_via_users_server");
    // 4.3.5.2
    if (membershipOf(via, state) !== "join") return deny(`${via} is not joined to the room, so cannot authorise joins`);
    if (powerLevelOf(via, state, version) < namedLevel("invite", state)) {
      return deny(`${via} may not invite, so cannot authorise joins`);
    }
    return ALLOW; // 4.3.5.3
  }

  if (rule === "public") return ALLOW; // 4.3.6
  return deny(`the room's join rule ${JSON.stringify(rule)} does not allow joining`); // 4.3.7
}

/** Rule 4.4: `invite`. */
function checkInvite(event: Pdu, target: string, state: StateMap, version: RoomVersion): AuthResult {
  // 4.4.1: an invite that redeems a third-party invite follows its own rules.
  if (Object.hasOwn(event.content, "third_party_invite")) return checkThirdPartyInvite(event, target, state);

  // 4.4.2
  if (membershipOf(event.sender, state) !== "join") return deny(`${event.sender} is not in the room, so cannot invite`);
  // 4.4.3
  const targetMembership = membershipOf(target, state);
  if (targetMembership === "join") return deny(`${target} is already in the room`);
  if (targetMembership === "ban") return deny(`${target} is banned from the room`);
  // 4.4.4, 4.4.5
  const senderLevel = powerLevelOf(event.sender, state, version);
  const inviteLevel = namedLevel("invite", state);
  if (senderLevel >= inviteLevel) return ALLOW;
  return deny(`inviting needs power level ${inviteLevel}; ${event.sender} has ${senderLevel}`);
}

/**
 * Rule 4.4.1: an invite carrying `third_party_invite`. Steps 1–6 are checked; step 7 needs
 * the ed25519 signatures in `signed` verified against the keys of the
 * `m.room.third_party_invite` event, which this server does not do yet, so an invite that
 * passes 1–6 is refused with that reason rather than allowed unverified.
 */
function checkThirdPartyInvite(event: Pdu, target: string, state: StateMap): AuthResult {
  if (membershipOf(target, state) === "ban") return deny(`${target} is banned from the room`); // 4.4.1.1
  const thirdParty = event.content.third_party_invite;
  const signed = isPlainObject(thirdParty) ? thirdParty.signed : undefined;
  if (!isPlainObject(signed)) return deny("third_party_invite has no signed object"); // 4.4.1.2
  const { mxid, token } = signed;
  if (typeof mxid !== "string" || typeof token !== "string") {
    return deny("third_party_invite.signed needs mxid and token"); // 4.4.1.3
  }
  if (mxid !== target) return deny("third_party_invite.signed.mxid does not match the invited user"); // 4.4.1.4
  const original = stateEvent(state, THIRD_PARTY_INVITE, token);
  if (original === undefined) return deny("no m.room.third_party_invite matches the token"); // 4.4.1.5
  if (original.pdu.sender !== event.sender) {
    return deny("the sender did not send the matching m.room.third_party_invite"); // 4.4.1.6
  }
  return deny("third-party invite signatures are not verified by this server"); // 4.4.1.7, 4.4.1.8
}

/** Rule 4.5: `leave` (leaving, rejecting an invite, retracting a knock, kicking, unbanning). */
function checkLeave(event: Pdu, target: string, state: StateMap, version: RoomVersion): AuthResult {
  const senderMembership = membershipOf(event.sender, state);
  // 4.5.1: one's own leave is allowed from invite, join or knock, and from nothing else
  // (a banned user cannot lift their own ban).
  if (event.sender === target) {
    const mayLeave = senderMembership === "invite" || senderMembership === "join" || senderMembership === "knock";
    return mayLeave ? ALLOW : deny(`cannot leave with current membership ${senderMembership ?? "none"}`);
  }
  // 4.5.2
  if (senderMembership !== "join") return deny(`${event.sender} is not in the room`);

  const senderLevel = powerLevelOf(event.sender, state, version);
  const targetLevel = powerLevelOf(target, state, version);
  // 4.5.3: lifting a ban needs the ban level as well.
  const banLevel = namedLevel("ban", state);
  if (membershipOf(target, state) === "ban" && senderLevel < banLevel) {
    return deny(`unbanning needs power level ${banLevel}; ${event.sender} has ${senderLevel}`);
  }
  // 4.5.4, 4.5.5: kick level, and strictly above the target.
  const kickLevel = namedLevel("kick", state);
  if (senderLevel < kickLevel) return deny(`kicking needs power level ${kickLevel}; ${event.sender} has ${senderLevel}`);
  if (targetLevel >= senderLevel) return deny(`cannot kick ${target}: their power level is not below yours`);
  return ALLOW;
}

/** Rule 4.6: `ban`. */
function checkBan(event: Pdu, target: string, state: StateMap, version: RoomVersion): AuthResult {
  if (membershipOf(event.sender, state) !== "join") return deny(`${event.sender} is not in the room`); // 4.6.1
  // 4.6.2, 4.6.3: ban level, and strictly above the target.
  const senderLevel = powerLevelOf(event.sender, state, version);
  const banLevel = namedLevel("ban", state);
  if (senderLevel < banLevel) return deny(`banning needs power level ${banLevel}; ${event.sender} has ${senderLevel}`);
  if (powerLevelOf(target, state, version) >= senderLevel) {
    return deny(`cannot ban ${target}: their power level is not below yours`);
  }
  return ALLOW;
}

/** Rule 4.7: `knock`. */
function checkKnock(event: Pdu, target: string, state: StateMap, version: RoomVersion): AuthResult {
  const rule = joinRuleOf(state, version);
  if (rule !== "knock" && rule !== "knock_restricted") return deny(`the room's join rule ${rule} does not allow knocking`); // 4.7.1
  if (event.sender !== target) return deny("cannot knock on behalf of another user"); // 4.7.2
  // 4.7.3, 4.7.4
  const current = membershipOf(event.sender, state);
  if (current === "ban" || current === "invite" || current === "join") {
    return deny(`cannot knock with current membership ${current}`);
  }
  return ALLOW;
}
