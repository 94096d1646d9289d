/**
 * GET/POST /login, POST /refresh, POST /logout, POST /logout/all, GET /account/whoami,
 * access-token handling and the login/registration rate limits, over real HTTP.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type ApiResponse, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { ManualClock } from "../../src/util/clock.js";
import { expectError, type Spec } from "./expect-error.js";

const V3 = "/_matrix/client/v3";
const R0 = "/_matrix/client/r0";

type Body = Record<string, unknown>;

const LOGIN_SPEC: Spec = { file: "login.yaml", path: "/login", method: "post" };
const WHOAMI_SPEC: Spec = { file: "whoami.yaml", path: "/account/whoami", method: "get" };
const REFRESH_SPEC: Spec = { file: "refresh.yaml", path: "/refresh", method: "post" };
const REGISTER_SPEC: Spec = { file: "registration.yaml", path: "/register", method: "post" };


function login(baseUrl: string, body: Body, prefix = V3): Promise<ApiResponse> {
  return api(baseUrl, "POST", `${prefix}/login`, { body });
}

function passwordLogin(baseUrl: string, user: string, password: string, extra: Body = {}): Promise<ApiResponse> {
  return login(baseUrl, { type: "m.login.password", identifier: { type: "m.id.user", user }, password, ...extra });
}

/** Logs in and checks the response against the spec. */
async function loginOk(baseUrl: string, user: string, password: string, extra: Body = {}): Promise<{ user_id: string; access_token: string; device_id: string; refresh_token?: string; expires_in_ms?: number }> {
  const res = await passwordLogin(baseUrl, user, password, extra);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await assertMatchesSpec("login.yaml", "/login", "post", 200, res.body);
  return res.body as never;
}

function whoami(baseUrl: string, token: string, prefix = V3): Promise<ApiResponse> {
  return api(baseUrl, "GET", `${prefix}/account/whoami`, { token });
}

function refresh(baseUrl: string, refreshToken: string): Promise<ApiResponse> {
  return api(baseUrl, "POST", `${V3}/refresh`, { body: { refresh_token: refreshToken } });
}

async function expectTokenAlive(baseUrl: string, token: string, userId: string): Promise<void> {
  const res = await whoami(baseUrl, token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.user_id, userId);
}

async function expectTokenDead(baseUrl: string, token: string): Promise<void> {
  await expectError(await whoami(baseUrl, token), 401, "M_UNKNOWN_TOKEN", WHOAMI_SPEC);
}

