/**
 * The server-default push rules of the current spec (v1.17, "Predefined Rules"), for one user.
 * In:  the user's id (`.m.rule.invite_for_me` and `.m.rule.is_user_mention` name it).
 * Out: a fresh Ruleset per call (callers may mutate it): override, content, room, sender,
 *      underride, each in the spec's order. `.m.rule.master` comes first and stays above
 *      every user-defined rule; every other default sits below the user's rules of its kind.
 * Spec decisions: v1.17 removed the legacy body-matching mention rules
 *      (`.m.rule.contains_display_name`, `.m.rule.contains_user_name`, `.m.rule.roomnotif`),
 *      so mentions come from `m.mentions` only and there are no default content rules.
 *      The historical `dont_notify` action is written as an empty action list.
 */
import type { PushAction, PushCondition, PushRule, Ruleset } from "./push-rule.js";

const NOTIFY: PushAction = "notify";
const SOUND_DEFAULT: PushAction = { set_tweak: "sound", value: "default" };
const SOUND_RING: PushAction = { set_tweak: "sound", value: "ring" };
const HIGHLIGHT: PushAction = { set_tweak: "highlight" };

function rule(ruleId: string, conditions: PushCondition[], actions: PushAction[], enabled = true): PushRule {
  return { rule_id: ruleId, default: true, enabled, conditions, actions };
}

const typeIs = (type: string): PushCondition => ({ kind: "event_match", key: "type", pattern: type });
const emptyStateKey: PushCondition = { kind: "event_match", key: "state_key", pattern: "" };
const oneToOne: PushCondition = { kind: "room_member_count", is: "2" };

/** `.m.rule.master`: matches everything; disabled unless the user turns notifications off. */
export const MASTER_RULE_ID = ".m.rule.master";

/** The override defaults below the user's own override rules (master excluded). */
function overrideDefaults(userId: string): PushRule[] {
  return [
    rule(".m.rule.suppress_notices", [{ kind: "event_match", key: "content.msgtype", pattern: "m.notice" }], []),
    rule(
      ".m.rule.invite_for_me",
      [typeIs("m.room.member"), { kind: "event_match", key: "content.membership", pattern: "invite" }, { kind: "event_match", key: "state_key", pattern: userId }],
      [NOTIFY, SOUND_DEFAULT],
    ),
    rule(".m.rule.member_event", [typeIs("m.room.member")], []),
    rule(".m.rule.is_user_mention", [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: userId }], [NOTIFY, SOUND_DEFAULT, HIGHLIGHT]),
    rule(
      ".m.rule.is_room_mention",
      [{ kind: "event_property_is", key: "content.m\\.mentions.room", value: true }, { kind: "sender_notification_permission", key: "room" }],
      [NOTIFY, HIGHLIGHT],
    ),
    rule(".m.rule.tombstone", [typeIs("m.room.tombstone"), emptyStateKey], [NOTIFY, HIGHLIGHT]),
    rule(".m.rule.reaction", [typeIs("m.reaction")], []),
    rule(".m.rule.room.server_acl", [typeIs("m.room.server_acl"), emptyStateKey], []),
    rule(".m.rule.suppress_edits", [{ kind: "event_property_is", key: "content.m\\.relates_to.rel_type", value: "m.replace" }], []),
  ];
}

function underrideDefaults(): PushRule[] {
  return [
    rule(".m.rule.call", [typeIs("m.call.invite")], [NOTIFY, SOUND_RING]),
    rule(".m.rule.encrypted_room_one_to_one", [oneToOne, typeIs("m.room.encrypted")], [NOTIFY, SOUND_DEFAULT]),
    rule(".m.rule.room_one_to_one", [oneToOne, typeIs("m.room.message")], [NOTIFY, SOUND_DEFAULT]),
    rule(".m.rule.message", [typeIs("m.room.message")], [NOTIFY]),
    rule(".m.rule.encrypted", [typeIs("m.room.encrypted")], [NOTIFY]),
  ];
}

/** The master rule on its own (it is placed above user rules, so it is kept apart). */
export function masterRule(): PushRule {
  return rule(MASTER_RULE_ID, [], [], false);
}

/**
 * Every server-default rule for `userId`, by kind, in evaluation order. `override` starts
 * with `.m.rule.master`; content, room and sender have no defaults.
 */
export function defaultRules(userId: string): Ruleset {
  return {
    override: [masterRule(), ...overrideDefaults(userId)],
    content: [],
    room: [],
    sender: [],
    underride: underrideDefaults(),
  };
}
