/**
 * Device management over real HTTP: GET /devices, GET|PUT|DELETE /devices/{deviceId},
 * POST /delete_devices (user-interactive auth with m.login.password), and device ids that
 * need percent-encoding in the path.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";

const V3 = "/_matrix/client/v3";
const SPEC = "device_management.yaml";

interface Device {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

interface UiaBody {
  flows?: { stages: string[] }[];
  session?: string;
  params?: Record<string, unknown>;
  completed?: string[];
  errcode?: string;
  error?: string;
}

/** Logs `user` in again with a chosen device id; returns that device's access token. */
async function loginDevice(baseUrl: string, user: TestUser, deviceId: string, displayName?: string): Promise<string> {
  const res = await api<{ access_token: string; device_id: string }>(baseUrl, "POST", `${V3}/login`, {
    body: {
      type: "m.login.password",
      identifier: { type: "m.id.user", user: user.userId },
      password: user.password,
      device_id: deviceId,
      ...(displayName !== undefined ? { initial_device_display_name: displayName } : {}),
    },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.device_id, deviceId);
  return res.body.access_token;
}

function passwordAuth(user: TestUser, session: string, password = user.password): Record<string, unknown> {
  return { type: "m.login.password", identifier: { type: "m.id.user", user: user.userId }, password, session };
}

async function assertTokenDead(baseUrl: string, token: string): Promise<void> {
  const res = await api(baseUrl, "GET", `${V3}/account/whoami`, { token });
  assert.equal(res.status, 401);
  assert.equal(res.body.errcode, "M_UNKNOWN_TOKEN");
}

async function assertTokenAlive(baseUrl: string, token: string): Promise<void> {
  const res = await api(baseUrl, "GET", `${V3}/account/whoami`, { token });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

describe("devices", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice", "alice-password");
    bob = await registerUser(base, "bob", "bob-password");
  });
  after(async () => {
    await server.close();
  });

  describe("GET /devices", () => {
    it("lists the caller's devices, spec-valid, with last_seen_ts and last_seen_ip", async () => {
      const startedAt = Date.now();
      const extraToken = await loginDevice(base, alice, "ALICEPHONE", "Alice's phone");
      await assertTokenAlive(base, extraToken);
      const res = await api<{ devices: Device[] }>(base, "GET", `${V3}/devices`, { token: alice.accessToken });
      assert.equal(res.status, 200);
      await assertMatchesSpec(SPEC, "/devices", "get", 200, res.body);
      const ids = res.body.devices.map((d) => d.device_id).sort();
      assert.deepEqual(ids, [alice.deviceId, "ALICEPHONE"].sort());
      const phone = res.body.devices.find((d) => d.device_id === "ALICEPHONE")!;
      assert.equal(phone.display_name, "Alice's phone");
      for (const d of res.body.devices) {
        assert.equal(typeof d.last_seen_ts, "number", `last_seen_ts missing on ${d.device_id}`);
        assert.equal(typeof d.last_seen_ip, "string", `last_seen_ip missing on ${d.device_id}`);
        assert.equal(d.last_seen_ip, "127.0.0.1");
        assert.ok(d.last_seen_ts! <= Date.now() && d.last_seen_ts! > startedAt - 60_000, `implausible last_seen_ts ${d.last_seen_ts}`);
      }
    });

    it("never lists another user's devices", async () => {
      const res = await api<{ devices: Device[] }>(base, "GET", `${V3}/devices`, { token: bob.accessToken });
      assert.equal(res.status, 200);
      await assertMatchesSpec(SPEC, "/devices", "get", 200, res.body);
      assert.deepEqual(res.body.devices.map((d) => d.device_id), [bob.deviceId]);
    });

    it("requires an access token", async () => {
      const res = await api(base, "GET", `${V3}/devices`);
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    });
  });

  describe("GET /devices/{deviceId}", () => {
    it("returns one device, spec-valid", async () => {
      const res = await api<Device>(base, "GET", `${V3}/devices/${alice.deviceId}`, { token: alice.accessToken });
      assert.equal(res.status, 200);
      await assertMatchesSpec(SPEC, "/devices/{deviceId}", "get", 200, res.body);
      assert.equal(res.body.device_id, alice.deviceId);
      assert.equal(typeof res.body.last_seen_ts, "number");
      assert.equal(res.body.last_seen_ip, "127.0.0.1");
    });

    it("404 M_NOT_FOUND for an unknown device", async () => {
      const res = await api(base, "GET", `${V3}/devices/NOSUCHDEVICE`, { token: alice.accessToken });
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
    });

    it("404 M_NOT_FOUND for another user's device", async () => {
      const res = await api(base, "GET", `${V3}/devices/${bob.deviceId}`, { token: alice.accessToken });
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
    });
  });

  describe("PUT /devices/{deviceId}", () => {
    it("sets the display name; GET reflects it", async () => {
      const put = await api(base, "PUT", `${V3}/devices/${alice.deviceId}`, { token: alice.accessToken, body: { display_name: "Laptop" } });
      assert.equal(put.status, 200);
      await assertMatchesSpec(SPEC, "/devices/{deviceId}", "put", 200, put.body);
      const get = await api<Device>(base, "GET", `${V3}/devices/${alice.deviceId}`, { token: alice.accessToken });
      assert.equal(get.status, 200);
      assert.equal(get.body.display_name, "Laptop");
    });

    it("404 M_NOT_FOUND for an unknown device", async () => {
      const res = await api(base, "PUT", `${V3}/devices/NOSUCHDEVICE`, { token: alice.accessToken, body: { display_name: "x" } });
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
    });

    it("404 M_NOT_FOUND for another user's device, whose name is unchanged", async () => {
      const res = await api(base, "PUT", `${V3}/devices/${bob.deviceId}`, { token: alice.accessToken, body: { display_name: "hijacked" } });
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
      const get = await api<Device>(base, "GET", `${V3}/devices/${bob.deviceId}`, { token: bob.accessToken });
      assert.equal(get.status, 200);
      assert.notEqual(get.body.display_name, "hijacked");
    });

    it("400 M_BAD_JSON when display_name is not a string", async () => {
      const res = await api(base, "PUT", `${V3}/devices/${alice.deviceId}`, { token: alice.accessToken, body: { display_name: 42 } });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_BAD_JSON");
    });
  });

  describe("DELETE /devices/{deviceId}", () => {
    it("asks for m.login.password, refuses a wrong password, then deletes and kills the token", async () => {
      const token = await loginDevice(base, alice, "TODELETE");
      await assertTokenAlive(base, token);

      // 1. No auth: a bare UIA challenge.
      const challenge = await api<UiaBody>(base, "DELETE", `${V3}/devices/TODELETE`, { token: alice.accessToken, body: {} });
      assert.equal(challenge.status, 401);
      await assertMatchesSpec(SPEC, "/devices/{deviceId}", "delete", 401, challenge.body);
      assert.ok(challenge.body.flows?.some((f) => f.stages.length === 1 && f.stages[0] === "m.login.password"), JSON.stringify(challenge.body));
      assert.equal(typeof challenge.body.session, "string");
      assert.equal(challenge.body.errcode, undefined, "a bare challenge carries no errcode");
      const session = challenge.body.session!;

      // 2. Wrong password: 401 M_FORBIDDEN, still a UIA body.
      const wrong = await api<UiaBody>(base, "DELETE", `${V3}/devices/TODELETE`, {
        token: alice.accessToken,
        body: { auth: passwordAuth(alice, session, "not-the-password") },
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.errcode, "M_FORBIDDEN");
      assert.equal(typeof wrong.body.error, "string");
      assert.equal(wrong.body.session, session);
      await assertMatchesSpec(SPEC, "/devices/{deviceId}", "delete", 401, wrong.body);
      await assertTokenAlive(base, token);

      // 3. Right password: deleted.
      const ok = await api(base, "DELETE", `${V3}/devices/TODELETE`, { token: alice.accessToken, body: { auth: passwordAuth(alice, session) } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await assertMatchesSpec(SPEC, "/devices/{deviceId}", "delete", 200, ok.body);

      await assertTokenDead(base, token);
      const get = await api(base, "GET", `${V3}/devices/TODELETE`, { token: alice.accessToken });
      assert.equal(get.status, 404);
      assert.equal(get.body.errcode, "M_NOT_FOUND");
      await assertTokenAlive(base, alice.accessToken);
    });

    it("a body-less DELETE gets the UIA challenge", async () => {
      await loginDevice(base, alice, "BODYLESS");
      const res = await api<UiaBody>(base, "DELETE", `${V3}/devices/BODYLESS`, { token: alice.accessToken });
      assert.equal(res.status, 401, JSON.stringify(res.body));
      await assertMatchesSpec(SPEC, "/devices/{deviceId}", "delete", 401, res.body);
      assert.equal(typeof res.body.session, "string");
    });

    it("another user's password does not delete the device", async () => {
      const token = await loginDevice(base, alice, "KEEPME");
      const challenge = await api<UiaBody>(base, "DELETE", `${V3}/devices/KEEPME`, { token: alice.accessToken, body: {} });
      assert.equal(challenge.status, 401);
      const res = await api<UiaBody>(base, "DELETE", `${V3}/devices/KEEPME`, {
        token: alice.accessToken,
        body: { auth: passwordAuth(bob, challenge.body.session!) },
      });
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
      await assertTokenAlive(base, token);
    });

    it("deleting another user's device id only ever touches your own devices (spec: 200 after UIA)", async () => {
      const challenge = await api<UiaBody>(base, "DELETE", `${V3}/devices/${bob.deviceId}`, { token: alice.accessToken, body: {} });
      assert.equal(challenge.status, 401);
      const res = await api(base, "DELETE", `${V3}/devices/${bob.deviceId}`, {
        token: alice.accessToken,
        body: { auth: passwordAuth(alice, challenge.body.session!) },
      });
      assert.equal(res.status, 200);
      await assertTokenAlive(base, bob.accessToken);
      await assertTokenAlive(base, alice.accessToken);
    });
  });

  describe("POST /delete_devices", () => {
    it("deletes several devices after m.login.password, ignoring unknown ids", async () => {
      const carol = await registerUser(base, "carol", "carol-password");
      const t1 = await loginDevice(base, carol, "CAROL1");
      const t2 = await loginDevice(base, carol, "CAROL2");
      const t3 = await loginDevice(base, carol, "CAROL3");
      const body = { devices: ["CAROL1", "CAROL2", "NOSUCHDEVICE", bob.deviceId] };

      const challenge = await api<UiaBody>(base, "POST", `${V3}/delete_devices`, { token: carol.accessToken, body });
      assert.equal(challenge.status, 401);
      await assertMatchesSpec(SPEC, "/delete_devices", "post", 401, challenge.body);
      assert.ok(challenge.body.flows?.some((f) => f.stages.includes("m.login.password")));
      const session = challenge.body.session!;
      assert.equal(typeof session, "string");

      const wrong = await api<UiaBody>(base, "POST", `${V3}/delete_devices`, {
        token: carol.accessToken,
        body: { ...body, auth: passwordAuth(carol, session, "wrong") },
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.errcode, "M_FORBIDDEN");
      await assertTokenAlive(base, t1);

      const ok = await api(base, "POST", `${V3}/delete_devices`, { token: carol.accessToken, body: { ...body, auth: passwordAuth(carol, session) } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      await assertMatchesSpec(SPEC, "/delete_devices", "post", 200, ok.body);

      await assertTokenDead(base, t1);
      await assertTokenDead(base, t2);
      await assertTokenAlive(base, t3);
      await assertTokenAlive(base, carol.accessToken);
      // Bob's device was named in the list but belongs to Bob: untouched.
      await assertTokenAlive(base, bob.accessToken);

      const list = await api<{ devices: Device[] }>(base, "GET", `${V3}/devices`, { token: carol.accessToken });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.devices.map((d) => d.device_id).sort(), [carol.deviceId, "CAROL3"].sort());
    });

    it("a UIA session issued to another user is refused (400 M_INVALID_PARAM)", async () => {
      const dave = await registerUser(base, "dave", "dave-password");
      const token = await loginDevice(base, dave, "DAVE1");
      const challenge = await api<UiaBody>(base, "POST", `${V3}/delete_devices`, { token: dave.accessToken, body: { devices: ["DAVE1"] } });
      assert.equal(challenge.status, 401);
      const aliceChallenge = await api<UiaBody>(base, "POST", `${V3}/delete_devices`, { token: alice.accessToken, body: { devices: [] } });
      assert.equal(aliceChallenge.status, 401);
      const res = await api(base, "POST", `${V3}/delete_devices`, {
        token: dave.accessToken,
        body: { devices: ["DAVE1"], auth: passwordAuth(dave, aliceChallenge.body.session!) },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_INVALID_PARAM");
      await assertTokenAlive(base, token);
    });

    it("400 M_BAD_JSON without a devices list", async () => {
      const res = await api(base, "POST", `${V3}/delete_devices`, { token: alice.accessToken, body: {} });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_BAD_JSON");
    });
  });

  describe("device ids that need percent-encoding in the path", () => {
    const weird = ["dev/with/slashes", "dev with space", "dev?query#frag", "dev%25percent", "dév-ü-☃"];

    for (const deviceId of weird) {
      it(`GET, PUT and DELETE work for ${JSON.stringify(deviceId)}`, async () => {
        const token = await loginDevice(base, alice, deviceId);
        const path = `${V3}/devices/${encodeURIComponent(deviceId)}`;

        const get = await api<Device>(base, "GET", path, { token: alice.accessToken });
        assert.equal(get.status, 200, JSON.stringify(get.body));
        await assertMatchesSpec(SPEC, "/devices/{deviceId}", "get", 200, get.body);
        assert.equal(get.body.device_id, deviceId);

        const put = await api(base, "PUT", path, { token: alice.accessToken, body: { display_name: "renamed" } });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        const list = await api<{ devices: Device[] }>(base, "GET", `${V3}/devices`, { token: alice.accessToken });
        assert.equal(list.body.devices.find((d) => d.device_id === deviceId)?.display_name, "renamed");

        const challenge = await api<UiaBody>(base, "DELETE", path, { token: alice.accessToken, body: {} });
        assert.equal(challenge.status, 401, JSON.stringify(challenge.body));
        const del = await api(base, "DELETE", path, { token: alice.accessToken, body: { auth: passwordAuth(alice, challenge.body.session!) } });
        assert.equal(del.status, 200, JSON.stringify(del.body));
        await assertTokenDead(base, token);
        const gone = await api(base, "GET", path, { token: alice.accessToken });
        assert.equal(gone.status, 404);
        assert.equal(gone.body.errcode, "M_NOT_FOUND");
      });
    }

    it("a literal (unencoded) slash is a path separator: 404 M_UNRECOGNIZED, not a device lookup", async () => {
      const res = await api(base, "GET", `${V3}/devices/dev/with/slashes`, { token: alice.accessToken });
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_UNRECOGNIZED");
    });
  });
});