async function deviceIds(baseUrl: string, token: string): Promise<string[]> {
  const res = await api<{ devices: { device_id: string }[] }>(baseUrl, "GET", `${V3}/devices`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.devices.map((d) => d.device_id).sort();
}

describe("GET /login", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  it("lists m.login.password", async () => {
    for (const prefix of [V3, R0]) {
      const res = await api(server.baseUrl, "GET", `${prefix}/login`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("login.yaml", "/login", "get", 200, res.body);
      const flows = res.body.flows as { type: string }[];
      assert.ok(flows.some((f) => f.type === "m.login.password"), JSON.stringify(flows));
    }
  });
});

describe("POST /login", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice", "alice-password");
  });
  after(async () => {
    await server.close();
  });

  it("logs in with an m.id.user identifier holding the localpart", async () => {
    const res = await loginOk(base, "alice", "alice-password");
    assert.equal(res.user_id, "@alice:test.local");
    assert.equal(typeof res.access_token, "string");
    assert.equal(typeof res.device_id, "string");
    assert.notEqual(res.access_token, alice.accessToken);
    assert.notEqual(res.device_id, alice.deviceId, "a login without device_id makes a new device");
    assert.equal("refresh_token" in res, false);
    assert.equal("expires_in_ms" in res, false);
    const who = await whoami(base, res.access_token);
    assert.deepEqual(who.body, { user_id: "@alice:test.local", device_id: res.device_id, is_guest: false });
  });

  it("returns home_server and a well_known base_url", async () => {
    const res = await passwordLogin(base, "alice", "alice-password");
    assert.equal(res.status, 200);
    assert.equal(res.body.home_server, "test.local");
    const wk = res.body.well_known as { "m.homeserver": { base_url: string } };
    assert.equal(typeof wk["m.homeserver"].base_url, "string");
    assert.match(wk["m.homeserver"].base_url, /^https?:\/\//);
    assert.equal(wk["m.homeserver"].base_url, base, "the bound address, not the configured port 0");
  });

  it("logs in with an m.id.user identifier holding the full user id", async () => {
    const res = await loginOk(base, "@alice:test.local", "alice-password");
    assert.equal(res.user_id, "@alice:test.local");
    await expectTokenAlive(base, res.access_token, "@alice:test.local");
  });

  it("logs in with a localpart in another case", async () => {
    const res = await loginOk(base, "ALICE", "alice-password");
    assert.equal(res.user_id, "@alice:test.local");
  });

  it("logs in with the legacy top-level user field", async () => {
    for (const user of ["alice", "@alice:test.local"]) {
      const res = await login(base, { type: "m.login.password", user, password: "alice-password" }, R0);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("login.yaml", "/login", "post", 200, res.body);
      assert.equal(res.body.user_id, "@alice:test.local");
      await expectTokenAlive(base, res.body.access_token as string, "@alice:test.local");
    }
  });

  it("answers a wrong password with 403 M_FORBIDDEN", async () => {
    await expectError(await passwordLogin(base, "alice", "wrong"), 403, "M_FORBIDDEN", LOGIN_SPEC);
    await expectError(await passwordLogin(base, "alice", ""), 403, "M_FORBIDDEN", LOGIN_SPEC);
    await expectError(await passwordLogin(base, "alice", "ALICE-PASSWORD"), 403, "M_FORBIDDEN", LOGIN_SPEC);
  });

  it("answers an unknown user with the same 403 M_FORBIDDEN", async () => {
    const unknown = await passwordLogin(base, "nobody", "alice-password");
    await expectError(unknown, 403, "M_FORBIDDEN", LOGIN_SPEC);
    const wrong = await passwordLogin(base, "alice", "nope");
    assert.equal(unknown.body.error, wrong.body.error, "the message must not reveal whether the account exists");
    await expectError(await passwordLogin(base, "@alice:other.server", "alice-password"), 403, "M_FORBIDDEN", LOGIN_SPEC);
    await expectError(await passwordLogin(base, "not a user id:", "alice-password"), 403, "M_FORBIDDEN", LOGIN_SPEC);
  });

  it("answers an unknown login type with 400 M_UNKNOWN", async () => {
    const res = await login(base, { type: "m.login.bogus", identifier: { type: "m.id.user", user: "alice" }, password: "alice-password" });
    await expectError(res, 400, "M_UNKNOWN", LOGIN_SPEC);
    const token = await login(base, { type: "m.login.token", token: "abc" });
    await expectError(token, 400, "M_UNKNOWN", LOGIN_SPEC);
  });

  it("answers an unsupported identifier type with 400", async () => {
    const res = await login(base, {
      type: "m.login.password",
      identifier: { type: "m.id.thirdparty", medium: "email", address: "alice@example.org" },
      password: "alice-password",
    });
    await expectError(res, 400, "M_UNKNOWN", LOGIN_SPEC);
  });

  it("answers a missing password with 400 M_BAD_JSON", async () => {
    const res = await login(base, { type: "m.login.password", identifier: { type: "m.id.user", user: "alice" } });
    await expectError(res, 400, "M_BAD_JSON", LOGIN_SPEC);
  });

  it("answers a missing type with 400 M_BAD_JSON", async () => {
    const res = await login(base, { identifier: { type: "m.id.user", user: "alice" }, password: "alice-password" });
    await expectError(res, 400, "M_BAD_JSON", LOGIN_SPEC);
  });

  it("answers a body that is not JSON with 400 M_NOT_JSON", async () => {
    const res = await api(base, "POST", `${V3}/login`, { body: "{not json" });
    await expectError(res, 400, "M_NOT_JSON", LOGIN_SPEC);
  });

  it("reuses the device named by device_id instead of making another", async () => {
    const user = await registerUser(base, "reuser", "reuser-pw");
    const first = await loginOk(base, "reuser", "reuser-pw", { device_id: "REUSED", initial_device_display_name: "Laptop" });
    assert.equal(first.device_id, "REUSED");
    const second = await loginOk(base, "reuser", "reuser-pw", { device_id: "REUSED", initial_device_display_name: "Ignored" });
    assert.equal(second.device_id, "REUSED");
    assert.notEqual(second.access_token, first.access_token);
    await expectTokenAlive(base, second.access_token, "@reuser:test.local");
    const who = await whoami(base, second.access_token);
    assert.equal(who.body.device_id, "REUSED");
    assert.deepEqual(await deviceIds(base, user.accessToken), [user.deviceId, "REUSED"].sort());
    const dev = await api(base, "GET", `${V3}/devices/REUSED`, { token: user.accessToken });
    assert.equal(dev.status, 200);
    assert.equal(dev.body.display_name, "Laptop", "initial_device_display_name is ignored for a known device");
  });

  it("honours initial_device_display_name on a new device", async () => {
    const res = await loginOk(base, "alice", "alice-password", { initial_device_display_name: "Work desktop" });
    const dev = await api(base, "GET", `${V3}/devices/${encodeURIComponent(res.device_id)}`, { token: res.access_token });
    assert.equal(dev.status, 200, JSON.stringify(dev.body));
    assert.equal(dev.body.display_name, "Work desktop");
  });

  it("answers a deactivated user with 403 M_USER_DEACTIVATED", async () => {
    const user = await registerUser(base, "leaver", "leaver-pw");
    const deact = await api(base, "POST", `${V3}/account/deactivate`, {
      token: user.accessToken,
      body: { auth: { type: "m.login.password", identifier: { type: "m.id.user", user: "leaver" }, password: "leaver-pw" } },
    });
    assert.equal(deact.status, 200, JSON.stringify(deact.body));
    await expectError(await passwordLogin(base, "leaver", "leaver-pw"), 403, "M_USER_DEACTIVATED", LOGIN_SPEC);
    await expectError(await passwordLogin(base, "@leaver:test.local", "leaver-pw"), 403, "M_USER_DEACTIVATED", LOGIN_SPEC);
  });
});

