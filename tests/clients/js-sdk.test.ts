/**
 * matrix-js-sdk 43 against a real Sluice server: registration through the SDK's own
 * user-interactive auth, password login (new and legacy shapes), refresh tokens, whoami,
 * devices, profile, capabilities, /versions feature detection, filters, device deletion
 * with password UIA, logout, and accounts made by the admin path (`sluice create-user`).
 *
 * The SDK needs Promise.withResolvers (Node 22+), so the polyfill is imported first and the
 * SDK itself is loaded with a dynamic import in before(): nothing of it runs before the
 * polyfill is installed, whatever order a tool might give the static imports.
 */
import "./node20-polyfills.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type * as Sdk from "matrix-js-sdk";
import { api, startServer, type TestServer } from "../integration/harness.js";
import { ManualClock } from "../../src/util/clock.js";
import { quietLogger } from "./js-sdk-support.js";

let sdk: typeof Sdk;

/** Loads the SDK (after the polyfill) and silences the module-level logger that InteractiveAuth uses. */
async function loadSdk(): Promise<typeof Sdk> {
  const loaded = await import("matrix-js-sdk");
  const { logger } = await import("matrix-js-sdk/lib/logger.js");
  // A loglevel logger at run time; its type only shows the logging methods.
  (logger as unknown as { setLevel(level: "silent"): void }).setLevel("silent");
  return loaded;
}


const clients: Sdk.MatrixClient[] = [];

function newClient(baseUrl: string, opts: Partial<Sdk.ICreateClientOpts> = {}): Sdk.MatrixClient {
  const client = sdk.createClient({ baseUrl, logger: quietLogger, ...opts });
  clients.push(client);
  return client;
}

function clientFor(baseUrl: string, session: { user_id: string; access_token?: string; device_id?: string }): Sdk.MatrixClient {
  assert.ok(session.access_token, "session has an access token");
  assert.ok(session.device_id, "session has a device id");
  return newClient(baseUrl, { userId: session.user_id, accessToken: session.access_token, deviceId: session.device_id });
}

