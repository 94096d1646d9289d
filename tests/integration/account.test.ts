/**
 * POST /account/password and POST /account/deactivate (both behind UIA with m.login.password),
 * and the binding of UIA sessions to their user and endpoint, over real HTTP.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type ApiResponse, type TestServer } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { expectError, type Spec } from "./expect-error.js";

const V3 = "/_matrix/client/v3";
const R0 = "/_matrix/client/r0";

type Body = Record<string, unknown>;

const PASSWORD_SPEC: Spec = { file: "password_management.yaml", path: "/account/password", method: "post" };
const DEACTIVATE_SPEC: Spec = { file: "account_deactivation.yaml", path: "/account/deactivate", method: "post" };


function passwordAuth(user: string, password: string, session?: unknown): Body {
  return { type: "m.login.password", identifier: { type: "m.id.user", user }, password, ...(session !== undefined ? { session } : {}) };
}

function changePassword(baseUrl: string, token: string, body: Body, prefix = V3): Promise<ApiResponse> {
  return api(baseUrl, "POST", `${prefix}/account/password`, { token, body });
}

function deactivate(baseUrl: string, token: string, body: Body): Promise<ApiResponse> {
  return api(baseUrl, "POST", `${V3}/account/deactivate`, { token, body });
}

function passwordLogin(baseUrl: string, user: string, password: string, extra: Body = {}): Promise<ApiResponse> {
  return api(baseUrl, "POST", `${V3}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password, ...extra } });
}

async function loginOk(baseUrl: string, user: string, password: string, extra: Body = {}): Promise<{ access_token: string; device_id: string; refresh_token?: string }> {
  const res = await passwordLogin(baseUrl, user, password, extra);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as never;
}

async function whoamiStatus(baseUrl: string, token: string): Promise<ApiResponse> {
  return api(baseUrl, "GET", `${V3}/account/whoami`, { token });
}

async function expectTokenAlive(baseUrl: string, token: string): Promise<void> {
  const res = await whoamiStatus(baseUrl, token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function expectTokenDead(baseUrl: string, token: string): Promise<void> {
  await expectError(await whoamiStatus(baseUrl, token), 401, "M_UNKNOWN_TOKEN", { file: "whoami.yaml", path: "/account/whoami", method: "get" });
}

async function deviceIds(baseUrl: string, token: string): Promise<string[]> {
  const res = await api<{ devices: { device_id: string }[] }>(baseUrl, "GET", `${V3}/devices`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.devices.map((d) => d.device_id).sort();
}

/** Asserts a bare UIA challenge for m.login.password and returns its session. */
async function expectPasswordChallenge(res: ApiResponse, spec: Spec): Promise<string> {
  assert.equal(res.status, 401, JSON.stringify(res.body));
  await assertMatchesSpec(spec.file, spec.path, spec.method, 401, res.body);
  assert.deepEqual(res.body.flows, [{ stages: ["m.login.password"] }]);
  assert.deepEqual(res.body.params, {});
  assert.equal(typeof res.body.session, "string");
  assert.equal("errcode" in res.body, false, "a bare challenge carries no errcode");
  return res.body.session as string;
}