describe("refresh tokens", () => {
  let server: TestServer;
  let base: string;
  const clock = new ManualClock();
  before(async () => {
    server = await startServer({}, { clock });
    base = server.baseUrl;
    await registerUser(base, "bob", "bob-password");
  });
  after(async () => {
    await server.close();
  });

  it("login with refresh_token: true returns a refresh token and expires_in_ms", async () => {
    const res = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    assert.equal(typeof res.refresh_token, "string");
    assert.ok(res.refresh_token!.length >= 16);
    assert.notEqual(res.refresh_token, res.access_token);
    assert.equal(res.expires_in_ms, 300_000);
  });

  it("login with refresh_token: false returns neither", async () => {
    const res = await loginOk(base, "bob", "bob-password", { refresh_token: false });
    assert.equal(res.refresh_token, undefined);
    assert.equal(res.expires_in_ms, undefined);
  });

  it("POST /refresh returns a new working pair for the same device", async () => {
    const first = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    const res = await refresh(base, first.refresh_token!);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("refresh.yaml", "/refresh", "post", 200, res.body);
    assert.equal(typeof res.body.access_token, "string");
    assert.equal(typeof res.body.refresh_token, "string");
    assert.equal(res.body.expires_in_ms, 300_000);
    assert.notEqual(res.body.access_token, first.access_token);
    assert.notEqual(res.body.refresh_token, first.refresh_token);
    const who = await whoami(base, res.body.access_token as string);
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, { user_id: "@bob:test.local", device_id: first.device_id, is_guest: false });
  });

  it("the old refresh token works until the new access token is used, then 401 M_UNKNOWN_TOKEN", async () => {
    const first = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    const second = await refresh(base, first.refresh_token!);
    assert.equal(second.status, 200);
    // The response may have been lost: retrying with the old refresh token still works.
    const retry = await refresh(base, first.refresh_token!);
    assert.equal(retry.status, 200, JSON.stringify(retry.body));
    await assertMatchesSpec("refresh.yaml", "/refresh", "post", 200, retry.body);
    // Using the newest access token proves it arrived: the old refresh token is revoked.
    await expectTokenAlive(base, retry.body.access_token as string, "@bob:test.local");
    await expectError(await refresh(base, first.refresh_token!), 401, "M_UNKNOWN_TOKEN", REFRESH_SPEC);
    // The pair in use carries on.
    const next = await refresh(base, retry.body.refresh_token as string);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    await expectTokenAlive(base, next.body.access_token as string, "@bob:test.local");
  });

  it("the replaced access token, accepted just before, is refused once the new one is used", async () => {
    const first = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    await expectTokenAlive(base, first.access_token, "@bob:test.local");
    const second = await refresh(base, first.refresh_token!);
    assert.equal(second.status, 200);
    await expectTokenAlive(base, first.access_token, "@bob:test.local"); // the new pair may not have arrived yet
    await expectTokenAlive(base, second.body.access_token as string, "@bob:test.local");
    await expectError(await whoami(base, first.access_token), 401, "M_UNKNOWN_TOKEN", WHOAMI_SPEC);
  });

  it("using the new refresh token also revokes the old one", async () => {
    const first = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    const second = await refresh(base, first.refresh_token!);
    assert.equal(second.status, 200);
    const third = await refresh(base, second.body.refresh_token as string);
    assert.equal(third.status, 200, JSON.stringify(third.body));
    await expectError(await refresh(base, first.refresh_token!), 401, "M_UNKNOWN_TOKEN", REFRESH_SPEC);
  });

  it("an expired access token gets 401 M_UNKNOWN_TOKEN with soft_logout: true; refreshing recovers", async () => {
    const res = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    clock.advance(299_999);
    await expectTokenAlive(base, res.access_token, "@bob:test.local");
    clock.advance(1);
    const expired = await whoami(base, res.access_token);
    await expectError(expired, 401, "M_UNKNOWN_TOKEN", WHOAMI_SPEC);
    assert.equal(expired.body.soft_logout, true);
    const renewed = await refresh(base, res.refresh_token!);
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));
    await expectTokenAlive(base, renewed.body.access_token as string, "@bob:test.local");
    const who = await whoami(base, renewed.body.access_token as string);
    assert.equal(who.body.device_id, res.device_id);
  });

  it("a token issued without a refresh token does not expire", async () => {
    const res = await loginOk(base, "bob", "bob-password");
    clock.advance(30 * 24 * 3600_000);
    await expectTokenAlive(base, res.access_token, "@bob:test.local");
  });

  it("an unknown refresh token gets 401 M_UNKNOWN_TOKEN", async () => {
    await expectError(await refresh(base, "slr_not-a-real-token"), 401, "M_UNKNOWN_TOKEN", REFRESH_SPEC);
  });

  it("an access token is not a refresh token", async () => {
    const res = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    await expectError(await refresh(base, res.access_token), 401, "M_UNKNOWN_TOKEN", REFRESH_SPEC);
  });

  it("a missing refresh_token is 400 M_BAD_JSON", async () => {
    await expectError(await api(base, "POST", `${V3}/refresh`, { body: {} }), 400, "M_BAD_JSON");
  });

  it("logout kills the refresh token too", async () => {
    const res = await loginOk(base, "bob", "bob-password", { refresh_token: true });
    const out = await api(base, "POST", `${V3}/logout`, { token: res.access_token });
    assert.equal(out.status, 200);
    await expectError(await refresh(base, res.refresh_token!), 401, "M_UNKNOWN_TOKEN", REFRESH_SPEC);
  });
});

