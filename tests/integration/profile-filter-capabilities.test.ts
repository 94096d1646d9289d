/**
 * Profiles, sync filters, capabilities, /versions and .well-known over real HTTP.
 * Every 200 is checked against the spec's OpenAPI documents.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";

const V3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

describe("profile, filters, capabilities, versions, well-known", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
  });
  after(async () => {
    await server.close();
  });

  describe("profile", () => {
    it("GET /profile/{userId}: the default display name is the localpart, no avatar", async () => {
      for (const token of [undefined, bob.accessToken]) {
        const res = await api(base, "GET", `${V3}/profile/${enc(alice.userId)}`, token ? { token } : {});
        assert.equal(res.status, 200);
        await assertMatchesSpec("profile.yaml", "/profile/{userId}", "get", 200, res.body);
        assert.deepEqual(res.body, { displayname: "alice" });
      }
    });

    it("GET /profile/{userId}/displayname answers the localpart; avatar_url is 404 M_NOT_FOUND before one is set", async () => {
      const dn = await api(base, "GET", `${V3}/profile/${enc(bob.userId)}/displayname`);
      assert.equal(dn.status, 200);
      await assertMatchesSpec("profile.yaml", "/profile/{userId}/{keyName}", "get", 200, dn.body);
      assert.deepEqual(dn.body, { displayname: "bob" });
      const av = await api(base, "GET", `${V3}/profile/${enc(bob.userId)}/avatar_url`);
      assert.equal(av.status, 404);
      assert.equal(av.body.errcode, "M_NOT_FOUND");
    });

    it("PUT displayname and avatar_url of one's own profile; GETs reflect them", async () => {
      const dn = await api(base, "PUT", `${V3}/profile/${enc(alice.userId)}/displayname`, {
        token: alice.accessToken,
        body: { displayname: "Alice Liddell" },
      });
      assert.equal(dn.status, 200, JSON.stringify(dn.body));
      await assertMatchesSpec("profile.yaml", "/profile/{userId}/{keyName}", "put", 200, dn.body);
      const av = await api(base, "PUT", `${V3}/profile/${enc(alice.userId)}/avatar_url`, {
        token: alice.accessToken,
        body: { avatar_url: "mxc://test.local/abcDEF123" },
      });
      assert.equal(av.status, 200, JSON.stringify(av.body));
      await assertMatchesSpec("profile.yaml", "/profile/{userId}/{keyName}", "put", 200, av.body);

      const getDn = await api(base, "GET", `${V3}/profile/${enc(alice.userId)}/displayname`);
      assert.equal(getDn.status, 200);
      assert.deepEqual(getDn.body, { displayname: "Alice Liddell" });
      const getAv = await api(base, "GET", `${V3}/profile/${enc(alice.userId)}/avatar_url`, { token: bob.accessToken });
      assert.equal(getAv.status, 200);
      await assertMatchesSpec("profile.yaml", "/profile/{userId}/{keyName}", "get", 200, getAv.body);
      assert.deepEqual(getAv.body, { avatar_url: "mxc://test.local/abcDEF123" });
      const all = await api(base, "GET", `${V3}/profile/${enc(alice.userId)}`);
      assert.equal(all.status, 200);
      await assertMatchesSpec("profile.yaml", "/profile/{userId}", "get", 200, all.body);
      assert.deepEqual(all.body, { displayname: "Alice Liddell", avatar_url: "mxc://test.local/abcDEF123" });
    });

    it("PUT null clears the display name (GET is then 404 M_NOT_FOUND)", async () => {
      const carol = await registerUser(base, "carol");
      const put = await api(base, "PUT", `${V3}/profile/${enc(carol.userId)}/displayname`, { token: carol.accessToken, body: { displayname: null } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const get = await api(base, "GET", `${V3}/profile/${enc(carol.userId)}/displayname`);
      assert.equal(get.status, 404);
      assert.equal(get.body.errcode, "M_NOT_FOUND");
      const all = await api(base, "GET", `${V3}/profile/${enc(carol.userId)}`);
      assert.equal(all.status, 200);
      assert.deepEqual(all.body, {});
    });

    it("403 M_FORBIDDEN when changing another user's profile, which stays unchanged", async () => {
      for (const [field, value] of [["displayname", "Hacked"], ["avatar_url", "mxc://test.local/evil"]] as const) {
        const res = await api(base, "PUT", `${V3}/profile/${enc(bob.userId)}/${field}`, { token: alice.accessToken, body: { [field]: value } });
        assert.equal(res.status, 403, `${field}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, "M_FORBIDDEN");
      }
      const all = await api(base, "GET", `${V3}/profile/${enc(bob.userId)}`);
      assert.deepEqual(all.body, { displayname: "bob" });
    });

    it("PUT requires an access token (401 M_MISSING_TOKEN)", async () => {
      const res = await api(base, "PUT", `${V3}/profile/${enc(alice.userId)}/displayname`, { body: { displayname: "x" } });
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    });

    it("404 M_NOT_FOUND for an unknown user", async () => {
      for (const suffix of ["", "/displayname", "/avatar_url"]) {
        const res = await api(base, "GET", `${V3}/profile/${enc("@nobody:test.local")}${suffix}`);
        assert.equal(res.status, 404, `GET profile${suffix}`);
        assert.equal(res.body.errcode, "M_NOT_FOUND");
      }
    });

    it("400 M_INVALID_PARAM for a malformed user id", async () => {
      for (const bad of ["alice", "@alice", "@:test.local", "@al:ice:bad server"]) {
        const res = await api(base, "GET", `${V3}/profile/${enc(bad)}`);
        assert.equal(res.status, 400, `${bad}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, "M_INVALID_PARAM");
        const put = await api(base, "PUT", `${V3}/profile/${enc(bad)}/displayname`, { token: alice.accessToken, body: { displayname: "x" } });
        assert.equal(put.status, 400, `PUT ${bad}: ${JSON.stringify(put.body)}`);
        assert.equal(put.body.errcode, "M_INVALID_PARAM");
      }
    });

    it("400 M_BAD_JSON for an avatar_url that is not an mxc:// URI", async () => {
      for (const url of ["https://example.org/a.png", "MXC://test.local/x", "file:///etc/passwd"]) {
        const res = await api(base, "PUT", `${V3}/profile/${enc(alice.userId)}/avatar_url`, { token: alice.accessToken, body: { avatar_url: url } });
        assert.equal(res.status, 400, url);
        assert.equal(res.body.errcode, "M_BAD_JSON");
      }
      const get = await api(base, "GET", `${V3}/profile/${enc(alice.userId)}/avatar_url`);
      assert.deepEqual(get.body, { avatar_url: "mxc://test.local/abcDEF123" });
    });

    it("400 M_BAD_JSON for values that are too long or of the wrong type, or missing", async () => {
      const cases: [string, unknown][] = [
        ["displayname", { displayname: "x".repeat(257) }],
        ["avatar_url", { avatar_url: "mxc://test.local/" + "a".repeat(1000) }],
        ["displayname", { displayname: 42 }],
        ["avatar_url", { avatar_url: ["mxc://test.local/x"] }],
        ["displayname", {}],
      ];
      for (const [field, body] of cases) {
        const res = await api(base, "PUT", `${V3}/profile/${enc(alice.userId)}/${field}`, { token: alice.accessToken, body });
        assert.equal(res.status, 400, `${field} ${JSON.stringify(body).slice(0, 60)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, "M_BAD_JSON");
      }
      const all = await api(base, "GET", `${V3}/profile/${enc(alice.userId)}`);
      assert.deepEqual(all.body, { displayname: "Alice Liddell", avatar_url: "mxc://test.local/abcDEF123" });
    });

    it("a display name at the limit (256 characters) is accepted", async () => {
      const name = "n".repeat(256);
      const res = await api(base, "PUT", `${V3}/profile/${enc(bob.userId)}/displayname`, { token: bob.accessToken, body: { displayname: name } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const get = await api(base, "GET", `${V3}/profile/${enc(bob.userId)}/displayname`);
      assert.deepEqual(get.body, { displayname: name });
      const reset = await api(base, "PUT", `${V3}/profile/${enc(bob.userId)}/displayname`, { token: bob.accessToken, body: { displayname: "bob" } });
      assert.equal(reset.status, 200);
    });
  });

  describe("filters", () => {
    const filter = {
      event_fields: ["type", "content.body"],
      event_format: "client",
      presence: { not_types: ["*"] },
      account_data: { types: ["m.push_rules"], limit: 5 },
      room: {
        rooms: ["!abc:test.local"],
        include_leave: false,
        timeline: { limit: 20, lazy_load_members: true, not_senders: ["@spam:test.local"] },
        state: { lazy_load_members: true },
        ephemeral: { types: ["m.receipt", "m.typing"] },
      },
    };

    it("POST returns a filter_id; GET returns the same JSON", async () => {
      const post = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body: filter });
      assert.equal(post.status, 200, JSON.stringify(post.body));
      await assertMatchesSpec("filter.yaml", "/user/{userId}/filter", "post", 200, post.body);
      assert.equal(typeof post.body.filter_id, "string");
      assert.ok(post.body.filter_id.length > 0);
      assert.ok(!post.body.filter_id.startsWith("{"), "filter ids must not look like inline JSON filters");

      const get = await api(base, "GET", `${V3}/user/${enc(alice.userId)}/filter/${enc(post.body.filter_id)}`, { token: alice.accessToken });
      assert.equal(get.status, 200);
      await assertMatchesSpec("filter.yaml", "/user/{userId}/filter/{filterId}", "get", 200, get.body);
      assert.deepEqual(get.body, filter);
    });

    it("two filters get two ids, each returning its own JSON", async () => {
      const a = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body: { room: { timeline: { limit: 1 } } } });
      const b = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body: { room: { timeline: { limit: 2 } } } });
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      assert.notEqual(a.body.filter_id, b.body.filter_id);
      const ga = await api(base, "GET", `${V3}/user/${enc(alice.userId)}/filter/${a.body.filter_id}`, { token: alice.accessToken });
      const gb = await api(base, "GET", `${V3}/user/${enc(alice.userId)}/filter/${b.body.filter_id}`, { token: alice.accessToken });
      assert.deepEqual(ga.body, { room: { timeline: { limit: 1 } } });
      assert.deepEqual(gb.body, { room: { timeline: { limit: 2 } } });
    });

    it("an empty filter is accepted and round-trips", async () => {
      const post = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(bob.userId)}/filter`, { token: bob.accessToken, body: {} });
      assert.equal(post.status, 200);
      const get = await api(base, "GET", `${V3}/user/${enc(bob.userId)}/filter/${post.body.filter_id}`, { token: bob.accessToken });
      assert.equal(get.status, 200);
      assert.deepEqual(get.body, {});
    });

    it("403 M_FORBIDDEN for another user's filters (read and create)", async () => {
      const post = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body: { presence: { limit: 1 } } });
      assert.equal(post.status, 200);
      const read = await api(base, "GET", `${V3}/user/${enc(alice.userId)}/filter/${post.body.filter_id}`, { token: bob.accessToken });
      assert.equal(read.status, 403);
      assert.equal(read.body.errcode, "M_FORBIDDEN");
      const create = await api(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: bob.accessToken, body: {} });
      assert.equal(create.status, 403);
      assert.equal(create.body.errcode, "M_FORBIDDEN");
    });

    it("filter ids are per user: bob's namespace does not expose alice's filter", async () => {
      const post = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body: { account_data: { limit: 3 } } });
      assert.equal(post.status, 200);
      const res = await api(base, "GET", `${V3}/user/${enc(bob.userId)}/filter/${post.body.filter_id}`, { token: bob.accessToken });
      if (res.status === 200) assert.notDeepEqual(res.body, { account_data: { limit: 3 } });
      else {
        assert.equal(res.status, 404);
        assert.equal(res.body.errcode, "M_NOT_FOUND");
      }
    });

    it("404 M_NOT_FOUND for an unknown filter id", async () => {
      for (const id of ["999999", "abc", "-1", "1.5"]) {
        const res = await api(base, "GET", `${V3}/user/${enc(alice.userId)}/filter/${enc(id)}`, { token: alice.accessToken });
        assert.equal(res.status, 404, `${id}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, "M_NOT_FOUND");
      }
    });

    it("400 M_BAD_JSON for invalid filter shapes", async () => {
      const bad: unknown[] = [
        { room: { timeline: { limit: "10" } } },
        { presence: { limit: "5" } },
        { event_format: "xml" },
        { room: "not an object" },
        { room: ["!a:test.local"] },
        { room: { rooms: "!a:test.local" } },
        { event_fields: "type" },
        { room: { timeline: { limit: -1 } } },
        { room: { include_leave: "yes" } },
      ];
      for (const body of bad) {
        const res = await api(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, "M_BAD_JSON", JSON.stringify(body));
      }
    });

    it("unknown extra keys are accepted and kept", async () => {
      const body = { "org.example.custom": { x: 1 }, room: { timeline: { limit: 3, "org.example.flag": true }, "org.example.other": [1, 2] } };
      const post = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { token: alice.accessToken, body });
      assert.equal(post.status, 200, JSON.stringify(post.body));
      await assertMatchesSpec("filter.yaml", "/user/{userId}/filter", "post", 200, post.body);
      const get = await api(base, "GET", `${V3}/user/${enc(alice.userId)}/filter/${post.body.filter_id}`, { token: alice.accessToken });
      assert.equal(get.status, 200);
      assert.deepEqual(get.body, body);
    });

    it("requires an access token (401 M_MISSING_TOKEN)", async () => {
      const res = await api(base, "POST", `${V3}/user/${enc(alice.userId)}/filter`, { body: {} });
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    });
  });

  describe("GET /capabilities", () => {
    it("is spec-valid: password change enabled, default room version 10", async () => {
      const res = await api<{ capabilities: Record<string, Record<string, unknown>> }>(base, "GET", `${V3}/capabilities`, { token: alice.accessToken });
      assert.equal(res.status, 200);
      await assertMatchesSpec("capabilities.yaml", "/capabilities", "get", 200, res.body);
      assert.deepEqual(res.body.capabilities["m.change_password"], { enabled: true });
      const rv = res.body.capabilities["m.room_versions"] as { default: string; available: Record<string, string> };
      assert.equal(rv.default, "10");
      assert.equal(rv.available["10"], "stable");
    });

    it("requires an access token (401 M_MISSING_TOKEN)", async () => {
      const res = await api(base, "GET", `${V3}/capabilities`);
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    });
  });

  describe("GET /_matrix/client/versions", () => {
    const expected = ["r0.6.1", ...Array.from({ length: 12 }, (_, i) => `v1.${i + 1}`)];

    const variants: [string, () => Record<string, string> | undefined][] = [
      ["no Authorization header", () => undefined],
      ["a valid access token", () => ({ authorization: `Bearer ${alice.accessToken}` })],
      ["an unknown access token", () => ({ authorization: "Bearer syt_not_a_real_token" })],
      ["a malformed Authorization header", () => ({ authorization: "Basic dXNlcjpwYXNz" })],
    ];
    for (const [label, headers] of variants) {
      it(`answers 200, spec-valid, with ${label}`, async () => {
        const h = headers();
        const res = await api<{ versions: string[]; unstable_features?: Record<string, boolean> }>(base, "GET", "/_matrix/client/versions", h ? { headers: h } : {});
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await assertMatchesSpec("versions.yaml", "/versions", "get", 200, res.body);
        for (const v of expected) assert.ok(res.body.versions.includes(v), `missing version ${v}: ${JSON.stringify(res.body.versions)}`);
        for (const v of res.body.versions) assert.match(v, /^(r0\.\d+\.\d+|v1\.\d+)$/, "versions must be exact strings");
      });
    }

    it("also answers with ?access_token= junk", async () => {
      const res = await api(base, "GET", "/_matrix/client/versions?access_token=junk");
      assert.equal(res.status, 200);
      await assertMatchesSpec("versions.yaml", "/versions", "get", 200, res.body);
    });
  });

  describe("GET /.well-known/matrix/client", () => {
    it("is spec-valid and names this server's base URL", async () => {
      const res = await api<{ "m.homeserver": { base_url: string } }>(base, "GET", "/.well-known/matrix/client");
      assert.equal(res.status, 200);
      await assertMatchesSpec("wellknown.yaml", "/matrix/client", "get", 200, res.body);
      assert.match(res.body["m.homeserver"].base_url, /^https?:\/\/[^/]+$/);
      // The server listens on port 0 (any): the advertised URL is the one actually bound.
      assert.equal(res.body["m.homeserver"].base_url, base, "a client following .well-known reaches this server");
      assert.ok(res.headers.get("content-type")?.startsWith("application/json"));
    });
  });
});
