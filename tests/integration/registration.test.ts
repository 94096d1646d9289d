/**
 * POST /register (UIA, response fields, options, errors, policy modes),
 * GET /register/available and GET /register/m.login.registration_token/validity, over real HTTP.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type ApiResponse, type TestServer } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";

const V3 = "/_matrix/client/v3";
const R0 = "/_matrix/client/r0";

type Body = Record<string, unknown>;

function register(baseUrl: string, body: Body, opts: { prefix?: string; query?: string } = {}): Promise<ApiResponse> {
  return api(baseUrl, "POST", `${opts.prefix ?? V3}/register${opts.query ?? ""}`, { body });
}

async function expectError(res: ApiResponse, status: number, errcode: string, spec?: { file: string; path: string; method: string }): Promise<void> {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, "string");
  if (spec) await assertMatchesSpec(spec.file, spec.path, spec.method, status, res.body);
}

const REGISTER_SPEC = { file: "registration.yaml", path: "/register", method: "post" };
const AVAILABLE_SPEC = { file: "registration.yaml", path: "/register/available", method: "get" };

async function available(baseUrl: string, username: string, prefix = V3): Promise<ApiResponse> {
  return api(baseUrl, "GET", `${prefix}/register/available?username=${encodeURIComponent(username)}`);
}

async function devicesOf(baseUrl: string, token: string): Promise<{ device_id: string; display_name?: string }[]> {
  const res = await api<{ devices: { device_id: string; display_name?: string }[] }>(baseUrl, "GET", `${V3}/devices`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await assertMatchesSpec("device_management.yaml", "/devices", "get", 200, res.body);
  return res.body.devices;
}

async function whoami(baseUrl: string, token: string): Promise<ApiResponse> {
  return api(baseUrl, "GET", `${V3}/account/whoami`, { token });
}

describe("POST /register (open registration)", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("answers a request without auth with a UIA challenge offering m.login.dummy", async () => {
    const res = await register(base, { username: "challenged", password: "pw-challenged" });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 401, res.body);
    assert.deepEqual(res.body.flows, [{ stages: ["m.login.dummy"] }]);
    assert.deepEqual(res.body.params, {});
    assert.equal(typeof res.body.session, "string");
    assert.ok((res.body.session as string).length > 0);
    assert.equal("errcode" in res.body, false, "a bare challenge carries no errcode");
    assert.equal("error" in res.body, false, "a bare challenge carries no error");
    assert.equal("completed" in res.body, false);
    // The challenge alone must not create the account.
    const avail = await available(base, "challenged");
    assert.equal(avail.status, 200);
    assert.equal(avail.body.available, true);
  });

  it("each challenge opens a new session", async () => {
    const a = await register(base, { username: "twosessions" });
    const b = await register(base, { username: "twosessions" });
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    assert.notEqual(a.body.session, b.body.session);
  });

  it("completes with m.login.dummy and the session from the challenge", async () => {
    const challenge = await register(base, { username: "withsession", password: "pw-withsession" });
    assert.equal(challenge.status, 401);
    const session = challenge.body.session as string;
    const res = await register(base, { username: "withsession", password: "pw-withsession", auth: { type: "m.login.dummy", session } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(res.body.user_id, "@withsession:test.local");
    const who = await whoami(base, res.body.access_token as string);
    assert.equal(who.status, 200);
    assert.equal(who.body.user_id, "@withsession:test.local");
  });

  it("a completed UIA session cannot be used again", async () => {
    const challenge = await register(base, { username: "onceonly" });
    const session = challenge.body.session as string;
    const first = await register(base, { username: "onceonly", auth: { type: "m.login.dummy", session } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const replay = await register(base, { username: "onceonly2", auth: { type: "m.login.dummy", session } });
    await expectError(replay, 400, "M_INVALID_PARAM", REGISTER_SPEC);
    assert.equal((await available(base, "onceonly2")).body.available, true);
  });

  it("completes with m.login.dummy without a session (single request)", async () => {
    const res = await register(base, { username: "nosession", password: "pw-nosession", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(res.body.user_id, "@nosession:test.local");
  });

  it("returns user_id, access_token, device_id and home_server, and the token works", async () => {
    const res = await register(base, { username: "fields", password: "pw-fields", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(res.body.user_id, "@fields:test.local");
    assert.equal(res.body.home_server, "test.local");
    assert.equal(typeof res.body.access_token, "string");
    assert.ok((res.body.access_token as string).length >= 16);
    assert.equal(typeof res.body.device_id, "string");
    assert.ok((res.body.device_id as string).length > 0);
    assert.equal("refresh_token" in res.body, false, "no refresh token unless asked for");
    assert.equal("expires_in_ms" in res.body, false, "no expiry unless a refresh token was asked for");
    const who = await whoami(base, res.body.access_token as string);
    assert.equal(who.status, 200);
    assert.deepEqual(who.body, { user_id: "@fields:test.local", device_id: res.body.device_id, is_guest: false });
    // The password given at registration logs in.
    const login = await api(base, "POST", `${V3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: "fields" }, password: "pw-fields" },
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.user_id, "@fields:test.local");
  });

  it("honours device_id and initial_device_display_name", async () => {
    const res = await register(base, {
      username: "devicechoice",
      password: "pw",
      device_id: "MYDEVICE",
      initial_device_display_name: "My Phone",
      auth: { type: "m.login.dummy" },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(res.body.device_id, "MYDEVICE");
    const devices = await devicesOf(base, res.body.access_token as string);
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!.device_id, "MYDEVICE");
    assert.equal(devices[0]!.display_name, "My Phone");
    const who = await whoami(base, res.body.access_token as string);
    assert.equal(who.body.device_id, "MYDEVICE");
  });

  it("without initial_device_display_name the device has no display name", async () => {
    const res = await register(base, { username: "nodisplay", password: "pw", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200);
    const devices = await devicesOf(base, res.body.access_token as string);
    assert.equal(devices.length, 1);
    assert.equal(devices[0]!.device_id, res.body.device_id);
    assert.equal(devices[0]!.display_name, undefined);
  });

  it("inhibit_login returns no access_token or device_id, and the account can log in later", async () => {
    const res = await register(base, { username: "inhibited", password: "pw-inhibited", inhibit_login: true, auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(res.body.user_id, "@inhibited:test.local");
    assert.equal("access_token" in res.body, false);
    assert.equal("device_id" in res.body, false);
    assert.equal("refresh_token" in res.body, false);
    assert.equal("expires_in_ms" in res.body, false);
    assert.equal((await available(base, "inhibited")).status, 400, "the account exists");
    const login = await api(base, "POST", `${V3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: "inhibited" }, password: "pw-inhibited" },
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const devices = await devicesOf(base, login.body.access_token as string);
    assert.deepEqual(devices.map((d) => d.device_id), [login.body.device_id], "inhibit_login created no device");
  });

  it("inhibit_login: false behaves like the default", async () => {
    const res = await register(base, { username: "notinhibited", password: "pw", inhibit_login: false, auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.access_token, "string");
    assert.equal(typeof res.body.device_id, "string");
  });

  it("refresh_token: true returns a refresh token and expires_in_ms, and the refresh token works", async () => {
    const res = await register(base, { username: "refresher", password: "pw", refresh_token: true, auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(typeof res.body.refresh_token, "string");
    assert.ok((res.body.refresh_token as string).length >= 16);
    assert.equal(res.body.expires_in_ms, 300_000, "the default access token lifetime");
    const refreshed = await api(base, "POST", `${V3}/refresh`, { body: { refresh_token: res.body.refresh_token } });
    assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
    await assertMatchesSpec("refresh.yaml", "/refresh", "post", 200, refreshed.body);
    const who = await whoami(base, refreshed.body.access_token as string);
    assert.equal(who.status, 200);
    assert.equal(who.body.user_id, "@refresher:test.local");
    assert.equal(who.body.device_id, res.body.device_id, "refresh keeps the device");
  });

  it("generates a valid localpart when username is omitted", async () => {
    const a = await register(base, { password: "pw", auth: { type: "m.login.dummy" } });
    const b = await register(base, { auth: { type: "m.login.dummy" } });
    for (const res of [a, b]) {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
      assert.match(res.body.user_id as string, /^@[a-z0-9._=\-/+]+:test\.local$/);
      const who = await whoami(base, res.body.access_token as string);
      assert.equal(who.body.user_id, res.body.user_id);
    }
    assert.notEqual(a.body.user_id, b.body.user_id);
  });

  it("reports M_USER_IN_USE on the first request, before UIA", async () => {
    await registerUser(base, "taken");
    const res = await register(base, { username: "taken", password: "pw" });
    await expectError(res, 400, "M_USER_IN_USE", REGISTER_SPEC);
    assert.equal("session" in res.body, false, "no UIA session is offered for a taken name");
    assert.equal("flows" in res.body, false);
  });

  it("reports M_USER_IN_USE when completing UIA for a taken name", async () => {
    await registerUser(base, "takenlater");
    const res = await register(base, { username: "takenlater", password: "other", auth: { type: "m.login.dummy" } });
    await expectError(res, 400, "M_USER_IN_USE", REGISTER_SPEC);
  });

  it("does not let a second registration take over an existing account's password", async () => {
    await registerUser(base, "victim", "victim-password");
    await register(base, { username: "victim", password: "attacker", auth: { type: "m.login.dummy" } });
    const bad = await api(base, "POST", `${V3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: "victim" }, password: "attacker" },
    });
    await expectError(bad, 403, "M_FORBIDDEN");
    const good = await api(base, "POST", `${V3}/login`, {
      body: { type: "m.login.password", identifier: { type: "m.id.user", user: "victim" }, password: "victim-password" },
    });
    assert.equal(good.status, 200);
  });

  for (const [label, username] of [
    ["upper case", "UpperCase"],
    ["a colon", "has:colon"],
    ["an empty name", ""],
    ["a space", "has space"],
    ["a non-ASCII letter", "zoë"],
    ["a user id longer than 255 characters", "a".repeat(250)],
  ] as const) {
    it(`rejects ${label} with M_INVALID_USERNAME on the first request`, async () => {
      const res = await register(base, { username, password: "pw" });
      await expectError(res, 400, "M_INVALID_USERNAME", REGISTER_SPEC);
    });
  }

  it("rejects an invalid username also when auth is supplied", async () => {
    const res = await register(base, { username: "Bad:Name", password: "pw", auth: { type: "m.login.dummy" } });
    await expectError(res, 400, "M_INVALID_USERNAME", REGISTER_SPEC);
  });

  it("accepts a localpart that makes a user id of exactly 255 characters", async () => {
    const localpart = "b".repeat(255 - "@:test.local".length);
    const res = await register(base, { username: localpart, password: "pw", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((res.body.user_id as string).length, 255);
  });

  it("accepts every character of the localpart grammar", async () => {
    const res = await register(base, { username: "a.b_c=d-e/f+g9", password: "pw", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, "@a.b_c=d-e/f+g9:test.local");
  });

  it("refuses guest registration with 403 M_GUEST_ACCESS_FORBIDDEN", async () => {
    const res = await register(base, {}, { query: "?kind=guest" });
    await expectError(res, 403, "M_GUEST_ACCESS_FORBIDDEN", REGISTER_SPEC);
    const withAuth = await register(base, { username: "guesty", auth: { type: "m.login.dummy" } }, { query: "?kind=guest" });
    await expectError(withAuth, 403, "M_GUEST_ACCESS_FORBIDDEN", REGISTER_SPEC);
    assert.equal((await available(base, "guesty")).body.available, true);
  });

  it("answers an unknown UIA session id with 400", async () => {
    const res = await register(base, { username: "unknownsession", password: "pw", auth: { type: "m.login.dummy", session: "no-such-session" } });
    await expectError(res, 400, "M_INVALID_PARAM", REGISTER_SPEC);
    assert.equal((await available(base, "unknownsession")).body.available, true);
  });

  it("refuses a UIA stage that is not offered (m.login.password) and registers nobody", async () => {
    const challenge = await register(base, { username: "wrongstage", password: "pw" });
    const res = await register(base, {
      username: "wrongstage",
      password: "pw",
      auth: { type: "m.login.password", session: challenge.body.session, identifier: { type: "m.id.user", user: "wrongstage" }, password: "pw" },
    });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 401, res.body);
    assert.equal(res.body.session, challenge.body.session);
    assert.equal(res.body.errcode, "M_UNKNOWN");
    assert.equal((await available(base, "wrongstage")).body.available, true);
  });

  it("rejects a body of the wrong shape with M_BAD_JSON", async () => {
    const res = await register(base, { username: 42, auth: { type: "m.login.dummy" } });
    await expectError(res, 400, "M_BAD_JSON", REGISTER_SPEC);
  });

  it("works under the r0 prefix too", async () => {
    const challenge = await register(base, { username: "legacyr0", password: "pw" }, { prefix: R0 });
    assert.equal(challenge.status, 401);
    assert.deepEqual(challenge.body.flows, [{ stages: ["m.login.dummy"] }]);
    const res = await register(base, { username: "legacyr0", password: "pw", auth: { type: "m.login.dummy", session: challenge.body.session } }, { prefix: R0 });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, res.body);
    assert.equal(res.body.user_id, "@legacyr0:test.local");
    const who = await api(base, "GET", `${R0}/account/whoami`, { token: res.body.access_token as string });
    assert.equal(who.status, 200);
    assert.equal(who.body.user_id, "@legacyr0:test.local");
    const avail = await available(base, "legacyr0", R0);
    await expectError(avail, 400, "M_USER_IN_USE", AVAILABLE_SPEC);
    const free = await available(base, "legacyr0free", R0);
    assert.equal(free.status, 200);
    assert.deepEqual(free.body, { available: true });
  });
});

describe("GET /register/available", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    await registerUser(base, "existing");
  });
  after(async () => {
    await server.close();
  });

  it("says available: true for a free name", async () => {
    const res = await available(base, "freename");
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register/available", "get", 200, res.body);
    assert.deepEqual(res.body, { available: true });
  });

  it("answers M_USER_IN_USE for a taken name", async () => {
    await expectError(await available(base, "existing"), 400, "M_USER_IN_USE", AVAILABLE_SPEC);
  });

  it("answers M_INVALID_USERNAME for invalid names", async () => {
    for (const name of ["Existing", "a:b", "white space", "c".repeat(250)]) {
      await expectError(await available(base, name), 400, "M_INVALID_USERNAME", AVAILABLE_SPEC);
    }
  });

  it("answers M_MISSING_PARAM without a username", async () => {
    await expectError(await api(base, "GET", `${V3}/register/available`), 400, "M_MISSING_PARAM", AVAILABLE_SPEC);
  });
});

describe("registration closed", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ registration: { mode: "closed" } });
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("refuses the first request with 403 M_FORBIDDEN (no UIA challenge)", async () => {
    const res = await register(base, { username: "nobody", password: "pw" });
    await expectError(res, 403, "M_FORBIDDEN", REGISTER_SPEC);
    assert.equal("session" in res.body, false);
  });

  it("refuses a request that carries m.login.dummy auth", async () => {
    const res = await register(base, { username: "nobody", password: "pw", auth: { type: "m.login.dummy" } });
    await expectError(res, 403, "M_FORBIDDEN", REGISTER_SPEC);
    assert.equal((await available(base, "nobody")).body.available, true);
  });

  it("still answers guests with M_GUEST_ACCESS_FORBIDDEN", async () => {
    await expectError(await register(base, {}, { query: "?kind=guest" }), 403, "M_GUEST_ACCESS_FORBIDDEN", REGISTER_SPEC);
  });

  it("answers the token validity check with 403 M_FORBIDDEN", async () => {
    const res = await api(base, "GET", `${V3}/register/m.login.registration_token/validity?token=anything`);
    await expectError(res, 403, "M_FORBIDDEN", { file: "registration_tokens.yaml", path: "/register/m.login.registration_token/validity", method: "get" });
  });
});

describe("registration with tokens", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ registration: { mode: "token", tokens: ["tok1"] } });
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("offers only m.login.registration_token", async () => {
    const res = await register(base, { username: "tokenuser", password: "pw" });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 401, res.body);
    assert.deepEqual(res.body.flows, [{ stages: ["m.login.registration_token"] }]);
    assert.equal(typeof res.body.session, "string");
    assert.equal("errcode" in res.body, false);
  });

  it("does not accept m.login.dummy in token mode", async () => {
    const res = await register(base, { username: "dummysneak", password: "pw", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 401, res.body);
    assert.deepEqual(res.body.flows, [{ stages: ["m.login.registration_token"] }]);
    assert.equal((await available(base, "dummysneak")).body.available, true);
  });

  it("a wrong token gets 401 M_FORBIDDEN with the same session; the right one then registers", async () => {
    const challenge = await register(base, { username: "tokenuser2", password: "pw" });
    const session = challenge.body.session as string;
    const wrong = await register(base, { username: "tokenuser2", password: "pw", auth: { type: "m.login.registration_token", token: "tok2", session } });
    assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 401, wrong.body);
    assert.equal(wrong.body.errcode, "M_FORBIDDEN");
    assert.equal(typeof wrong.body.error, "string");
    assert.equal(wrong.body.session, session);
    assert.deepEqual(wrong.body.flows, [{ stages: ["m.login.registration_token"] }]);
    assert.equal((await available(base, "tokenuser2")).body.available, true);

    const missing = await register(base, { username: "tokenuser2", password: "pw", auth: { type: "m.login.registration_token", session } });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.errcode, "M_FORBIDDEN");

    const right = await register(base, { username: "tokenuser2", password: "pw", auth: { type: "m.login.registration_token", token: "tok1", session } });
    assert.equal(right.status, 200, JSON.stringify(right.body));
    await assertMatchesSpec("registration.yaml", "/register", "post", 200, right.body);
    assert.equal(right.body.user_id, "@tokenuser2:test.local");
    assert.equal((await whoami(base, right.body.access_token as string)).status, 200);
  });

  it("the right token works in a single request too", async () => {
    const res = await register(base, { username: "tokenuser3", password: "pw", auth: { type: "m.login.registration_token", token: "tok1" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, "@tokenuser3:test.local");
  });

  it("GET /register/m.login.registration_token/validity tells valid from invalid tokens", async () => {
    const path = "/register/m.login.registration_token/validity";
    const good = await api(base, "GET", `${V3}${path}?token=tok1`);
    assert.equal(good.status, 200, JSON.stringify(good.body));
    await assertMatchesSpec("registration_tokens.yaml", path, "get", 200, good.body);
    assert.deepEqual(good.body, { valid: true });
    const bad = await api(base, "GET", `${V3}${path}?token=tok2`);
    assert.equal(bad.status, 200);
    await assertMatchesSpec("registration_tokens.yaml", path, "get", 200, bad.body);
    assert.deepEqual(bad.body, { valid: false });
    const missing = await api(base, "GET", `${V3}${path}`);
    await expectError(missing, 400, "M_MISSING_PARAM");
  });
});

describe("weak passwords", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ auth: { minPasswordLength: 8 } });
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("refuses a password shorter than the minimum with M_WEAK_PASSWORD, before UIA", async () => {
    const res = await register(base, { username: "weakling", password: "1234567" });
    await expectError(res, 400, "M_WEAK_PASSWORD", REGISTER_SPEC);
    assert.equal("session" in res.body, false);
  });

  it("refuses it also with auth, and registers nobody", async () => {
    const res = await register(base, { username: "weakling", password: "short", auth: { type: "m.login.dummy" } });
    await expectError(res, 400, "M_WEAK_PASSWORD", REGISTER_SPEC);
    assert.equal((await available(base, "weakling")).body.available, true);
  });

  it("accepts a password of exactly the minimum length", async () => {
    const res = await register(base, { username: "strongling", password: "12345678", auth: { type: "m.login.dummy" } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.user_id, "@strongling:test.local");
  });
});