describe("POST /account/password", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("asks for m.login.password, refuses a wrong password with 401 M_FORBIDDEN, accepts the right one", async () => {
    const user = await registerUser(base, "pwchanger", "old-password");
    const challenge = await changePassword(base, user.accessToken, { new_password: "new-password" });
    const session = await expectPasswordChallenge(challenge, PASSWORD_SPEC);

    const wrong = await changePassword(base, user.accessToken, { new_password: "new-password", auth: passwordAuth("pwchanger", "not-it", session) });
    assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
    await assertMatchesSpec("password_management.yaml", "/account/password", "post", 401, wrong.body);
    assert.equal(wrong.body.errcode, "M_FORBIDDEN");
    assert.equal(typeof wrong.body.error, "string");
    assert.equal(wrong.body.session, session);
    assert.deepEqual(wrong.body.flows, [{ stages: ["m.login.password"] }]);
    // Nothing changed yet.
    assert.equal((await passwordLogin(base, "pwchanger", "old-password")).status, 200);

    const right = await changePassword(base, user.accessToken, { new_password: "new-password", auth: passwordAuth("pwchanger", "old-password", session) });
    assert.equal(right.status, 200, JSON.stringify(right.body));
    await assertMatchesSpec("password_management.yaml", "/account/password", "post", 200, right.body);
    assert.deepEqual(right.body, {});

    await expectError(await passwordLogin(base, "pwchanger", "old-password"), 403, "M_FORBIDDEN");
    const login = await passwordLogin(base, "pwchanger", "new-password");
    assert.equal(login.status, 200, JSON.stringify(login.body));
    assert.equal(login.body.user_id, "@pwchanger:test.local");
  });

  it("accepts the password stage in a single request, with the legacy user field and a full user id", async () => {
    const user = await registerUser(base, "pwsingle", "first-pw");
    const res = await changePassword(base, user.accessToken, {
      new_password: "second-pw",
      auth: { type: "m.login.password", user: "@pwsingle:test.local", password: "first-pw" },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await passwordLogin(base, "pwsingle", "second-pw")).status, 200);
  });

  it("refuses proof of another user's password", async () => {
    const mallory = await registerUser(base, "mallory", "mallory-pw");
    await registerUser(base, "target", "target-pw");
    const res = await changePassword(base, mallory.accessToken, { new_password: "x-pw", auth: passwordAuth("target", "target-pw") });
    assert.equal(res.status, 401, JSON.stringify(res.body));
    assert.equal(res.body.errcode, "M_FORBIDDEN");
    assert.equal((await passwordLogin(base, "mallory", "mallory-pw")).status, 200, "mallory's password is unchanged");
    assert.equal((await passwordLogin(base, "target", "target-pw")).status, 200, "target's password is unchanged");
  });

  it("logs out the other devices by default, and keeps the current one", async () => {
    const user = await registerUser(base, "pwlogout", "pw-one");
    const other = await loginOk(base, "pwlogout", "pw-one");
    const withRefresh = await loginOk(base, "pwlogout", "pw-one", { refresh_token: true });
    const res = await changePassword(base, user.accessToken, { new_password: "pw-two", auth: passwordAuth("pwlogout", "pw-one") });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await expectTokenDead(base, other.access_token);
    await expectTokenDead(base, withRefresh.access_token);
    const refreshed = await api(base, "POST", `${V3}/refresh`, { body: { refresh_token: withRefresh.refresh_token } });
    await expectError(refreshed, 401, "M_UNKNOWN_TOKEN");
    await expectTokenAlive(base, user.accessToken);
    assert.deepEqual(await deviceIds(base, user.accessToken), [user.deviceId]);
  });

  it("logout_devices: true behaves like the default", async () => {
    const user = await registerUser(base, "pwlogouttrue", "pw-one");
    const other = await loginOk(base, "pwlogouttrue", "pw-one");
    const res = await changePassword(base, user.accessToken, { new_password: "pw-two", logout_devices: true, auth: passwordAuth("pwlogouttrue", "pw-one") });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await expectTokenDead(base, other.access_token);
    await expectTokenAlive(base, user.accessToken);
  });

  it("logout_devices: false keeps the other devices", async () => {
    const user = await registerUser(base, "pwkeep", "pw-one");
    const other = await loginOk(base, "pwkeep", "pw-one");
    const res = await changePassword(base, user.accessToken, { new_password: "pw-two", logout_devices: false, auth: passwordAuth("pwkeep", "pw-one") });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await expectTokenAlive(base, other.access_token);
    await expectTokenAlive(base, user.accessToken);
    assert.deepEqual(await deviceIds(base, user.accessToken), [user.deviceId, other.device_id].sort());
    assert.equal((await passwordLogin(base, "pwkeep", "pw-two")).status, 200);
    await expectError(await passwordLogin(base, "pwkeep", "pw-one"), 403, "M_FORBIDDEN");
  });

  it("does not touch another user's sessions", async () => {
    const a = await registerUser(base, "pwuserone", "pw-a");
    const b = await registerUser(base, "pwusertwo", "pw-b");
    const res = await changePassword(base, a.accessToken, { new_password: "pw-a2", auth: passwordAuth("pwuserone", "pw-a") });
    assert.equal(res.status, 200);
    await expectTokenAlive(base, b.accessToken);
    assert.equal((await passwordLogin(base, "pwusertwo", "pw-b")).status, 200);
  });

  it("requires an access token", async () => {
    await expectError(await api(base, "POST", `${V3}/account/password`, { body: { new_password: "x" } }), 401, "M_MISSING_TOKEN");
  });

  it("requires new_password (M_BAD_JSON)", async () => {
    const user = await registerUser(base, "pwnonew", "pw");
    await expectError(await changePassword(base, user.accessToken, { auth: passwordAuth("pwnonew", "pw") }), 400, "M_BAD_JSON");
  });

  it("works under the r0 prefix", async () => {
    const user = await registerUser(base, "pwr0", "pw-old");
    const challenge = await changePassword(base, user.accessToken, { new_password: "pw-new" }, R0);
    const session = await expectPasswordChallenge(challenge, PASSWORD_SPEC);
    const res = await changePassword(base, user.accessToken, { new_password: "pw-new", auth: passwordAuth("pwr0", "pw-old", session) }, R0);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal((await passwordLogin(base, "pwr0", "pw-new")).status, 200);
  });
});