describe("logout", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("POST /logout invalidates the token and removes its device", async () => {
    const carol = await registerUser(base, "carol", "carol-pw");
    const other = await loginOk(base, "carol", "carol-pw");
    const res = await api(base, "POST", `${V3}/logout`, { token: other.access_token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("logout.yaml", "/logout", "post", 200, res.body);
    assert.deepEqual(res.body, {});
    await expectTokenDead(base, other.access_token);
    assert.deepEqual(await deviceIds(base, carol.accessToken), [carol.deviceId]);
    await expectTokenAlive(base, carol.accessToken, "@carol:test.local");
    // Logging out again with the dead token is refused.
    await expectError(await api(base, "POST", `${V3}/logout`, { token: other.access_token }), 401, "M_UNKNOWN_TOKEN");
  });

  it("POST /logout without a token is 401 M_MISSING_TOKEN", async () => {
    await expectError(await api(base, "POST", `${V3}/logout`), 401, "M_MISSING_TOKEN");
  });

  it("POST /logout/all invalidates every session of the user but not other users'", async () => {
    const dave = await registerUser(base, "dave", "dave-pw");
    const dave2 = await loginOk(base, "dave", "dave-pw");
    const dave3 = await loginOk(base, "dave", "dave-pw", { refresh_token: true });
    const erin = await registerUser(base, "erin", "erin-pw");
    const res = await api(base, "POST", `${V3}/logout/all`, { token: dave2.access_token });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("logout.yaml", "/logout/all", "post", 200, res.body);
    for (const token of [dave.accessToken, dave2.access_token, dave3.access_token]) await expectTokenDead(base, token);
    await expectError(await refresh(base, dave3.refresh_token!), 401, "M_UNKNOWN_TOKEN", REFRESH_SPEC);
    await expectTokenAlive(base, erin.accessToken, "@erin:test.local");
    // The account itself is fine: a new login works and sees only its own device.
    const again = await loginOk(base, "dave", "dave-pw");
    assert.deepEqual(await deviceIds(base, again.access_token), [again.device_id]);
  });

  it("both work under the r0 prefix", async () => {
    await registerUser(base, "frank", "frank-pw");
    const a = await loginOk(base, "frank", "frank-pw");
    const b = await loginOk(base, "frank", "frank-pw");
    assert.equal((await api(base, "POST", `${R0}/logout`, { token: a.access_token })).status, 200);
    await expectTokenDead(base, a.access_token);
    await expectTokenAlive(base, b.access_token, "@frank:test.local");
    assert.equal((await api(base, "POST", `${R0}/logout/all`, { token: b.access_token })).status, 200);
    await expectTokenDead(base, b.access_token);
  });
});

describe("GET /account/whoami and access tokens", () => {
  let server: TestServer;
  let base: string;
  let grace: TestUser;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    grace = await registerUser(base, "grace", "grace-pw");
  });
  after(async () => {
    await server.close();
  });

  it("answers user_id, device_id and is_guest: false with a Bearer token", async () => {
    const res = await whoami(base, grace.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("whoami.yaml", "/account/whoami", "get", 200, res.body);
    assert.deepEqual(res.body, { user_id: "@grace:test.local", device_id: grace.deviceId, is_guest: false });
  });

  it("accepts the token as ?access_token=", async () => {
    const res = await api(base, "GET", `${V3}/account/whoami?access_token=${encodeURIComponent(grace.accessToken)}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("whoami.yaml", "/account/whoami", "get", 200, res.body);
    assert.deepEqual(res.body, { user_id: "@grace:test.local", device_id: grace.deviceId, is_guest: false });
  });

  it("works under r0", async () => {
    const res = await whoami(base, grace.accessToken, R0);
    assert.equal(res.status, 200);
    assert.equal(res.body.user_id, "@grace:test.local");
  });

  it("answers a missing token with 401 M_MISSING_TOKEN", async () => {
    await expectError(await api(base, "GET", `${V3}/account/whoami`), 401, "M_MISSING_TOKEN", WHOAMI_SPEC);
    await expectError(await api(base, "GET", `${V3}/account/whoami?access_token=`), 401, "M_MISSING_TOKEN", WHOAMI_SPEC);
  });

  it("answers a garbage token with 401 M_UNKNOWN_TOKEN (not soft-logged-out)", async () => {
    const res = await whoami(base, "garbage");
    await expectError(res, 401, "M_UNKNOWN_TOKEN", WHOAMI_SPEC);
    assert.notEqual(res.body.soft_logout, true);
    const q = await api(base, "GET", `${V3}/account/whoami?access_token=garbage`);
    await expectError(q, 401, "M_UNKNOWN_TOKEN", WHOAMI_SPEC);
  });

  it("answers a malformed Authorization header with 401", async () => {
    const res = await api(base, "GET", `${V3}/account/whoami`, { headers: { authorization: "Basic Zm9vOmJhcg==" } });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.errcode, "M_UNKNOWN_TOKEN");
  });

  it("a token is bound to its user and device", async () => {
    const heidi = await registerUser(base, "heidi", "heidi-pw");
    const res = await whoami(base, heidi.accessToken);
    assert.deepEqual(res.body, { user_id: "@heidi:test.local", device_id: heidi.deviceId, is_guest: false });
    assert.notEqual(heidi.deviceId, grace.deviceId);
  });
});

async function expectRateLimited(res: ApiResponse, spec: Spec): Promise<void> {
  await expectError(res, 429, "M_LIMIT_EXCEEDED", spec);
  const ms = res.body.retry_after_ms;
  assert.equal(typeof ms, "number");
  assert.ok((ms as number) > 0, `retry_after_ms ${String(ms)}`);
  const header = res.headers.get("retry-after");
  assert.ok(header !== null, "Retry-After header");
  assert.match(header, /^\d+$/);
  assert.ok(Number(header) > 0);
  assert.equal(Number(header), Math.ceil((ms as number) / 1000));
}

describe("rate limiting: login per address", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ rateLimits: { loginPerAddress: { perSecond: 0.001, burst: 2 } } });
    base = server.baseUrl;
    await registerUser(base, "ivan", "ivan-pw");
    await registerUser(base, "judy", "judy-pw");
  });
  after(async () => {
    await server.close();
  });

  it("answers the third login from one address 429 M_LIMIT_EXCEEDED", async () => {
    assert.equal((await passwordLogin(base, "ivan", "ivan-pw")).status, 200);
    assert.equal((await passwordLogin(base, "ivan", "wrong")).status, 403, "failed logins count too");
    await expectRateLimited(await passwordLogin(base, "ivan", "ivan-pw"), LOGIN_SPEC);
    // The limit is per address, so another account from the same address is limited too.
    await expectRateLimited(await passwordLogin(base, "judy", "judy-pw"), LOGIN_SPEC);
  });
});

describe("rate limiting: login per account", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ rateLimits: { loginPerAccount: { perSecond: 0.001, burst: 2 } } });
    base = server.baseUrl;
    await registerUser(base, "ken", "ken-pw");
    await registerUser(base, "lena", "lena-pw");
  });
  after(async () => {
    await server.close();
  });

  it("answers the third login to one account 429, however the account is named, while another account still logs in", async () => {
    assert.equal((await passwordLogin(base, "ken", "ken-pw")).status, 200);
    assert.equal((await login(base, { type: "m.login.password", user: "@ken:test.local", password: "ken-pw" })).status, 200);
    await expectRateLimited(await passwordLogin(base, "ken", "ken-pw"), LOGIN_SPEC);
    await expectRateLimited(await passwordLogin(base, "@ken:test.local", "ken-pw"), LOGIN_SPEC);
    await expectRateLimited(await passwordLogin(base, "KEN", "ken-pw"), LOGIN_SPEC);
    const other = await passwordLogin(base, "lena", "lena-pw");
    assert.equal(other.status, 200, JSON.stringify(other.body));
    assert.equal(other.body.user_id, "@lena:test.local");
  });
});

describe("rate limiting: registration per address", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ rateLimits: { registerPerAddress: { perSecond: 0.001, burst: 2 } } });
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("answers the third registration start from one address 429; UIA follow-ups of a started one are not limited", async () => {
    const a = await api(base, "POST", `${V3}/register`, { body: { username: "reg1", password: "pw" } });
    assert.equal(a.status, 401, JSON.stringify(a.body));
    const b = await api(base, "POST", `${V3}/register`, { body: { username: "reg2", password: "pw" } });
    assert.equal(b.status, 401, JSON.stringify(b.body));
    await expectRateLimited(await api(base, "POST", `${V3}/register`, { body: { username: "reg3", password: "pw" } }), REGISTER_SPEC);
    const done = await api(base, "POST", `${V3}/register`, { body: { username: "reg1", password: "pw", auth: { type: "m.login.dummy", session: a.body.session } } });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.user_id, "@reg1:test.local");
    await expectRateLimited(await api(base, "GET", `${V3}/register/available?username=reg9`), { file: "registration.yaml", path: "/register/available", method: "get" });
  });
});

describe("rate limiting: registration that skips the challenge", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ rateLimits: { registerPerAddress: { perSecond: 0.001, burst: 2 } } });
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("counts a registration that sends auth without a session", async () => {
    for (const name of ["skip1", "skip2"]) {
      const res = await api(base, "POST", `${V3}/register`, { body: { username: name, password: "pw", auth: { type: "m.login.dummy" } } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const third = await api(base, "POST", `${V3}/register`, { body: { username: "skip3", password: "pw", auth: { type: "m.login.dummy" } } });
    await expectRateLimited(third, REGISTER_SPEC);
  });
});
