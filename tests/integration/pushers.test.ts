/**
 * Pushers over HTTP (pusher.yaml): GET /pushers, POST /pushers/set (create, replace,
 * `append`, delete with kind null) and its refusals. Nothing is delivered to gateways.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3 } from "./room-helpers.js";

interface Pusher {
  pushkey: string;
  kind: string;
  app_id: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag?: string;
  lang: string;
  data: Record<string, unknown>;
}

describe("pushers", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;

  const URL_OK = "https://push.example.org/_matrix/push/v1/notify";
  const pusher = (extra: Record<string, unknown> = {}) => ({
    kind: "http",
    app_id: "org.example.app",
    app_display_name: "Example",
    device_display_name: "Alice's phone",
    profile_tag: "tag",
    pushkey: "key-1",
    lang: "en",
    data: { url: URL_OK, format: "event_id_only", custom: "kept" },
    ...extra,
  });
  const set = (user: TestUser, body: unknown) => api(base, "POST", `${V3}/pushers/set`, { token: user.accessToken, body });
  async function list(user: TestUser): Promise<Pusher[]> {
    const res = await api<{ pushers: Pusher[] }>(base, "GET", `${V3}/pushers`, { token: user.accessToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("pusher.yaml", "/pushers", "get", 200, res.body);
    return res.body.pushers;
  }

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
  });
  after(async () => {
    await server.close();
  });

  it("a new user has no pushers", async () => {
    assert.deepEqual(await list(alice), []);
  });

  it("creates an http pusher and lists every field back", async () => {
    const res = await set(alice, pusher());
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, {});
    assert.deepEqual(await list(alice), [
      {
        pushkey: "key-1",
        kind: "http",
        app_id: "org.example.app",
        app_display_name: "Example",
        device_display_name: "Alice's phone",
        profile_tag: "tag",
        lang: "en",
        data: { url: URL_OK, format: "event_id_only", custom: "kept" },
      },
    ]);
  });

  it("setting the same app id and pushkey again replaces the pusher", async () => {
    assert.equal((await set(alice, pusher({ lang: "fr", profile_tag: undefined }))).status, 200);
    const got = await list(alice);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.lang, "fr");
    assert.equal(got[0]!.profile_tag, undefined, "an absent profile tag is omitted, not null");
  });

  it("without append another user's pusher with the same key moves to the new user; with append both keep it", async () => {
    assert.equal((await set(bob, pusher())).status, 200);
    assert.deepEqual(await list(alice), [], "append false removes the key from other users");
    assert.equal((await list(bob)).length, 1);
    assert.equal((await set(alice, pusher({ append: true }))).status, 200);
    assert.equal((await list(alice)).length, 1);
    assert.equal((await list(bob)).length, 1, "append true leaves bob's alone");
  });

  it("kind null deletes the pusher (and deleting an unknown one is fine)", async () => {
    assert.equal((await set(alice, { kind: null, app_id: "org.example.app", pushkey: "key-1" })).status, 200);
    assert.deepEqual(await list(alice), []);
    assert.equal((await list(bob)).length, 1, "only the caller's pusher is deleted");
    assert.equal((await set(alice, { kind: null, app_id: "org.example.app", pushkey: "key-1" })).status, 200);
  });

  it("refuses incomplete or invalid pushers", async () => {
    const checks: [string, unknown, string][] = [
      ["no kind", { app_id: "a", pushkey: "k" }, "M_MISSING_PARAM"],
      ["no app_id", { kind: "http", pushkey: "k" }, "M_MISSING_PARAM"],
      ["no lang and data", pusher({ lang: undefined, data: undefined }), "M_MISSING_PARAM"],
      ["http without data.url", pusher({ data: { format: "event_id_only" } }), "M_MISSING_PARAM"],
      ["a url that is not a URL", pusher({ data: { url: "not a url" } }), "M_INVALID_PARAM"],
      ["a url with another path", pusher({ data: { url: "https://push.example.org/notify" } }), "M_INVALID_PARAM"],
      ["a url of another scheme", pusher({ data: { url: "ftp://push.example.org/_matrix/push/v1/notify" } }), "M_INVALID_PARAM"],
      ["an email pusher (no mail here)", pusher({ kind: "email", app_id: "m.email", pushkey: "a@example.org" }), "M_INVALID_PARAM"],
      ["an unknown kind", pusher({ kind: "carrier-pigeon" }), "M_INVALID_PARAM"],
      ["an app_id over 64 characters", pusher({ app_id: "a".repeat(65) }), "M_INVALID_PARAM"],
      ["a pushkey over 512 bytes", pusher({ pushkey: "é".repeat(257) }), "M_INVALID_PARAM"],
      ["data that is not an object", pusher({ data: "x" }), "M_BAD_JSON"],
      ["append that is not a boolean", pusher({ append: "yes" }), "M_BAD_JSON"],
    ];
    for (const [name, body, errcode] of checks) {
      const res = await set(alice, body);
      assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.errcode, errcode, `${name}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual(await list(alice), [], "nothing was stored");
    const anonymous = await api(base, "GET", `${V3}/pushers`);
    assert.equal(anonymous.status, 401);
  });
});