describe("POST /account/password with a minimum password length", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer({ auth: { minPasswordLength: 8 } });
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("refuses a weak new password with 400 M_WEAK_PASSWORD and keeps the old one", async () => {
    const user = await registerUser(base, "weakchange", "long-enough-pw");
    const res = await changePassword(base, user.accessToken, { new_password: "short", auth: passwordAuth("weakchange", "long-enough-pw") });
    await expectError(res, 400, "M_WEAK_PASSWORD");
    assert.equal((await passwordLogin(base, "weakchange", "long-enough-pw")).status, 200);
  });
});

describe("POST /account/deactivate", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("asks for m.login.password, then deactivates: the token dies, login says M_USER_DEACTIVATED, the name stays taken", async () => {
    const user = await registerUser(base, "quitter", "quitter-pw");
    const other = await loginOk(base, "quitter", "quitter-pw", { refresh_token: true });
    const challenge = await deactivate(base, user.accessToken, {});
    const session = await expectPasswordChallenge(challenge, DEACTIVATE_SPEC);

    const wrong = await deactivate(base, user.accessToken, { auth: passwordAuth("quitter", "wrong", session) });
    assert.equal(wrong.status, 401, JSON.stringify(wrong.body));
    await assertMatchesSpec("account_deactivation.yaml", "/account/deactivate", "post", 401, wrong.body);
    assert.equal(wrong.body.errcode, "M_FORBIDDEN");
    assert.equal(wrong.body.session, session);
    await expectTokenAlive(base, user.accessToken);

    const res = await deactivate(base, user.accessToken, { auth: passwordAuth("quitter", "quitter-pw", session) });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec("account_deactivation.yaml", "/account/deactivate", "post", 200, res.body);
    assert.ok(["success", "no-support"].includes(res.body.id_server_unbind_result as string), JSON.stringify(res.body));

    await expectTokenDead(base, user.accessToken);
    await expectTokenDead(base, other.access_token);
    await expectError(await api(base, "POST", `${V3}/refresh`, { body: { refresh_token: other.refresh_token } }), 401, "M_UNKNOWN_TOKEN");
    await expectError(await passwordLogin(base, "quitter", "quitter-pw"), 403, "M_USER_DEACTIVATED");

    const avail = await api(base, "GET", `${V3}/register/available?username=quitter`);
    await expectError(avail, 400, "M_USER_IN_USE", { file: "registration.yaml", path: "/register/available", method: "get" });
    const again = await api(base, "POST", `${V3}/register`, { body: { username: "quitter", password: "new", auth: { type: "m.login.dummy" } } });
    await expectError(again, 400, "M_USER_IN_USE", { file: "registration.yaml", path: "/register", method: "post" });
  });

  it("does not affect other users", async () => {
    const a = await registerUser(base, "goner", "goner-pw");
    const b = await registerUser(base, "stayer", "stayer-pw");
    const res = await deactivate(base, a.accessToken, { auth: passwordAuth("goner", "goner-pw") });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await expectTokenAlive(base, b.accessToken);
    assert.equal((await passwordLogin(base, "stayer", "stayer-pw")).status, 200);
  });

  it("requires an access token", async () => {
    await expectError(await api(base, "POST", `${V3}/account/deactivate`, { body: {} }), 401, "M_MISSING_TOKEN");
  });
});

