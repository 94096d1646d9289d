/**
 * Push rule evaluation against the spec's own rule descriptions (client-server API,
 * "Push Rules": conditions, predefined rules) as a table: each case names the event, the
 * recipient and room, the user's changes to their rules, and the rule that must decide.
 * Rulesets are built the way the server builds them (defaults merged with a stored
 * document), so the table also checks the order of the merged ruleset.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { conditionMatches, evaluatePushRules, type PushContext, type PushEvent } from "../../../src/push/evaluator.js";
import { defaultRules } from "../../../src/push/default-rules.js";
import { changeRule, emptyDocument, mergeRuleset, putRule, type RulesDocument } from "../../../src/push/rules-document.js";
import type { PushCondition, RuleKind } from "../../../src/push/push-rule.js";

const ALICE = "@alice:example.org";
const BOB = "@bob:example.org";
const ROOM = "!room:example.org";
const OTHER_ROOM = "!other:example.org";

function message(content: Record<string, unknown>, extra: Record<string, unknown> = {}): PushEvent {
  return { type: "m.room.message", sender: BOB, room_id: ROOM, content: { msgtype: "m.text", body: "hello", ...content }, ...extra };
}
function event(type: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}): PushEvent {
  return { type, sender: BOB, room_id: ROOM, content, ...extra };
}

type Edit = (doc: RulesDocument) => RulesDocument;
const customRule = (kind: RuleKind, ruleId: string, rule: { actions: unknown[]; conditions?: PushCondition[]; pattern?: string }): Edit =>
  (doc) => putRule(doc, kind, ruleId, rule as never, {});
const setEnabled = (kind: RuleKind, ruleId: string, enabled: boolean): Edit => (doc) => changeRule(doc, ALICE, kind, ruleId, { enabled });
const setActions = (kind: RuleKind, ruleId: string, actions: unknown[]): Edit => (doc) => changeRule(doc, ALICE, kind, ruleId, { actions: actions as never });

interface Case {
  name: string;
  event: PushEvent;
  ctx?: Partial<PushContext>;
  edits?: Edit[];
  /** The deciding rule (null: none matched). */
  rule: string | null;
  notify: boolean;
  highlight?: boolean;
  /** A tweak the actions must carry, e.g. ["sound", "ring"]. */
  tweak?: [string, unknown];
}

const baseCtx: PushContext = { userId: ALICE, displayName: "Alice", memberCount: 3, senderPowerLevel: 0, notificationLevels: {} };