/** Awaits a promise that must reject with a MatrixError; returns the error. */
async function matrixError(p: Promise<unknown>): Promise<Sdk.MatrixError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof sdk.MatrixError, `expected a MatrixError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the request to fail");
}

/** Drives one UIA-protected request through the SDK's InteractiveAuth, recording what it sent. */
async function runInteractiveAuth<T>(
  client: Sdk.MatrixClient,
  doRequest: (auth: Sdk.AuthDict | undefined) => Promise<T>,
  onStage?: (ia: Sdk.InteractiveAuth<T>, stage: string, status: Sdk.IStageStatus) => void,
): Promise<{ result: T; sent: (Sdk.AuthDict | null)[]; errors: Sdk.MatrixError[] }> {
  const sent: (Sdk.AuthDict | null)[] = [];
  const errors: Sdk.MatrixError[] = [];
  const ia: Sdk.InteractiveAuth<T> = new sdk.InteractiveAuth<T>({
    matrixClient: client,
    doRequest: async (auth) => {
      sent.push(auth);
      try {
        return await doRequest(auth ?? undefined);
      } catch (err) {
        if (err instanceof sdk.MatrixError) errors.push(err);
        throw err;
      }
    },
    stateUpdated: (stage, status) => {
      if (!onStage) throw new Error(`unexpected UIA stage ${stage}`);
      onStage(ia, stage, status);
    },
    requestEmailToken: () => Promise.reject(new Error("no email stage expected")),
  });
  const result = await ia.attemptAuth();
  return { result, sent, errors };
}

describe("matrix-js-sdk 43 against Sluice", () => {
  let server: TestServer;
  let baseUrl: string;
  const password = "js-sdk correct horse";

  before(async () => {
    sdk = await loadSdk();
    server = await startServer();
    baseUrl = server.baseUrl;
  });

  after(async () => {
    for (const c of clients) c.stopClient();
    await server?.close();
  });

  // Shared across the ordered steps below.
  let alice: { user_id: string; access_token?: string; device_id?: string };
  let first: Sdk.MatrixClient; // registration device
  let second: Sdk.MatrixClient; // password-login device
  let secondDevice: string;

  it("checks availability and registers through the SDK's UIA (401 challenge, then m.login.dummy)", async () => {
    const anon = newClient(baseUrl);
    assert.equal(await anon.isUsernameAvailable("alice"), true);

    const { result, sent, errors } = await runInteractiveAuth(anon, (auth) =>
      anon.registerRequest({ username: "alice", password, initial_device_display_name: "js-sdk one", ...(auth ? { auth } : {}) }),
    );
    // First request without auth: the server answers 401 with the flows and a session.
    assert.equal(sent.length, 2);
    assert.equal(sent[0], null);
    assert.equal(errors.length, 1);
    const challenge = errors[0]!;
    assert.equal(challenge.httpStatus, 401);
    assert.deepEqual(challenge.data.flows, [{ stages: ["m.login.dummy"] }]);
    assert.equal(typeof challenge.data.session, "string");
    assert.equal(challenge.errcode, undefined, "a bare challenge carries no errcode");
    // The SDK completed the dummy stage on its own, in the server's session.
    assert.deepEqual(sent[1], { session: challenge.data.session, type: "m.login.dummy" });

    assert.equal(result.user_id, "@alice:test.local");
    assert.ok(result.access_token);
    assert.ok(result.device_id);
    assert.equal(result.refresh_token, undefined, "no refresh token unless asked for");
    alice = result;
    first = clientFor(baseUrl, result);

    assert.equal(await anon.isUsernameAvailable("alice"), false, "M_USER_IN_USE maps to false");
    const taken = await matrixError(anon.registerRequest({ username: "alice", password, auth: { type: "m.login.dummy" } }));
    assert.equal(taken.errcode, "M_USER_IN_USE");
  });

  it("registers with MatrixClient.register (dummy auth up front, refresh token requested)", async () => {
    const anon = newClient(baseUrl);
    const res = await anon.register("bob", password, null, { type: "m.login.dummy" });
    assert.equal(res.user_id, "@bob:test.local");
    assert.ok(res.access_token);
    assert.ok(res.refresh_token, "register() always asks for a refresh token");
    assert.equal(typeof res.expires_in_ms, "number");
    const bob = clientFor(baseUrl, res);
    assert.equal((await bob.whoami()).user_id, "@bob:test.local");
  });

  it("offers password login and logs in a second device with an m.id.user identifier", async () => {
    const anon = newClient(baseUrl);
    const { flows } = await anon.loginFlows();
    assert.ok(flows.some((f) => f.type === "m.login.password"));

    const res = await anon.loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: "alice" },
      password,
      initial_device_display_name: "js-sdk two",
    });
    assert.equal(res.user_id, alice.user_id);
    assert.notEqual(res.device_id, alice.device_id);
    assert.equal(res.refresh_token, undefined);
    assert.equal(res.well_known?.["m.homeserver"]?.base_url, server.app.services.publicBaseUrl);
    secondDevice = res.device_id;
    second = clientFor(baseUrl, res);

    const wrong = await matrixError(anon.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "alice" }, password: "nope" }));
    assert.equal(wrong.httpStatus, 403);
    assert.equal(wrong.errcode, "M_FORBIDDEN");
  });

  it("whoami reports each device's own identity", async () => {
    assert.deepEqual(await first.whoami(), { user_id: alice.user_id, device_id: alice.device_id, is_guest: false });
    const w2 = await second.whoami();
    assert.equal(w2.user_id, alice.user_id);
    assert.equal(w2.device_id, secondDevice);
  });

  it("lists both devices and renames one with setDeviceDetails", async () => {
    const { devices } = await second.getDevices();
    const byId = new Map(devices.map((d) => [d.device_id, d]));
    assert.deepEqual([...byId.keys()].sort(), [alice.device_id!, secondDevice].sort());
    assert.equal(byId.get(alice.device_id!)?.display_name, "js-sdk one");
    assert.equal(byId.get(secondDevice)?.display_name, "js-sdk two");
    assert.equal(typeof byId.get(secondDevice)?.last_seen_ts, "number", "the device used for this request was seen");

    await second.setDeviceDetails(alice.device_id!, { display_name: "renamed by js-sdk" });
    assert.equal((await first.getDevice(alice.device_id!)).display_name, "renamed by js-sdk");

    const missing = await matrixError(second.getDevice("NOSUCHDEVICE"));
    assert.equal(missing.httpStatus, 404);
    assert.equal(missing.errcode, "M_NOT_FOUND");
  });

  it("reads and sets the profile", async () => {
    assert.deepEqual(await second.getProfileInfo(alice.user_id), { displayname: "alice" });
    await first.setDisplayName("Alice from js-sdk");
    assert.deepEqual(await second.getProfileInfo(alice.user_id, "displayname"), { displayname: "Alice from js-sdk" });
    assert.equal((await second.getProfileInfo(alice.user_id)).displayname, "Alice from js-sdk");
  });

  it("gets capabilities", async () => {
    const caps = await second.getCapabilities();
    assert.deepEqual(caps["m.change_password"], { enabled: true });
    assert.deepEqual(caps["m.set_displayname"], { enabled: true });
    const rooms = caps["m.room_versions"];
    assert.ok(rooms);
    assert.equal(rooms.available[rooms.default], "stable", "the default room version is one of the available ones");
  });

  it("detects spec versions from /versions (v1.12 by exact string)", async () => {
    const versions = await second.getVersions();
    assert.ok(Array.isArray(versions.versions));
    assert.equal(await second.isVersionSupported("v1.12"), true);
    assert.equal(await second.isVersionSupported("v1.1"), true);
    assert.equal(await second.isVersionSupported("r0.6.1"), true);
    // Feature detection built from the exact strings: threads are stable from v1.4.
    const threads = await second.doesServerSupportThread();
    assert.equal(threads.threads, sdk.FeatureSupport.Stable);
  });

  it("creates a filter and reads it back uncached", async () => {
    const definition = { room: { timeline: { limit: 10 }, state: { lazy_load_members: true } }, presence: { not_types: ["*"] } };
    const filter = await second.createFilter(definition);
    assert.equal(typeof filter.filterId, "string");
    const fetched = await second.getFilter(alice.user_id, filter.filterId!, false);
    assert.deepEqual(fetched.getDefinition(), definition);

    const other = await matrixError(second.getFilter("@bob:test.local", filter.filterId!, false));
    assert.equal(other.httpStatus, 403);
  });

  it("refreshes tokens: login with refresh_token, then MatrixClient.refreshToken", async () => {
    const anon = newClient(baseUrl);
    const res = await anon.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "alice" }, password, refresh_token: true });
    assert.ok(res.refresh_token);
    assert.equal(typeof res.expires_in_ms, "number");
    const client = newClient(baseUrl, { userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id, refreshToken: res.refresh_token });

    const next = await client.refreshToken(res.refresh_token);
    assert.ok(next.access_token);
    assert.ok(next.refresh_token);
    assert.notEqual(next.access_token, res.access_token);
    client.setAccessToken(next.access_token);
    assert.equal((await client.whoami()).device_id, res.device_id, "the refreshed token belongs to the same device");

    // Once the new access token has been used, the old pair is gone.
    const stale = newClient(baseUrl, { userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id });
    const oldAccess = await matrixError(stale.whoami());
    assert.equal(oldAccess.errcode, "M_UNKNOWN_TOKEN");
    const oldRefresh = await matrixError(client.refreshToken(res.refresh_token));
    assert.equal(oldRefresh.httpStatus, 401);
    assert.equal(oldRefresh.errcode, "M_UNKNOWN_TOKEN");

    await client.logout();
  });

  it("deletes a device through password UIA, recovering from a wrong password", async () => {
    const bare = await matrixError(second.deleteDevice(alice.device_id!));
    assert.equal(bare.httpStatus, 401);
    assert.deepEqual(bare.data.flows, [{ stages: ["m.login.password"] }]);

    const statuses: Sdk.IStageStatus[] = [];
    const { sent, errors } = await runInteractiveAuth(
      second,
      (auth) => second.deleteDevice(alice.device_id!, auth),
      (ia, stage, status) => {
        assert.equal(stage, "m.login.password");
        statuses.push(status);
        // First attempt with a wrong password; once the server says M_FORBIDDEN, the right one.
        const attempt = status.errcode ? password : "wrong password";
        void ia.submitAuthDict({ type: "m.login.password", identifier: { type: "m.id.user", user: alice.user_id }, password: attempt });
      },
    );
    assert.equal(sent.length, 3, "no auth, wrong password, right password");
    assert.equal(errors.length, 2);
    assert.equal(errors[1]!.errcode, "M_FORBIDDEN", "a failed stage is a 401 carrying M_FORBIDDEN");
    assert.equal(errors[1]!.data.session, errors[0]!.data.session, "the session survives a failed stage");
    assert.deepEqual(statuses, [{}, { errcode: "M_FORBIDDEN", error: errors[1]!.data.error }]);

    const { devices } = await second.getDevices();
    assert.deepEqual(devices.map((d) => d.device_id), [secondDevice]);
    const gone = await matrixError(first.whoami());
    assert.equal(gone.errcode, "M_UNKNOWN_TOKEN", "the deleted device's token is dead");
  });

  it("logs out; the token then gets M_UNKNOWN_TOKEN and the SDK reports the session as logged out", async () => {
    assert.deepEqual(await second.logout(), {});
    let loggedOut: Sdk.MatrixError | null = null;
    second.on(sdk.HttpApiEvent.SessionLoggedOut, (err) => {
      loggedOut = err;
    });
    const err = await matrixError(second.whoami());
    assert.equal(err.httpStatus, 401);
    assert.equal(err.errcode, "M_UNKNOWN_TOKEN");
    assert.equal(err.data.soft_logout, false, "a logged-out token is a hard logout");
    assert.equal(loggedOut, err);

    const anon = newClient(baseUrl);
    const res = await anon.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "alice" }, password });
    const { devices } = await clientFor(baseUrl, res).getDevices();
    assert.deepEqual(devices.map((d) => d.device_id), [res.device_id], "the logged-out device is gone");
  });

  it("logs in to accounts made by the admin path (sluice create-user)", async () => {
    const userId = await server.app.services.registration.createByAdmin("carol", "carol's password", false);
    assert.equal(userId, "@carol:test.local");
    const anon = newClient(baseUrl);
    const res = await anon.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "carol" }, password: "carol's password" });
    assert.equal(res.user_id, userId);
    const carol = clientFor(baseUrl, res);
    assert.equal((await carol.whoami()).user_id, userId);
    assert.deepEqual(await carol.getProfileInfo(userId), { displayname: "carol" });

    // The legacy `user` field with a full user id (what the deprecated loginWithPassword sends).
    const legacy = newClient(baseUrl);
    const res2 = await legacy.loginWithPassword(userId, "carol's password");
    assert.equal(res2.user_id, userId);
    assert.equal(legacy.getAccessToken(), res2.access_token);

    const admin = await server.app.services.registration.createByAdmin("root", "root password", true);
    const rootLogin = await anon.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: admin }, password: "root password" });
    assert.equal((await clientFor(baseUrl, rootLogin).whoami()).user_id, admin);

    // An account created without a password cannot log in with one.
    await server.app.services.registration.createByAdmin("nopass", null, false);
    const denied = await matrixError(anon.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "nopass" }, password: "" }));
    assert.equal(denied.errcode, "M_FORBIDDEN");
  });
});

describe("matrix-js-sdk 43: expired access tokens", () => {
  let server: TestServer;
  const clock = new ManualClock();

  before(async () => {
    sdk ??= await loadSdk();
    server = await startServer({ auth: { accessTokenLifetimeMs: 60_000 } }, { clock });
  });
  after(async () => {
    await server?.close();
  });

  it("answers an expired token with soft_logout, and refreshToken brings the session back", async () => {
    const anon = newClient(server.baseUrl);
    const reg = await anon.register("dave", "dave password", null, { type: "m.login.dummy" });
    assert.equal(reg.expires_in_ms, 60_000);
    assert.ok(reg.refresh_token);
    const client = clientFor(server.baseUrl, reg);
    assert.equal((await client.whoami()).user_id, "@dave:test.local");

    clock.advance(60_001);
    const expired = await matrixError(client.whoami());
    assert.equal(expired.httpStatus, 401);
    assert.equal(expired.errcode, "M_UNKNOWN_TOKEN");
    assert.equal(expired.data.soft_logout, true);

    const next = await client.refreshToken(reg.refresh_token);
    client.setAccessToken(next.access_token);
    assert.equal((await client.whoami()).device_id, reg.device_id);
    const res = await api(server.baseUrl, "GET", "/_matrix/client/v3/devices", { token: next.access_token });
    assert.equal(res.status, 200);
  });
});