describe("UIA sessions are bound to their user and endpoint", () => {
  let server: TestServer;
  let base: string;
  before(async () => {
    server = await startServer();
    base = server.baseUrl;
  });
  after(async () => {
    await server.close();
  });

  it("a session started by one user cannot be used by another (400)", async () => {
    const alice = await registerUser(base, "uiaalice", "alice-pw");
    const bob = await registerUser(base, "uiabob", "bob-pw");
    const session = await expectPasswordChallenge(await changePassword(base, alice.accessToken, { new_password: "stolen" }), PASSWORD_SPEC);
    const res = await changePassword(base, bob.accessToken, { new_password: "stolen", auth: passwordAuth("uiabob", "bob-pw", session) });
    await expectError(res, 400, "M_INVALID_PARAM");
    assert.equal((await passwordLogin(base, "uiabob", "bob-pw")).status, 200, "bob's password is unchanged");
    // Alice can still finish her own session.
    const own = await changePassword(base, alice.accessToken, { new_password: "alice-pw2", auth: passwordAuth("uiaalice", "alice-pw", session) });
    assert.equal(own.status, 200, JSON.stringify(own.body));
  });

  it("a session started on one endpoint cannot complete another (400)", async () => {
    const carol = await registerUser(base, "uiacarol", "carol-pw");
    const session = await expectPasswordChallenge(await changePassword(base, carol.accessToken, { new_password: "whatever" }), PASSWORD_SPEC);
    const res = await deactivate(base, carol.accessToken, { auth: passwordAuth("uiacarol", "carol-pw", session) });
    await expectError(res, 400, "M_INVALID_PARAM");
    await expectTokenAlive(base, carol.accessToken);
  });

  it("a registration session cannot be used to change a password (400)", async () => {
    const dave = await registerUser(base, "uiadave", "dave-pw");
    const reg = await api(base, "POST", `${V3}/register`, { body: { username: "uiaunused" } });
    assert.equal(reg.status, 401);
    const res = await changePassword(base, dave.accessToken, { new_password: "x", auth: passwordAuth("uiadave", "dave-pw", reg.body.session) });
    await expectError(res, 400, "M_INVALID_PARAM");
  });

  it("an unknown session id is 400", async () => {
    const erin = await registerUser(base, "uiaerin", "erin-pw");
    const res = await changePassword(base, erin.accessToken, { new_password: "x", auth: passwordAuth("uiaerin", "erin-pw", "no-such-session") });
    await expectError(res, 400, "M_INVALID_PARAM");
    assert.equal((await passwordLogin(base, "uiaerin", "erin-pw")).status, 200);
  });
});