const CASES: Case[] = [
  // Underride defaults: messages, one-to-one rooms, encryption, calls.
  { name: "a message in a group room notifies without sound", event: message({}), rule: ".m.rule.message", notify: true, highlight: false },
  { name: "a message in a room of exactly two members is a one-to-one message", event: message({}), ctx: { memberCount: 2 }, rule: ".m.rule.room_one_to_one", notify: true, tweak: ["sound", "default"] },
  { name: "a room of one member is not one-to-one", event: message({}), ctx: { memberCount: 1 }, rule: ".m.rule.message", notify: true },
  { name: "an encrypted event in a one-to-one room", event: event("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2" }), ctx: { memberCount: 2 }, rule: ".m.rule.encrypted_room_one_to_one", notify: true, tweak: ["sound", "default"] },
  { name: "an encrypted event in a group room", event: event("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2" }), rule: ".m.rule.encrypted", notify: true, highlight: false },
  { name: "a VoIP call invite rings", event: event("m.call.invite", { call_id: "c", version: 1 }), rule: ".m.rule.call", notify: true, tweak: ["sound", "ring"] },
  { name: "an event no rule knows about does not notify", event: event("org.example.custom", { body: "hi" }), rule: null, notify: false },

  // Override defaults.
  { name: "notices are suppressed", event: message({ msgtype: "m.notice" }), ctx: { memberCount: 2 }, rule: ".m.rule.suppress_notices", notify: false },
  { name: "an invite for me notifies with sound", event: event("m.room.member", { membership: "invite" }, { state_key: ALICE }), rule: ".m.rule.invite_for_me", notify: true, tweak: ["sound", "default"] },
  { name: "an invite for someone else is just a member event", event: event("m.room.member", { membership: "invite" }, { state_key: "@carol:example.org" }), rule: ".m.rule.member_event", notify: false },
  { name: "a join is a member event and does not notify", event: event("m.room.member", { membership: "join" }, { state_key: BOB }), ctx: { memberCount: 2 }, rule: ".m.rule.member_event", notify: false },
  { name: "m.mentions.user_ids naming me highlights", event: message({ "m.mentions": { user_ids: [ALICE] } }), rule: ".m.rule.is_user_mention", notify: true, highlight: true, tweak: ["sound", "default"] },
  { name: "m.mentions.user_ids naming someone else does not", event: message({ "m.mentions": { user_ids: [BOB, "@carol:example.org"] } }), rule: ".m.rule.message", notify: true, highlight: false },
  { name: "m.mentions.user_ids that is not an array never matches", event: message({ "m.mentions": { user_ids: ALICE } }), rule: ".m.rule.message", notify: true, highlight: false },
  { name: "a notice that mentions me is suppressed: suppress_notices ranks above is_user_mention", event: message({ msgtype: "m.notice", "m.mentions": { user_ids: [ALICE] } }), rule: ".m.rule.suppress_notices", notify: false },
  { name: "@room by a sender with the room notification level (default 50) highlights", event: message({ body: "@room", "m.mentions": { room: true } }), ctx: { senderPowerLevel: 50 }, rule: ".m.rule.is_room_mention", notify: true, highlight: true },
  { name: "@room by a sender below the level is an ordinary message", event: message({ body: "@room", "m.mentions": { room: true } }), ctx: { senderPowerLevel: 49 }, rule: ".m.rule.message", notify: true, highlight: false },
  { name: "@room honours notifications.room from the power levels", event: message({ "m.mentions": { room: true } }), ctx: { senderPowerLevel: 0, notificationLevels: { room: 0 } }, rule: ".m.rule.is_room_mention", notify: true, highlight: true },
  { name: "m.mentions.room must be the boolean true, not a string", event: message({ "m.mentions": { room: "true" } }), ctx: { senderPowerLevel: 100 }, rule: ".m.rule.message", notify: true, highlight: false },
  { name: "a body saying @room without m.mentions does not highlight (legacy rule removed in v1.17)", event: message({ body: "@room look" }), ctx: { senderPowerLevel: 100 }, rule: ".m.rule.message", notify: true, highlight: false },
  { name: "my display name in the body does not highlight by default (legacy rule removed in v1.17)", event: message({ body: "hey Alice!" }), rule: ".m.rule.message", notify: true, highlight: false },
  { name: "a tombstone highlights", event: event("m.room.tombstone", { body: "upgraded", replacement_room: OTHER_ROOM }, { state_key: "" }), rule: ".m.rule.tombstone", notify: true, highlight: true },
  { name: "a tombstone that is not a state event is not one", event: event("m.room.tombstone", { replacement_room: OTHER_ROOM }), rule: null, notify: false },
  { name: "reactions are silent, even one-to-one", event: event("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: "$x", key: "👍" } }), ctx: { memberCount: 2 }, rule: ".m.rule.reaction", notify: false },
  { name: "server ACL changes are silent", event: event("m.room.server_acl", { allow: ["*"] }, { state_key: "" }), rule: ".m.rule.room.server_acl", notify: false },
  { name: "edits are suppressed", event: message({ body: "* fixed", "m.new_content": { body: "fixed" }, "m.relates_to": { rel_type: "m.replace", event_id: "$x" } }), ctx: { memberCount: 2 }, rule: ".m.rule.suppress_edits", notify: false },
  { name: "an edit that mentions me highlights: is_user_mention ranks above suppress_edits", event: message({ "m.mentions": { user_ids: [ALICE] }, "m.relates_to": { rel_type: "m.replace", event_id: "$x" } }), rule: ".m.rule.is_user_mention", notify: true, highlight: true },

  // The user's changes to defaults.
  { name: "master enabled silences everything, mentions too", event: message({ "m.mentions": { user_ids: [ALICE] } }), edits: [setEnabled("override", ".m.rule.master", true)], rule: ".m.rule.master", notify: false },
  { name: "a disabled rule never matches: mention falls through to .m.rule.message", event: message({ "m.mentions": { user_ids: [ALICE] } }), edits: [setEnabled("override", ".m.rule.is_user_mention", false)], rule: ".m.rule.message", notify: true, highlight: false },
  { name: "changed actions of a default rule apply", event: message({}), edits: [setActions("underride", ".m.rule.message", [])], rule: ".m.rule.message", notify: false },
  { name: "dont_notify is a historical action equal to no action", event: message({}), edits: [setActions("underride", ".m.rule.message", ["dont_notify"])], rule: ".m.rule.message", notify: false },
  { name: "a highlight tweak with value false does not highlight", event: message({}), edits: [setActions("underride", ".m.rule.message", ["notify", { set_tweak: "highlight", value: false }])], rule: ".m.rule.message", notify: true, highlight: false },

  // The user's own rules.
  { name: "a content rule matches a word of the body", event: message({ body: "I like cake!" }), edits: [customRule("content", "cake", { pattern: "cake", actions: ["notify", { set_tweak: "highlight" }] })], rule: "cake", notify: true, highlight: true },
  { name: "a content rule does not match inside a word", event: message({ body: "cakes and pancake" }), edits: [customRule("content", "cake", { pattern: "cake", actions: ["notify", { set_tweak: "highlight" }] })], rule: ".m.rule.message", notify: true, highlight: false },
  { name: "a content glob may span words (spec example ex*ple)", event: message({ body: "An exciting triple-whammy" }), edits: [customRule("content", "ex", { pattern: "ex*ple", actions: ["notify", { set_tweak: "highlight" }] })], rule: "ex", notify: true, highlight: true },
  { name: "a room rule with no actions mutes that room", event: message({}), edits: [customRule("room", ROOM, { actions: [] })], rule: ROOM, notify: false },
  { name: "a room rule for another room leaves this one alone", event: message({}), edits: [customRule("room", OTHER_ROOM, { actions: [] })], rule: ".m.rule.message", notify: true },
  { name: "a sender rule mutes that sender", event: message({}), edits: [customRule("sender", BOB, { actions: [] })], rule: BOB, notify: false },
  { name: "room rules rank above sender rules", event: message({}), edits: [customRule("sender", BOB, { actions: [] }), customRule("room", ROOM, { actions: ["notify"] })], rule: ROOM, notify: true },
  { name: "a user override ranks above the default overrides", event: message({ "m.mentions": { user_ids: [ALICE] } }), edits: [customRule("override", "mute-bob", { conditions: [{ kind: "event_match", key: "sender", pattern: BOB }], actions: [] })], rule: "mute-bob", notify: false },
  { name: "master still ranks above a user override", event: message({}), edits: [customRule("override", "all", { conditions: [], actions: ["notify"] }), setEnabled("override", ".m.rule.master", true)], rule: ".m.rule.master", notify: false },
  { name: "a user underride ranks above the default underrides", event: message({}), edits: [customRule("underride", "loud", { conditions: [{ kind: "event_match", key: "type", pattern: "m.room.*" }], actions: ["notify", { set_tweak: "sound", value: "loud" }] })], rule: "loud", notify: true, tweak: ["sound", "loud"] },
  { name: "contains_display_name in a user rule: my name as a word highlights", event: message({ body: "hey ALICE, lunch?" }), edits: [customRule("override", "name", { conditions: [{ kind: "contains_display_name" }], actions: ["notify", { set_tweak: "highlight" }] })], rule: "name", notify: true, highlight: true },
  { name: "contains_display_name does not match inside a word", event: message({ body: "such malice" }), edits: [customRule("override", "name", { conditions: [{ kind: "contains_display_name" }], actions: ["notify", { set_tweak: "highlight" }] })], rule: ".m.rule.message", notify: true, highlight: false },
  { name: "contains_display_name never matches an empty display name", event: message({ body: "hello" }), ctx: { displayName: "" }, edits: [customRule("override", "name", { conditions: [{ kind: "contains_display_name" }], actions: ["notify", { set_tweak: "highlight" }] })], rule: ".m.rule.message", notify: true, highlight: false },
  { name: "a display name with glob characters is taken literally", event: message({ body: "hi Bxb" }), ctx: { displayName: "B?b" }, edits: [customRule("override", "name", { conditions: [{ kind: "contains_display_name" }], actions: ["notify", { set_tweak: "highlight" }] })], rule: ".m.rule.message", notify: true, highlight: false },
  { name: "an unknown condition kind disables its rule", event: message({}), edits: [customRule("override", "future", { conditions: [{ kind: "org.example.future" }], actions: [] })], rule: ".m.rule.message", notify: true },
  { name: "a room_member_count rule (spec example: <=10 members)", event: message({ body: "beer time" }), ctx: { memberCount: 10 }, edits: [customRule("override", "beer", { conditions: [{ kind: "event_match", key: "content.body", pattern: "beer" }, { kind: "room_member_count", is: "<=10" }], actions: ["notify", { set_tweak: "sound", value: "beeroclock.wav" }] })], rule: "beer", notify: true, tweak: ["sound", "beeroclock.wav"] },
  { name: "the same rule in a room of 11 does not match", event: message({ body: "beer time" }), ctx: { memberCount: 11 }, edits: [customRule("override", "beer", { conditions: [{ kind: "event_match", key: "content.body", pattern: "beer" }, { kind: "room_member_count", is: "<=10" }], actions: [] })], rule: ".m.rule.message", notify: true },
];

function rulesetFor(edits: Edit[] = []) {
  let doc = emptyDocument();
  for (const edit of edits) doc = edit(doc);
  return mergeRuleset(ALICE, doc);
}

describe("push rule evaluation: a table from the spec's rule descriptions", () => {
  it("has at least 30 cases", () => assert.ok(CASES.length >= 30, `${CASES.length} cases`));
  for (const c of CASES) {
    it(c.name, () => {
      const outcome = evaluatePushRules(rulesetFor(c.edits), c.event, { ...baseCtx, ...c.ctx });
      assert.equal(outcome.ruleId, c.rule, "deciding rule");
      assert.equal(outcome.notify, c.notify, "notify");
      if (c.highlight !== undefined) assert.equal(outcome.highlight, c.highlight, "highlight");
      if (c.tweak) {
        const [name, value] = c.tweak;
        assert.ok(outcome.actions.some((a) => typeof a === "object" && a.set_tweak === name && a.value === value), `tweak ${name}=${String(value)} in ${JSON.stringify(outcome.actions)}`);
      }
      assert.ok(!outcome.actions.includes("dont_notify") && !outcome.actions.includes("coalesce"), "historical actions are stripped");
    });
  }
});

interface ConditionCase {
  name: string;
  condition: PushCondition;
  event: PushEvent;
  ctx?: Partial<PushContext>;
  matches: boolean;
}

const topic = (t: unknown): PushEvent => event("m.room.topic", { topic: t }, { state_key: "" });
const create: PushEvent = event("m.room.create", { creator: BOB, "m.federate": true, room_version: "1" }, { state_key: "" });
const aliases: PushEvent = event("m.room.canonical_alias", { alias: "#somewhere:localhost", alt_aliases: ["#somewhere:example.org", "#myroom:example.com"] }, { state_key: "" });
const lunch: PushCondition = { kind: "event_match", key: "content.topic", pattern: "lunc?*" };
const count = (is: string): PushCondition => ({ kind: "room_member_count", is });

const CONDITIONS: ConditionCase[] = [
  // event_match: the spec's lunc?* example (whole value, case-insensitive).
  { name: "event_match lunc?* matches 'Lunch plans'", condition: lunch, event: topic("Lunch plans"), matches: true },
  { name: "event_match lunc?* matches 'LUNCH'", condition: lunch, event: topic("LUNCH"), matches: true },
  { name: "event_match lunc?* does not match ' lunch' (leading space)", condition: lunch, event: topic(" lunch"), matches: false },
  { name: "event_match lunc?* does not match 'lunc' (? needs a character)", condition: lunch, event: topic("lunc"), matches: false },
  { name: "event_match never matches a non-string, even with *", condition: { kind: "event_match", key: "content.topic", pattern: "*" }, event: topic(null), matches: false },
  { name: "event_match never matches an absent property", condition: { kind: "event_match", key: "content.nope", pattern: "*" }, event: topic("x"), matches: false },
  { name: "event_match on state_key '' needs an empty string, not an absent key", condition: { kind: "event_match", key: "state_key", pattern: "" }, event: message({}), matches: false },
  { name: "event_match regex characters in a pattern are literal", condition: { kind: "event_match", key: "content.topic", pattern: "a.c" }, event: topic("abc"), matches: false },
  { name: "content.body word match: the pattern may sit at the start and end (spec 'exple')", condition: { kind: "event_match", key: "content.body", pattern: "ex*ple" }, event: message({ body: "exple" }), matches: true },
  { name: "content.body word match needs word boundaries", condition: { kind: "event_match", key: "content.body", pattern: "ex*ple" }, event: message({ body: "textples" }), matches: false },
  // Dotted paths with escapes.
  { name: "a key with an escaped dot reaches m.relates_to", condition: { kind: "event_match", key: "content.m\\.relates_to.rel_type", pattern: "m.thread" }, event: message({ "m.relates_to": { rel_type: "m.thread", event_id: "$r" } }), matches: true },
  { name: "an escaped backslash names a property with a backslash", condition: { kind: "event_match", key: "content.m\\\\foo", pattern: "bar" }, event: message({ "m\\foo": "bar" }), matches: true },
  { name: "an unescaped dot descends instead", condition: { kind: "event_match", key: "content.m.relates_to.rel_type", pattern: "m.thread" }, event: message({ "m.relates_to": { rel_type: "m.thread", event_id: "$r" } }), matches: false },
  // event_property_is: the spec's m.federate example.
  { name: "event_property_is true matches the boolean true", condition: { kind: "event_property_is", key: "content.m\\.federate", value: true }, event: create, matches: true },
  { name: "event_property_is true does not match the string 'true'", condition: { kind: "event_property_is", key: "content.m\\.federate", value: true }, event: event("m.room.create", { "m.federate": "true" }, { state_key: "" }), matches: false },
  { name: "event_property_is true does not match 1 (no casting)", condition: { kind: "event_property_is", key: "content.m\\.federate", value: true }, event: event("m.room.create", { "m.federate": 1 }, { state_key: "" }), matches: false },
  { name: "event_property_is null matches null", condition: { kind: "event_property_is", key: "content.topic", value: null }, event: topic(null), matches: true },
  { name: "event_property_is is exact, not a glob", condition: { kind: "event_property_is", key: "content.topic", value: "Lunch*" }, event: topic("Lunch plans"), matches: false },
  // event_property_contains: the spec's alt_aliases example.
  { name: "event_property_contains finds an exact array value", condition: { kind: "event_property_contains", key: "content.alt_aliases", value: "#myroom:example.com" }, event: aliases, matches: true },
  { name: "event_property_contains does not match partial values", condition: { kind: "event_property_contains", key: "content.alt_aliases", value: ":example.com" }, event: aliases, matches: false },
  { name: "event_property_contains needs an array", condition: { kind: "event_property_contains", key: "content.alias", value: "#somewhere:localhost" }, event: aliases, matches: false },
  // room_member_count.
  { name: "room_member_count '2' means ==2", condition: count("2"), event: message({}), ctx: { memberCount: 2 }, matches: true },
  { name: "room_member_count ==3", condition: count("==3"), event: message({}), ctx: { memberCount: 3 }, matches: true },
  { name: "room_member_count <10 with 10 members", condition: count("<10"), event: message({}), ctx: { memberCount: 10 }, matches: false },
  { name: "room_member_count <=10 with 10 members", condition: count("<=10"), event: message({}), ctx: { memberCount: 10 }, matches: true },
  { name: "room_member_count >2 with 3 members", condition: count(">2"), event: message({}), ctx: { memberCount: 3 }, matches: true },
  { name: "room_member_count >=4 with 3 members", condition: count(">=4"), event: message({}), ctx: { memberCount: 3 }, matches: false },
  { name: "room_member_count with a malformed 'is' never matches", condition: count("=>2"), event: message({}), ctx: { memberCount: 2 }, matches: false },
  // sender_notification_permission.
  { name: "sender_notification_permission: default level for an unknown key is 50", condition: { kind: "sender_notification_permission", key: "custom" }, event: message({}), ctx: { senderPowerLevel: 50 }, matches: true },
  { name: "sender_notification_permission: below the level", condition: { kind: "sender_notification_permission", key: "room" }, event: message({}), ctx: { senderPowerLevel: 10, notificationLevels: { room: 20 } }, matches: false },
];

describe("push conditions, one at a time", () => {
  for (const c of CONDITIONS) {
    it(c.name, () => assert.equal(conditionMatches(c.condition, c.event, { ...baseCtx, ...c.ctx }), c.matches));
  }
});

describe("the default ruleset", () => {
  it("lists the current spec's rule ids in the spec's order", () => {
    const rules = defaultRules(ALICE);
    assert.deepEqual(rules.override.map((r) => r.rule_id), [
      ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event", ".m.rule.is_user_mention",
      ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits",
    ]);
    assert.deepEqual(rules.content, []);
    assert.deepEqual(rules.underride.map((r) => r.rule_id), [
      ".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted",
    ]);
    assert.ok(rules.override.every((r) => r.default) && rules.underride.every((r) => r.default));
    assert.equal(rules.override[0]!.enabled, false, "master is disabled by default");
  });

  it("puts user rules below master and above the other defaults", () => {
    const ruleset = rulesetFor([customRule("override", "mine", { conditions: [], actions: [] })]);
    assert.deepEqual(ruleset.override.slice(0, 3).map((r) => r.rule_id), [".m.rule.master", "mine", ".m.rule.suppress_notices"]);
    assert.equal(ruleset.override[1]!.default, false);
  });

  it("names the user in invite_for_me and is_user_mention", () => {
    const rules = defaultRules(BOB);
    assert.ok(JSON.stringify(rules.override.find((r) => r.rule_id === ".m.rule.invite_for_me")).includes(BOB));
    assert.ok(JSON.stringify(rules.override.find((r) => r.rule_id === ".m.rule.is_user_mention")).includes(BOB));
  });
});
