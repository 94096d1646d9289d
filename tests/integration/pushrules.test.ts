/**
 * The push rule endpoints over HTTP (pushrules.yaml): the default ruleset of a new user,
 * adding rules of every kind, ordering with before/after, enabled and actions of default
 * and user rules, deletion, and every refusal (sytest 61push's lists are the checklist).
 * Every 200 carrying a body is checked against the spec's schema.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type ApiResponse, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, enc, storageOf } from "./room-helpers.js";
import { ORIGIN } from "../../src/streams/position.js";

type Rule = { rule_id: string; default: boolean; enabled: boolean; actions: unknown[]; conditions?: unknown[]; pattern?: string };
type Ruleset = Record<"override" | "content" | "room" | "sender" | "underride", Rule[]>;

describe("push rules endpoints", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;

  const call = (method: string, path: string, body?: unknown, user: TestUser = alice): Promise<ApiResponse> =>
    api(base, method, `${V3}/pushrules${path}`, { token: user.accessToken, ...(body !== undefined ? { body } : {}) });
  const put = (path: string, body: unknown, user?: TestUser) => call("PUT", path, body, user);
  async function ruleset(user: TestUser = alice): Promise<Ruleset> {
    const res = await call("GET", "/", undefined, user);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("pushrules.yaml", "/pushrules/", "get", 200, res.body);
    return (res.body as { global: Ruleset }).global;
  }
  const ids = (rules: Rule[]) => rules.map((r) => r.rule_id);
  async function expectError(res: ApiResponse, status: number, errcode: string): Promise<void> {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  }

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
  });
  after(async () => {
    await server.close();
  });

  it("a new user gets the spec's default ruleset from /pushrules/ and /pushrules/global/", async () => {
    const fresh = await registerUser(base, "fresh");
    const global = await ruleset(fresh);
    assert.deepEqual(ids(global.override), [
      ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event", ".m.rule.is_user_mention",
      ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits",
    ]);
    assert.deepEqual(ids(global.underride), [".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"]);
    assert.deepEqual([global.content, global.room, global.sender], [[], [], []]);
    const invite = global.override.find((r) => r.rule_id === ".m.rule.invite_for_me")!;
    assert.deepEqual(invite.conditions?.[2], { kind: "event_match", key: "state_key", pattern: fresh.userId });

    const res = await call("GET", "/global/", undefined, fresh);
    assert.equal(res.status, 200);
    await assertMatchesSpec("pushrules.yaml", "/pushrules/global/", "get", 200, res.body);
    assert.deepEqual(res.body, global);
  });

  it("adds a rule of every kind; GET returns it enabled, not default, in the spec's shape", async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      ["room", "!spam:example.com", {}],
      ["sender", "@bob:example.com", {}],
      ["content", "my_content_rule", { pattern: "my_pattern" }],
      ["override", "my_override_rule", { conditions: [{ kind: "event_match", key: "content.msgtype", pattern: "m.notice" }] }],
      ["underride", "my_underride_rule", { conditions: [{ kind: "room_member_count", is: ">=3" }] }],
    ];
    for (const [kind, ruleId, extra] of cases) {
      const res = await put(`/global/${kind}/${enc(ruleId)}`, { actions: ["notify"], ...extra });
      assert.equal(res.status, 200, `${kind}: ${JSON.stringify(res.body)}`);
      assert.deepEqual(res.body, {});
      const got = await call("GET", `/global/${kind}/${enc(ruleId)}`);
      assert.equal(got.status, 200);
      await assertMatchesSpec("pushrules.yaml", "/pushrules/global/{kind}/{ruleId}", "get", 200, got.body);
      assert.equal(got.body.rule_id, ruleId);
      assert.equal(got.body.enabled, true);
      assert.equal(got.body.default, false);
      assert.deepEqual(got.body.actions, ["notify"]);
      if (kind === "content") assert.equal(got.body.pattern, "my_pattern");
      if (kind === "override" || kind === "underride") assert.deepEqual(got.body.conditions, extra.conditions);
      if (kind === "room" || kind === "sender") assert.equal(got.body.conditions, undefined);
    }
    const global = await ruleset();
    assert.equal(global.override[1]!.rule_id, "my_override_rule", "user overrides come right after master");
    assert.equal(global.underride[0]!.rule_id, "my_underride_rule", "user underrides come before the defaults");
  });

  it("orders rules: new ones first, before/after anchors, both (before decides), updates keep their place", async () => {
    const u = await registerUser(base, "orderer");
    const add = async (id: string, query = "", body: Record<string, unknown> = { actions: ["notify"] }) => {
      const res = await put(`/global/room/${enc(id)}${query}`, body, u);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const rooms = async () => ids((await ruleset(u)).room);
    await add("#a:x");
    await add("#b:x");
    assert.deepEqual(await rooms(), ["#b:x", "#a:x"], "new rules appear before old ones");
    await add("#c:x", `?after=${enc("#b:x")}`);
    assert.deepEqual(await rooms(), ["#b:x", "#c:x", "#a:x"]);
    await add("#d:x", `?before=${enc("#b:x")}`);
    assert.deepEqual(await rooms(), ["#d:x", "#b:x", "#c:x", "#a:x"]);
    await add("#e:x", `?before=${enc("#a:x")}&after=${enc("#d:x")}`);
    assert.deepEqual(await rooms(), ["#d:x", "#b:x", "#c:x", "#e:x", "#a:x"], "with both, the rule goes right before `before`");
    await add("#c:x", "", { actions: [] });
    assert.deepEqual(await rooms(), ["#d:x", "#b:x", "#c:x", "#e:x", "#a:x"], "an update keeps its place");
    assert.deepEqual((await ruleset(u)).room.find((r) => r.rule_id === "#c:x")?.actions, []);
    await add("#c:x", `?after=${enc("#a:x")}`);
    assert.deepEqual(await rooms(), ["#d:x", "#b:x", "#e:x", "#a:x", "#c:x"], "an update with an anchor moves");

    await expectError(await put(`/global/room/${enc("#f:x")}?before=${enc("#nope:x")}`, { actions: [] }, u), 400, "M_UNKNOWN");
    await expectError(await put(`/global/room/${enc("#f:x")}?after=${enc("#nope:x")}`, { actions: [] }, u), 400, "M_UNKNOWN");
    await expectError(await put(`/global/override/f?after=.m.rule.master`, { actions: [], conditions: [] }, u), 400, "M_INVALID_PARAM");
    assert.deepEqual(await rooms(), ["#d:x", "#b:x", "#e:x", "#a:x", "#c:x"], "a refused PUT changes nothing");
  });

  it("deletes user rules (404 when unknown); default rules cannot be deleted (400)", async () => {
    assert.equal((await put("/global/sender/%40gone%3Ax", { actions: [] })).status, 200);
    const del = await call("DELETE", "/global/sender/%40gone%3Ax");
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, {});
    await expectError(await call("GET", "/global/sender/%40gone%3Ax"), 404, "M_NOT_FOUND");
    await expectError(await call("DELETE", "/global/sender/%40gone%3Ax"), 404, "M_NOT_FOUND");
    await expectError(await call("DELETE", "/global/override/.m.rule.master"), 400, "M_INVALID_PARAM");
    assert.ok(ids((await ruleset()).override).includes(".m.rule.master"));
  });

  it("reads and changes enabled and actions of default and user rules", async () => {
    const enabled = await call("GET", "/global/override/.m.rule.master/enabled");
    assert.equal(enabled.status, 200);
    await assertMatchesSpec("pushrules.yaml", "/pushrules/global/{kind}/{ruleId}/enabled", "get", 200, enabled.body);
    assert.deepEqual(enabled.body, { enabled: false });
    assert.equal((await put("/global/override/.m.rule.master/enabled", { enabled: true })).status, 200);
    assert.deepEqual((await call("GET", "/global/override/.m.rule.master/enabled")).body, { enabled: true });
    assert.equal((await ruleset()).override[0]!.enabled, true);
    assert.equal((await put("/global/override/.m.rule.master/enabled", { enabled: false })).status, 200);

    const actions = await call("GET", "/global/underride/.m.rule.message/actions");
    assert.equal(actions.status, 200);
    await assertMatchesSpec("pushrules.yaml", "/pushrules/global/{kind}/{ruleId}/actions", "get", 200, actions.body);
    assert.deepEqual(actions.body, { actions: ["notify"] });
    const loud = ["notify", { set_tweak: "sound", value: "default" }, { set_tweak: "highlight", value: false }];
    assert.equal((await put("/global/underride/.m.rule.message/actions", { actions: loud })).status, 200);
    assert.deepEqual((await call("GET", "/global/underride/.m.rule.message/actions")).body, { actions: loud });
    const rule = (await call("GET", "/global/underride/.m.rule.message")).body;
    assert.equal(rule.default, true, "a changed default rule is still a default rule");

    assert.equal((await put("/global/content/my_content_rule/enabled", { enabled: false })).status, 200);
    assert.equal((await call("GET", "/global/content/my_content_rule")).body.enabled, false);
    assert.equal((await put("/global/content/my_content_rule", { pattern: "other", actions: [] })).status, 200);
    assert.equal((await call("GET", "/global/content/my_content_rule")).body.enabled, false, "replacing a rule keeps it disabled");
    assert.equal((await put("/global/content/my_content_rule/actions", { actions: ["dont_notify"] })).status, 200);
    assert.deepEqual((await call("GET", "/global/content/my_content_rule/actions")).body, { actions: ["dont_notify"] }, "historical actions are kept as sent (and ignored when evaluating)");
  });

  it("refuses malformed rules and paths", async () => {
    const checks: [string, string, string, unknown, number, string][] = [
      ["unknown kind", "PUT", "/global/not_a_template/foo", { actions: [] }, 400, "M_INVALID_PARAM"],
      ["another scope", "PUT", "/device/room/foo", { actions: [] }, 400, "M_INVALID_PARAM"],
      ["no rule id", "PUT", "/global/room/", { actions: [] }, 400, "M_INVALID_PARAM"],
      ["a rule id with a backslash", "PUT", `/global/room/${enc("#fo\\o:example.com")}`, { actions: [] }, 400, "M_INVALID_PARAM"],
      ["a rule id with a slash", "PUT", `/global/room/${enc("#fo/o:example.com")}`, { actions: [] }, 400, "M_INVALID_PARAM"],
      ["a rule id starting with a dot", "PUT", "/global/override/.m.rule.mine", { actions: [], conditions: [] }, 400, "M_INVALID_PARAM"],
      ["no actions", "PUT", "/global/room/%23r%3Ax", {}, 400, "M_BAD_JSON"],
      ["actions not an array", "PUT", "/global/room/%23r%3Ax", { actions: "notify" }, 400, "M_BAD_JSON"],
      ["an invalid action", "PUT", "/global/room/%23r%3Ax", { actions: ["not_an_action"] }, 400, "M_BAD_JSON"],
      ["a content rule without pattern", "PUT", "/global/content/my_id", { actions: [] }, 400, "M_BAD_JSON"],
      ["conditions not an array", "PUT", "/global/override/my_id", { actions: [], conditions: {} }, 400, "M_BAD_JSON"],
      ["a condition without kind", "PUT", "/global/underride/my_id", { actions: [], conditions: [{}] }, 400, "M_BAD_JSON"],
      ["event_match without pattern", "PUT", "/global/override/my_id", { actions: [], conditions: [{ kind: "event_match", key: "type" }] }, 400, "M_BAD_JSON"],
      ["event_property_is with a compound value", "PUT", "/global/override/my_id", { actions: [], conditions: [{ kind: "event_property_is", key: "type", value: { a: 1 } }] }, 400, "M_BAD_JSON"],
      ["room_member_count with a bad 'is'", "PUT", "/global/override/my_id", { actions: [], conditions: [{ kind: "room_member_count", is: "lots" }] }, 400, "M_BAD_JSON"],
      ["a body that is not an object", "PUT", "/global/room/%23r%3Ax", [1], 400, "M_BAD_JSON"],
      ["a body that is not JSON", "PUT", "/global/room/%23r%3Ax", "{nope", 400, "M_NOT_JSON"],
      ["an unknown attribute", "PUT", "/global/override/.m.rule.master/not_an_attr", { enabled: true }, 400, "M_INVALID_PARAM"],
      ["enabled not a boolean", "PUT", "/global/override/.m.rule.master/enabled", { enabled: "not a boolean" }, 400, "M_BAD_JSON"],
      ["invalid actions for /actions", "PUT", "/global/override/.m.rule.master/actions", { actions: [42] }, 400, "M_BAD_JSON"],
      ["GET of an unknown rule", "GET", "/global/override/not_a_rule_id", undefined, 404, "M_NOT_FOUND"],
      ["GET of an unknown kind's list", "GET", "/global/not_a_template/", undefined, 400, "M_INVALID_PARAM"],
      ["GET of an unknown attribute", "GET", "/global/override/.m.rule.master/not_an_attr", undefined, 400, "M_INVALID_PARAM"],
      ["GET enabled of an unknown rule", "GET", "/global/room/%23unknown%3Ax/enabled", undefined, 404, "M_NOT_FOUND"],
      ["PUT enabled of an unknown rule", "PUT", "/global/room/%23unknown%3Ax/enabled", { enabled: true }, 404, "M_NOT_FOUND"],
      ["PUT enabled of a default rule under the wrong kind", "PUT", "/global/underride/.m.rule.master/enabled", { enabled: true }, 404, "M_NOT_FOUND"],
      ["GET actions of an unknown rule", "GET", "/global/room/%23unknown%3Ax/actions", undefined, 404, "M_NOT_FOUND"],
      ["PUT actions of an unknown default rule", "PUT", "/global/override/.m.rule.nope/actions", { actions: [] }, 404, "M_NOT_FOUND"],
    ];
    const before = await ruleset();
    for (const [name, method, path, body, status, errcode] of checks) {
      const res = await call(method, path, body);
      assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errcode, errcode, `${name}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual(await ruleset(), before, "no refused request changed anything");

    const anonymous = await api(base, "GET", `${V3}/pushrules/`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.errcode, "M_MISSING_TOKEN");
  });

  it("accepts conditions of kinds it does not know (they never match) and keeps them", async () => {
    const conditions = [{ kind: "org.example.future", whatever: 1 }, { kind: "contains_display_name" }];
    assert.equal((await put("/global/override/future", { actions: ["notify"], conditions })).status, 200);
    assert.deepEqual((await call("GET", "/global/override/future")).body.conditions, conditions);
  });

  it("records a push_rules change in the global sequence for each change (sync sends m.push_rules)", async () => {
    const u = await registerUser(base, "logged");
    const storage = storageOf(server);
    const before = await storage.streams.highestPosition();
    assert.equal((await put("/global/room/%23x%3Ax", { actions: [] }, u)).status, 200);
    assert.equal((await put("/global/override/.m.rule.master/enabled", { enabled: true }, u)).status, 200);
    const rows = await storage.streams.read(before, await storage.streams.highestPosition(), 100);
    assert.deepEqual(rows.filter((r) => r.kind === "push_rules").map((r) => r.userId), [u.userId, u.userId]);
    assert.ok(before > ORIGIN);
  });
});
