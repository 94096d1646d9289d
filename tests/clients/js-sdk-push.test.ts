/**
 * matrix-js-sdk 43's push rule methods against Sluice: getPushRules (the SDK's own parsing
 * and its rewriting of default rules), addPushRule with before/after, setPushRuleEnabled,
 * setPushRuleActions, deletePushRule, setRoomMutePushRule (mute with ["dont_notify"], then
 * unmute, which finds its rule by that action), and the SDK's PushProcessor deciding the same
 * rule for an event as the server did at write time.
 */
import "./node20-polyfills.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type * as Sdk from "matrix-js-sdk";
import type { Logger } from "matrix-js-sdk/lib/logger.js";
import { api, registerUser, startServer, type TestServer, type TestUser } from "../integration/harness.js";
import type { UserId } from "../../src/events/ids.js";

const SERVER_OVERRIDES = [
  ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event", ".m.rule.is_user_mention",
  ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits",
];
const SERVER_UNDERRIDES = [".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"];

describe("matrix-js-sdk: push rules", () => {
  let server: TestServer;
  let sdk: typeof Sdk;
  let alice: Sdk.MatrixClient;
  let aliceUser: TestUser;
  let bobUser: TestUser;
  const warnings: string[] = [];

  const logger: Logger = {
    trace: () => {},
    debug: () => {},
    info: () => {},
    warn: (...args: unknown[]) => void warnings.push(args.map(String).join(" ")),
    error: () => {},
    getChild: () => logger,
  };

  async function matrixError(p: Promise<unknown>): Promise<Sdk.MatrixError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof sdk.MatrixError, `expected a MatrixError, got ${String(err)}`);
      return err;
    }
    assert.fail("expected the request to fail");
  }

  before(async () => {
    sdk = await import("matrix-js-sdk");
    const { logger: moduleLogger } = await import("matrix-js-sdk/lib/logger.js");
    (moduleLogger as unknown as { setLevel(level: "silent"): void }).setLevel("silent");
    server = await startServer();
    aliceUser = await registerUser(server.baseUrl, "alice");
    bobUser = await registerUser(server.baseUrl, "bob");
    alice = sdk.createClient({ baseUrl: server.baseUrl, userId: aliceUser.userId, accessToken: aliceUser.accessToken, deviceId: aliceUser.deviceId, logger });
  });
  after(async () => {
    alice?.stopClient();
    await server?.close();
  });

  const idsOf = (rules: Sdk.IPushRule[] | undefined) => (rules ?? []).map((r) => r.rule_id);

  it("getPushRules: the SDK takes the server's defaults as they are and only adds its own unstable extras", async () => {
    const rules = await alice.getPushRules();
    const override = idsOf(rules.global.override);
    assert.deepEqual(override.filter((id) => SERVER_OVERRIDES.includes(id)), SERVER_OVERRIDES, "every server override, in order");
    assert.deepEqual(idsOf(rules.global.underride).filter((id) => SERVER_UNDERRIDES.includes(id)), SERVER_UNDERRIDES);
    assert.ok(override.every((id) => SERVER_OVERRIDES.includes(id) || id.startsWith(".org.matrix.")), `unexpected additions: ${override}`);
    // The SDK warns about the legacy body-mention rules the v1.17 spec removed; nothing we serve is reported missing.
    for (const w of warnings) {
      assert.ok(!SERVER_OVERRIDES.some((id) => w.endsWith(` ${id}`)) && !SERVER_UNDERRIDES.some((id) => w.endsWith(` ${id}`)), w);
    }
    const mention = alice.pushProcessor.getPushRuleById(".m.rule.is_user_mention");
    assert.equal(mention?.enabled, true);
    assert.deepEqual(mention?.conditions, [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: aliceUser.userId }]);
    assert.equal(alice.pushRules, rules, "the client keeps what it parsed");
  });

  it("addPushRule for each kind, with before/after, shows up in getPushRules", async () => {
    await alice.addPushRule("global", sdk.PushRuleKind.RoomSpecific, "!a:test.local", { actions: [sdk.PushRuleActionName.Notify] });
    await alice.addPushRule("global", sdk.PushRuleKind.SenderSpecific, "@spam:test.local", { actions: [] });
    await alice.addPushRule("global", sdk.PushRuleKind.ContentSpecific, "cake", { pattern: "cake", actions: [sdk.PushRuleActionName.Notify] });
    await alice.addPushRule("global", sdk.PushRuleKind.Override, "first", {
      conditions: [{ kind: sdk.ConditionKind.EventMatch, key: "content.body", pattern: "first" }],
      actions: [sdk.PushRuleActionName.Notify],
    });
    const override = { conditions: [{ kind: sdk.ConditionKind.EventMatch, key: "content.body", pattern: "second" }], actions: [] };
    await alice.http.authedRequest(sdk.Method.Put, "/pushrules/global/override/second", { after: "first" }, override);
    const rules = await alice.getPushRules();
    assert.deepEqual(idsOf(rules.global.room), ["!a:test.local"]);
    assert.deepEqual(idsOf(rules.global.sender), ["@spam:test.local"]);
    assert.equal(rules.global.content?.[0]?.pattern, "cake");
    assert.deepEqual(idsOf(rules.global.override).slice(0, 3), [".m.rule.master", "first", "second"]);
    const err = await matrixError(alice.addPushRule("global", sdk.PushRuleKind.Override, ".m.rule.mine", { conditions: [], actions: [] }));
    assert.equal(err.httpStatus, 400);
    assert.equal(err.errcode, "M_INVALID_PARAM");
  });

  it("setPushRuleEnabled and setPushRuleActions change default and user rules", async () => {
    await alice.setPushRuleEnabled("global", sdk.PushRuleKind.Override, sdk.RuleId.Master, true);
    await alice.setPushRuleEnabled("global", sdk.PushRuleKind.ContentSpecific, "cake", false);
    await alice.setPushRuleActions("global", sdk.PushRuleKind.Underride, sdk.RuleId.Message, [
      sdk.PushRuleActionName.Notify,
      { set_tweak: sdk.TweakName.Sound, value: "default" },
    ]);
    await alice.getPushRules();
    assert.equal(alice.pushProcessor.getPushRuleById(sdk.RuleId.Master)?.enabled, true);
    assert.equal(alice.pushProcessor.getPushRuleById("cake")?.enabled, false);
    assert.deepEqual(alice.pushProcessor.getPushRuleById(sdk.RuleId.Message)?.actions, ["notify", { set_tweak: "sound", value: "default" }]);
    await alice.setPushRuleEnabled("global", sdk.PushRuleKind.Override, sdk.RuleId.Master, false);
    const missing = await matrixError(alice.setPushRuleEnabled("global", sdk.PushRuleKind.RoomSpecific, "!nope:test.local", true));
    assert.equal(missing.httpStatus, 404);
    assert.equal(missing.errcode, "M_NOT_FOUND");
  });

  it("deletePushRule removes user rules; default rules cannot be deleted", async () => {
    await alice.deletePushRule("global", sdk.PushRuleKind.SenderSpecific, "@spam:test.local");
    assert.deepEqual(idsOf((await alice.getPushRules()).global.sender), []);
    const err = await matrixError(alice.deletePushRule("global", sdk.PushRuleKind.Override, sdk.RuleId.Master));
    assert.equal(err.httpStatus, 400);
    const gone = await matrixError(alice.deletePushRule("global", sdk.PushRuleKind.SenderSpecific, "@spam:test.local"));
    assert.equal(gone.httpStatus, 404);
  });

  it("setRoomMutePushRule mutes a room (no more counts) and unmutes it again", async () => {
    const { room_id: roomId } = await alice.createRoom({ preset: sdk.Preset.PublicChat });
    const bob = sdk.createClient({ baseUrl: server.baseUrl, userId: bobUser.userId, accessToken: bobUser.accessToken, deviceId: bobUser.deviceId, logger });
    try {
      await bob.joinRoom(roomId);
      const counts = async () => (await server.app.services.unreadCounts.unreadCounts(aliceUser.userId as UserId, roomId)).notification_count;
      await bob.sendTextMessage(roomId, "before mute");
      assert.equal(await counts(), 1);

      await alice.setRoomMutePushRule("global", roomId, true);
      assert.deepEqual(alice.getRoomPushRule("global", roomId)?.actions, ["dont_notify"]);
      await bob.sendTextMessage(roomId, "while muted");
      assert.equal(await counts(), 1, "a room rule with dont_notify silences the room");

      await alice.setRoomMutePushRule("global", roomId, false);
      assert.equal(alice.getRoomPushRule("global", roomId), undefined, "the SDK found its mute rule and deleted it");
      await bob.sendTextMessage(roomId, "after unmute");
      assert.equal(await counts(), 2);
    } finally {
      bob.stopClient();
    }
  });

  it("the SDK's PushProcessor picks the same rule for a mention as the server did at write time", async () => {
    const { room_id: roomId } = await alice.createRoom({ preset: sdk.Preset.PublicChat });
    const bob = sdk.createClient({ baseUrl: server.baseUrl, userId: bobUser.userId, accessToken: bobUser.accessToken, deviceId: bobUser.deviceId, logger });
    try {
      await bob.joinRoom(roomId);
      const content = { msgtype: "m.text", body: "alice, look", "m.mentions": { user_ids: [aliceUser.userId] } };
      const { event_id: eventId } = await bob.sendEvent(roomId, sdk.EventType.RoomMessage, content as never);
      const res = await api<{ notifications: { actions: unknown[]; event: { event_id: string } }[] }>(server.baseUrl, "GET", "/_matrix/client/v3/notifications?limit=1", {
        token: aliceUser.accessToken,
      });
      const served = res.body.notifications[0];
      assert.equal(served?.event.event_id, eventId);

      await alice.getPushRules();
      // Copied first: the SDK's evaluation writes `value: true` into highlight tweaks in place.
      const ruleActions = structuredClone(alice.pushProcessor.getPushRuleById(".m.rule.is_user_mention")?.actions);
      const ev = new sdk.MatrixEvent({ type: "m.room.message", room_id: roomId, sender: bobUser.userId, event_id: eventId, content });
      const { actions, rule } = alice.pushProcessor.actionsAndRuleForEvent(ev);
      assert.equal(rule?.rule_id, ".m.rule.is_user_mention");
      assert.deepEqual(served?.actions, ruleActions, "the actions the server stored are the rule's");
      assert.equal(actions?.notify, true);
      assert.equal(actions?.tweaks.highlight, true);
    } finally {
      bob.stopClient();
    }
  });
});
