/**
 * End-to-end keys over real HTTP: POST /keys/upload, /keys/query, /keys/claim and
 * GET /keys/changes, with keys made and signed like a client does (e2e-device.ts: real
 * ed25519 keys, canonical JSON), every refusal, and answers checked against the spec's
 * OpenAPI schemas. Each describe block starts its own server, so positions and users do not
 * leak between them.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify } from "node:crypto";
import { api, registerUser, startServer, type ApiResponse, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { createRoom, joinRoom, loginNewDevice, roomAction, storageOf } from "./room-helpers.js";
import { canonical, TestDevice } from "./e2e-device.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";

const V3 = "/_matrix/client/v3";
const SPEC = "keys.yaml";

type Body = Record<string, unknown>;
type KeyMap = Record<string, Record<string, Record<string, unknown>>>;

function device(user: TestUser): TestDevice {
  return new TestDevice(user.userId, user.deviceId);
}

function upload(server: TestServer, user: TestUser, body: unknown): Promise<ApiResponse<Body>> {
  return api(server.baseUrl, "POST", `${V3}/keys/upload`, { token: user.accessToken, body });
}

async function uploadOk(server: TestServer, user: TestUser, body: Body): Promise<Record<string, number>> {
  const res = await upload(server, user, body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  await assertMatchesSpec(SPEC, "/keys/upload", "post", 200, res.body);
  return res.body.one_time_key_counts as Record<string, number>;
}

function assertRefused(res: ApiResponse<Body>, errcode: string, status = 400): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, "string");
}

async function query(server: TestServer, user: TestUser, body: unknown): Promise<ApiResponse<{ device_keys: KeyMap; failures: Body; errcode?: string }>> {
  return api(server.baseUrl, "POST", `${V3}/keys/query`, { token: user.accessToken, body });
}

async function claim(server: TestServer, user: TestUser, body: unknown): Promise<ApiResponse<{ one_time_keys: KeyMap; failures: Body; errcode?: string }>> {
  return api(server.baseUrl, "POST", `${V3}/keys/claim`, { token: user.accessToken, body });
}

/** Verifies a device signature the way a receiving client does, independently of the server. */
function clientVerifies(obj: Record<string, unknown>, userId: string, deviceId: string, ed25519: string): boolean {
  const sig = (obj.signatures as Record<string, Record<string, string>> | undefined)?.[userId]?.[`ed25519:${deviceId}`];
  if (typeof sig !== "string") return false;
  const { signatures: _s, unsigned: _u, ...signable } = obj;
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(ed25519, "base64")]);
  return verify(null, Buffer.from(canonical(signable)), createPublicKey({ key: spki, format: "der", type: "spki" }), Buffer.from(sig, "base64"));
}

/** Positions of device_list log rows for a user, from the server's own log. */
async function deviceListRows(server: TestServer, userId: string): Promise<number> {
  const s = storageOf(server);
  const rows = await s.streams.read(0 as never, await s.streams.highestPosition(), 1_000_000);
  return rows.filter((r) => r.kind === "device_list" && r.userId === userId).length;
}

describe("POST /keys/upload", () => {
  let server: TestServer;
  let counter = 0;
  /** A fresh user (and device) per test. */
  const fresh = async (): Promise<TestUser> => registerUser(server.baseUrl, `up${++counter}`);

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  it("stores signed device keys, one-time keys and a fallback key, and answers the counts", async () => {
    const alice = await fresh();
    const d = device(alice);
    const before = await deviceListRows(server, alice.userId);
    const counts = await uploadOk(server, alice, { device_keys: d.deviceKeys(), one_time_keys: d.oneTimeKeys(5), fallback_keys: d.fallbackKeys() });
    assert.deepEqual(counts, { signed_curve25519: 5 });
    assert.equal(await deviceListRows(server, alice.userId), before + 1, "a device-list change is recorded");
    const s = storageOf(server);
    const stored = await s.keys.deviceKeys(alice.userId as UserId);
    assert.deepEqual(stored, [{ deviceId: alice.deviceId, keys: d.deviceKeys() }]);
    const keys = server.app.services.e2eKeys;
    assert.deepEqual(await keys.oneTimeKeyCounts(alice.userId as UserId, alice.deviceId as DeviceId), { signed_curve25519: 5 });
    assert.deepEqual(await keys.unusedFallbackKeyTypes(alice.userId as UserId, alice.deviceId as DeviceId), ["signed_curve25519"]);
  });

  it("an empty upload answers signed_curve25519: 0 (clients read it unconditionally)", async () => {
    const alice = await fresh();
    assert.deepEqual(await uploadOk(server, alice, {}), { signed_curve25519: 0 });
    assert.deepEqual(await uploadOk(server, alice, { one_time_keys: null, fallback_keys: null }), { signed_curve25519: 0 });
  });

  it("one-time keys are topped up later without device keys, checked against the published key", async () => {
    const alice = await fresh();
    const d = device(alice);
    await uploadOk(server, alice, { device_keys: d.deviceKeys(), one_time_keys: d.oneTimeKeys(2) });
    assert.deepEqual(await uploadOk(server, alice, { one_time_keys: d.oneTimeKeys(3) }), { signed_curve25519: 5 });
    const impostor = new TestDevice(alice.userId, alice.deviceId);
    assertRefused(await upload(server, alice, { one_time_keys: impostor.oneTimeKeys(1) }), "M_INVALID_SIGNATURE");
  });

  it("unsigned keys of unsigned algorithms are accepted and counted per algorithm", async () => {
    const alice = await fresh();
    const d = device(alice);
    const counts = await uploadOk(server, alice, { device_keys: d.deviceKeys(), one_time_keys: { "curve25519:AAAAAQ": "plainkey1", ...d.oneTimeKeys(1) } });
    assert.deepEqual(counts, { signed_curve25519: 1, curve25519: 1 });
  });

  it("the same device keys again are accepted and record no change; other fields may change", async () => {
    const alice = await fresh();
    const d = device(alice);
    await uploadOk(server, alice, { device_keys: d.deviceKeys() });
    const rows = await deviceListRows(server, alice.userId);
    await uploadOk(server, alice, { device_keys: d.deviceKeys() });
    assert.equal(await deviceListRows(server, alice.userId), rows, "no change, no device-list row");
    await uploadOk(server, alice, { device_keys: d.deviceKeys({ algorithms: ["m.olm.v1.curve25519-aes-sha2"] }) });
    assert.equal(await deviceListRows(server, alice.userId), rows + 1);
  });

  it("unsigned is not stored: the server's own unsigned replaces it on query", async () => {
    const alice = await fresh();
    const d = device(alice);
    await uploadOk(server, alice, { device_keys: { ...d.deviceKeys(), unsigned: { device_display_name: "forged" } } });
    const stored = await storageOf(server).keys.deviceKeys(alice.userId as UserId);
    assert.equal(stored[0]?.keys.unsigned, undefined);
  });

  describe("refusals of device_keys", () => {
    it("for another user: 400 M_BAD_JSON", async () => {
      const alice = await fresh();
      const other = new TestDevice("@someone:test.local", alice.deviceId);
      assertRefused(await upload(server, alice, { device_keys: other.deviceKeys() }), "M_BAD_JSON");
    });

    it("for another device of the same user: 400 M_BAD_JSON", async () => {
      const alice = await fresh();
      const second = await loginNewDevice(server.baseUrl, alice);
      assertRefused(await upload(server, alice, { device_keys: device(second).deviceKeys() }), "M_BAD_JSON");
      assert.deepEqual(await storageOf(server).keys.deviceKeys(alice.userId as UserId), []);
    });

    it("without algorithms, keys or signatures, or null: 400 M_BAD_JSON", async () => {
      const alice = await fresh();
      const d = device(alice);
      for (const field of ["algorithms", "keys", "signatures", "user_id", "device_id"]) {
        const body = d.deviceKeys();
        delete body[field];
        assertRefused(await upload(server, alice, { device_keys: body }), "M_BAD_JSON");
      }
      assertRefused(await upload(server, alice, { device_keys: null }), "M_BAD_JSON");
      assertRefused(await upload(server, alice, { device_keys: { ...d.deviceKeys(), algorithms: "m.megolm.v1.aes-sha2" } }), "M_BAD_JSON");
      assertRefused(await upload(server, alice, { device_keys: { ...d.deviceKeys(), keys: { [`ed25519:${alice.deviceId}`]: 5 } } }), "M_BAD_JSON");
    });

    it("without the device's own ed25519 key: 400 M_BAD_JSON", async () => {
      const alice = await fresh();
      const d = device(alice);
      const body = d.signed({ user_id: alice.userId, device_id: alice.deviceId, algorithms: ["m.megolm.v1.aes-sha2"], keys: { [`curve25519:${alice.deviceId}`]: d.curve25519, "ed25519:OTHER": d.ed25519 } });
      assertRefused(await upload(server, alice, { device_keys: body }), "M_BAD_JSON");
    });

    it("with no signature, a signature by another key, or under another user: 400 M_INVALID_SIGNATURE", async () => {
      const alice = await fresh();
      const d = device(alice);
      const unsigned = { ...d.deviceKeys(), signatures: {} };
      assertRefused(await upload(server, alice, { device_keys: unsigned }), "M_INVALID_SIGNATURE");
      const impostor = new TestDevice(alice.userId, alice.deviceId);
      const foreign = { ...d.deviceKeys(), signatures: { [alice.userId]: { [d.keyId]: impostor.signature(d.deviceKeys()) } } };
      assertRefused(await upload(server, alice, { device_keys: foreign }), "M_INVALID_SIGNATURE");
      const elsewhere = { ...d.deviceKeys(), signatures: { "@someone:test.local": { [d.keyId]: d.signature(d.deviceKeys()) } } };
      assertRefused(await upload(server, alice, { device_keys: elsewhere }), "M_INVALID_SIGNATURE");
      const garbage = { ...d.deviceKeys(), signatures: { [alice.userId]: { [d.keyId]: "not base64!" } } };
      assertRefused(await upload(server, alice, { device_keys: garbage }), "M_INVALID_SIGNATURE");
      assert.deepEqual(await storageOf(server).keys.deviceKeys(alice.userId as UserId), []);
    });

    it("changed after signing (a field, an extra field, a float): 400 M_INVALID_SIGNATURE", async () => {
      const alice = await fresh();
      const d = device(alice);
      assertRefused(await upload(server, alice, { device_keys: { ...d.deviceKeys(), algorithms: ["m.olm.v1.curve25519-aes-sha2"] } }), "M_INVALID_SIGNATURE");
      assertRefused(await upload(server, alice, { device_keys: { ...d.deviceKeys(), extra: "x" } }), "M_INVALID_SIGNATURE");
      assertRefused(await upload(server, alice, { device_keys: { ...d.deviceKeys(), extra: 1.5 } }), "M_INVALID_SIGNATURE");
    });

    it("extra fields the device signed are kept", async () => {
      const alice = await fresh();
      const d = device(alice);
      await uploadOk(server, alice, { device_keys: d.deviceKeys({ "org.example.extra": { nested: ["a", 1] } }) });
      const stored = await storageOf(server).keys.deviceKeys(alice.userId as UserId);
      assert.deepEqual(stored[0]?.keys["org.example.extra"], { nested: ["a", 1] });
    });

    it("new identity keys for a device replace the old ones and announce a device-list change (as Synapse)", async () => {
      const alice = await fresh();
      const d = device(alice);
      await uploadOk(server, alice, { device_keys: d.deviceKeys() });
      const before = await storageOf(server).streams.highestPosition();
      const replacement = new TestDevice(alice.userId, alice.deviceId);
      await uploadOk(server, alice, { device_keys: replacement.deviceKeys() });
      const stored = await storageOf(server).keys.deviceKeys(alice.userId as UserId);
      assert.deepEqual(stored[0]?.keys, replacement.deviceKeys());
      const log = await storageOf(server).streams.read(before, await storageOf(server).streams.highestPosition(), 100);
      assert.ok(log.some((r) => r.kind === "device_list" && r.userId === alice.userId), "a device_list change is recorded");
    });

    it("a device deleted and logged in again under the same id may publish new keys", async () => {
      const alice = await fresh();
      await uploadOk(server, alice, { device_keys: device(alice).deviceKeys() });
      const second = await loginNewDevice(server.baseUrl, alice);
      await storageOf(server).devices.delete(alice.userId as UserId, [alice.deviceId as DeviceId], Date.now());
      const res = await api<{ access_token: string }>(server.baseUrl, "POST", `${V3}/login`, {
        body: { type: "m.login.password", identifier: { type: "m.id.user", user: alice.userId }, password: alice.password, device_id: alice.deviceId },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const again = { ...alice, accessToken: res.body.access_token };
      await uploadOk(server, again, { device_keys: new TestDevice(alice.userId, alice.deviceId).deviceKeys() });
      assert.ok(second.deviceId !== alice.deviceId);
    });
  });

  describe("refusals of one-time and fallback keys", () => {
    it("a signed one-time key not signed by the device: 400 M_INVALID_SIGNATURE and nothing of the request is stored", async () => {
      const alice = await fresh();
      const d = device(alice);
      const impostor = new TestDevice(alice.userId, alice.deviceId);
      const res = await upload(server, alice, { device_keys: d.deviceKeys(), one_time_keys: { ...d.oneTimeKeys(2), ...impostor.oneTimeKeys(1) }, fallback_keys: d.fallbackKeys() });
      assertRefused(res, "M_INVALID_SIGNATURE");
      const keys = server.app.services.e2eKeys;
      assert.deepEqual(await keys.oneTimeKeyCounts(alice.userId as UserId, alice.deviceId as DeviceId), { signed_curve25519: 0 });
      assert.deepEqual(await keys.unusedFallbackKeyTypes(alice.userId as UserId, alice.deviceId as DeviceId), []);
      assert.deepEqual(await storageOf(server).keys.deviceKeys(alice.userId as UserId), []);
    });

    it("a one-time key changed after signing, or with an empty signature map: 400 M_INVALID_SIGNATURE", async () => {
      const alice = await fresh();
      const d = device(alice);
      await uploadOk(server, alice, { device_keys: d.deviceKeys() });
      const key = d.signedKey();
      assertRefused(await upload(server, alice, { one_time_keys: { "signed_curve25519:X1": { ...key, key: d.curve25519 } } }), "M_INVALID_SIGNATURE");
      assertRefused(await upload(server, alice, { one_time_keys: { "signed_curve25519:X2": { ...key, signatures: {} } } }), "M_INVALID_SIGNATURE");
      assertRefused(await upload(server, alice, { one_time_keys: { "signed_curve25519:X3": { ...key, fallback: true } } }), "M_INVALID_SIGNATURE");
    });

    it("a signed key from a device that has no device keys: 400 M_INVALID_SIGNATURE", async () => {
      const alice = await fresh();
      assertRefused(await upload(server, alice, { one_time_keys: device(alice).oneTimeKeys(1) }), "M_INVALID_SIGNATURE");
    });

    it("malformed key names, an unsigned signed_curve25519 key, a key object without signatures: 400 M_BAD_JSON", async () => {
      const alice = await fresh();
      const d = device(alice);
      await uploadOk(server, alice, { device_keys: d.deviceKeys() });
      for (const name of ["signed_curve25519", "signed_curve25519:a:b", ":AAAA", "signed_curve25519:"]) {
        assertRefused(await upload(server, alice, { one_time_keys: { [name]: d.signedKey() } }), "M_BAD_JSON");
        assertRefused(await upload(server, alice, { fallback_keys: { [name]: d.signedKey({ fallback: true }) } }), "M_BAD_JSON");
      }
      assertRefused(await upload(server, alice, { one_time_keys: { "signed_curve25519:AAAA": "plain" } }), "M_BAD_JSON");
      assertRefused(await upload(server, alice, { one_time_keys: { "signed_curve25519:AAAA": { key: d.curve25519 } } }), "M_BAD_JSON");
      assertRefused(await upload(server, alice, { one_time_keys: { "signed_curve25519:AAAA": 7 } }), "M_BAD_JSON");
      assertRefused(await upload(server, alice, { one_time_keys: ["signed_curve25519:AAAA"] }), "M_BAD_JSON");
    });

    it("a one-time key id reused for a different key: 400 M_UNKNOWN (Synapse); the same key again is fine", async () => {
      const alice = await fresh();
      const d = device(alice);
      const first = d.oneTimeKeys(1);
      await uploadOk(server, alice, { device_keys: d.deviceKeys(), one_time_keys: first });
      assert.deepEqual(await uploadOk(server, alice, { one_time_keys: first }), { signed_curve25519: 1 });
      const [name] = Object.keys(first);
      assertRefused(await upload(server, alice, { one_time_keys: { ...d.oneTimeKeys(1), [name!]: d.signedKey() } }), "M_UNKNOWN");
      assert.deepEqual(await server.app.services.e2eKeys.oneTimeKeyCounts(alice.userId as UserId, alice.deviceId as DeviceId), { signed_curve25519: 1 });
    });

    it("a fallback key not signed by the device, or two for one algorithm: 400", async () => {
      const alice = await fresh();
      const d = device(alice);
      await uploadOk(server, alice, { device_keys: d.deviceKeys() });
      const impostor = new TestDevice(alice.userId, alice.deviceId);
      assertRefused(await upload(server, alice, { fallback_keys: impostor.fallbackKeys() }), "M_INVALID_SIGNATURE");
      assertRefused(await upload(server, alice, { fallback_keys: { ...d.fallbackKeys(), ...d.fallbackKeys() } }), "M_BAD_JSON");
      assert.deepEqual(await server.app.services.e2eKeys.unusedFallbackKeyTypes(alice.userId as UserId, alice.deviceId as DeviceId), []);
    });

    it("MSC2732's unstable fallback_keys name is accepted", async () => {
      const alice = await fresh();
      const d = device(alice);
      await uploadOk(server, alice, { device_keys: d.deviceKeys(), "org.matrix.msc2732.fallback_keys": d.fallbackKeys() });
      assert.deepEqual(await server.app.services.e2eKeys.unusedFallbackKeyTypes(alice.userId as UserId, alice.deviceId as DeviceId), ["signed_curve25519"]);
    });
  });

  it("needs an access token and a JSON object", async () => {
    assertRefused(await api(server.baseUrl, "POST", `${V3}/keys/upload`, { body: {} }), "M_MISSING_TOKEN", 401);
    const alice = await fresh();
    assertRefused(await upload(server, alice, "{not json"), "M_NOT_JSON");
    assertRefused(await upload(server, alice, []), "M_BAD_JSON");
  });

  it("is served under r0 as well", async () => {
    const alice = await fresh();
    const res = await api(server.baseUrl, "POST", "/_matrix/client/r0/keys/upload", { token: alice.accessToken, body: {} });
    assert.equal(res.status, 200);
  });
});

describe("POST /keys/query and POST /keys/claim", () => {
  let server: TestServer;
  let alice: TestUser;
  let aliceDevice: TestDevice;
  let alice2: TestUser;
  let alice2Device: TestDevice;
  let bob: TestUser;

  before(async () => {
    server = await startServer();
    alice = await registerUser(server.baseUrl, "alice");
    alice2 = await loginNewDevice(server.baseUrl, alice);
    bob = await registerUser(server.baseUrl, "bob");
    aliceDevice = device(alice);
    alice2Device = device(alice2);
    await uploadOk(server, alice, { device_keys: aliceDevice.deviceKeys(), one_time_keys: aliceDevice.oneTimeKeys(2), fallback_keys: aliceDevice.fallbackKeys() });
    await uploadOk(server, alice2, { device_keys: alice2Device.deviceKeys(), one_time_keys: alice2Device.oneTimeKeys(1) });
    const named = await api(server.baseUrl, "PUT", `${V3}/devices/${encodeURIComponent(alice.deviceId)}`, { token: alice.accessToken, body: { display_name: "Alice's phone" } });
    assert.equal(named.status, 200);
  });
  after(async () => {
    await server?.close();
  });

  describe("query", () => {
    it("an empty list returns every device, as uploaded, with unsigned.device_display_name", async () => {
      const res = await query(server, bob, { device_keys: { [alice.userId]: [] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec(SPEC, "/keys/query", "post", 200, res.body);
      assert.deepEqual(res.body.failures, {});
      const devices = res.body.device_keys[alice.userId]!;
      assert.deepEqual(Object.keys(devices).sort(), [alice.deviceId, alice2.deviceId].sort());
      assert.deepEqual(devices[alice.deviceId], { ...aliceDevice.deviceKeys(), unsigned: { device_display_name: "Alice's phone" } });
      assert.deepEqual(devices[alice2.deviceId]?.unsigned, {}, "a device without a name gets an empty unsigned");
      for (const [id, keys] of Object.entries(devices)) {
        const ed = (keys.keys as Record<string, string>)[`ed25519:${id}`]!;
        assert.ok(clientVerifies(keys, alice.userId, id, ed), `the self-signature of ${id} still verifies`);
      }
    });

    it("a device list narrows the answer; unknown devices are left out", async () => {
      const res = await query(server, bob, { device_keys: { [alice.userId]: [alice2.deviceId, "NOSUCHDEVICE"] }, timeout: 10_000 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body.device_keys[alice.userId]!), [alice2.deviceId]);
    });

    it("a user without keys gets an empty map; an unknown local user is left out; remote servers are failures", async () => {
      const res = await query(server, alice, { device_keys: { [bob.userId]: [], "@nobody:test.local": [], "@carol:remote.example": [] } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec(SPEC, "/keys/query", "post", 200, res.body);
      assert.deepEqual(res.body.device_keys, { [bob.userId]: {} });
      assert.deepEqual(Object.keys(res.body.failures), ["remote.example"]);
    });

    it("an empty query answers empty maps", async () => {
      const res = await query(server, alice, { device_keys: {} });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { device_keys: {}, failures: {} });
    });

    it("refuses a malformed user id (M_INVALID_PARAM) and malformed bodies (M_BAD_JSON)", async () => {
      assertRefused(await query(server, alice, { device_keys: { "not-a-user": [] } }) as ApiResponse<Body>, "M_INVALID_PARAM");
      assertRefused(await query(server, alice, {}) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await query(server, alice, { device_keys: { [bob.userId]: "all" } }) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await query(server, alice, { device_keys: { [bob.userId]: [1] } }) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await query(server, alice, { device_keys: {}, timeout: "soon" }) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await api(server.baseUrl, "POST", `${V3}/keys/query`, { body: { device_keys: {} } }), "M_MISSING_TOKEN", 401);
    });
  });

  describe("claim", () => {
    it("hands out one-time keys once each, then the fallback key, which is reported used and reused", async () => {
      const keys = server.app.services.e2eKeys;
      const uid = alice.userId as UserId;
      const did = alice.deviceId as DeviceId;
      const seen = new Set<string>();
      for (let i = 0; i < 2; i++) {
        const res = await claim(server, bob, { one_time_keys: { [alice.userId]: { [alice.deviceId]: "signed_curve25519" } } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await assertMatchesSpec(SPEC, "/keys/claim", "post", 200, res.body);
        const got = res.body.one_time_keys[alice.userId]![alice.deviceId]!;
        const [name, key] = Object.entries(got)[0]!;
        assert.ok(name.startsWith("signed_curve25519:"));
        assert.ok(!seen.has(name), "never the same key twice");
        seen.add(name);
        assert.equal((key as Body).fallback, undefined);
        assert.ok(clientVerifies(key as Body, alice.userId, alice.deviceId, aliceDevice.ed25519));
      }
      assert.deepEqual(await keys.oneTimeKeyCounts(uid, did), { signed_curve25519: 0 });
      assert.deepEqual(await keys.unusedFallbackKeyTypes(uid, did), ["signed_curve25519"]);

      const fallbacks: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await claim(server, bob, { one_time_keys: { [alice.userId]: { [alice.deviceId]: "signed_curve25519" } } });
        const [name, key] = Object.entries(res.body.one_time_keys[alice.userId]![alice.deviceId]!)[0]!;
        assert.equal((key as Body).fallback, true, "the fallback key, as uploaded");
        assert.ok(clientVerifies(key as Body, alice.userId, alice.deviceId, aliceDevice.ed25519));
        fallbacks.push(name);
      }
      assert.equal(fallbacks[0], fallbacks[1], "a fallback key is reused until replaced");
      assert.deepEqual(await keys.unusedFallbackKeyTypes(uid, did), [], "and reported used");

      // The same fallback key again stays used; a new one is unused and is what the next claim gets.
      const stored = Object.entries(await claimed(server, bob, alice))[0]!;
      await uploadOk(server, alice, { fallback_keys: { [stored[0]]: stored[1] } });
      assert.deepEqual(await keys.unusedFallbackKeyTypes(uid, did), []);
      const replacement = aliceDevice.fallbackKeys();
      await uploadOk(server, alice, { fallback_keys: replacement });
      assert.deepEqual(await keys.unusedFallbackKeyTypes(uid, did), ["signed_curve25519"]);
      assert.deepEqual(await claimed(server, bob, alice), replacement);
      assert.deepEqual(await keys.unusedFallbackKeyTypes(uid, did), []);

      // New one-time keys go out before the fallback key again.
      const topUp = aliceDevice.oneTimeKeys(1);
      assert.deepEqual(await uploadOk(server, alice, { one_time_keys: topUp }), { signed_curve25519: 1 });
      assert.deepEqual(await claimed(server, bob, alice), topUp);
    });

    it("a device with no keys of the algorithm, an unknown device or user is left out; remote servers are failures", async () => {
      const res = await claim(server, alice, {
        one_time_keys: {
          [alice.userId]: { [alice2.deviceId]: "curve25519", NOSUCH: "signed_curve25519" },
          [bob.userId]: { [bob.deviceId]: "signed_curve25519" },
          "@nobody:test.local": { X: "signed_curve25519" },
          "@carol:remote.example": { X: "signed_curve25519" },
        },
        timeout: 10_000,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec(SPEC, "/keys/claim", "post", 200, res.body);
      assert.deepEqual(res.body.one_time_keys, {});
      assert.deepEqual(Object.keys(res.body.failures), ["remote.example"]);
      assert.deepEqual(await server.app.services.e2eKeys.oneTimeKeyCounts(alice2.userId as UserId, alice2.deviceId as DeviceId), { signed_curve25519: 1 });
    });

    it("refuses a malformed user id before taking any key, and malformed bodies", async () => {
      const res = await claim(server, bob, { one_time_keys: { [alice2.userId]: { [alice2.deviceId]: "signed_curve25519" }, "bad id": {} } });
      assertRefused(res as ApiResponse<Body>, "M_INVALID_PARAM");
      assert.deepEqual(await server.app.services.e2eKeys.oneTimeKeyCounts(alice2.userId as UserId, alice2.deviceId as DeviceId), { signed_curve25519: 1 });
      assertRefused(await claim(server, bob, {}) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await claim(server, bob, { one_time_keys: { [alice.userId]: [alice.deviceId] } }) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await claim(server, bob, { one_time_keys: { [alice.userId]: { [alice.deviceId]: 1 } } }) as ApiResponse<Body>, "M_BAD_JSON");
      assertRefused(await api(server.baseUrl, "POST", `${V3}/keys/claim`, { body: { one_time_keys: {} } }), "M_MISSING_TOKEN", 401);
    });

    it("a deleted device's keys can no longer be claimed or queried", async () => {
      const third = await loginNewDevice(server.baseUrl, alice);
      const d = device(third);
      await uploadOk(server, third, { device_keys: d.deviceKeys(), one_time_keys: d.oneTimeKeys(1), fallback_keys: d.fallbackKeys() });
      await storageOf(server).devices.delete(alice.userId as UserId, [third.deviceId as DeviceId], Date.now());
      const c = await claim(server, bob, { one_time_keys: { [alice.userId]: { [third.deviceId]: "signed_curve25519" } } });
      assert.deepEqual(c.body.one_time_keys, {});
      const q = await query(server, bob, { device_keys: { [alice.userId]: [third.deviceId] } });
      assert.deepEqual(q.body.device_keys, { [alice.userId]: {} });
    });
  });
});

/** Claims one key of alice's first device for `by`; returns its `{name: key}` map. */
async function claimed(server: TestServer, by: TestUser, owner: TestUser): Promise<Record<string, unknown>> {
  const res = await claim(server, by, { one_time_keys: { [owner.userId]: { [owner.deviceId]: "signed_curve25519" } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.one_time_keys[owner.userId]![owner.deviceId]!;
}

describe("GET /keys/changes", () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  /** The boundary token for "now": every retired position has been seen. */
  const now = () => `t${server.app.services.storage.sequencer.retired() + 1}`;

  async function changes(user: TestUser, from: string, to?: string): Promise<{ changed: string[]; left: string[] }> {
    const qs = new URLSearchParams({ from, ...(to !== undefined ? { to } : {}) });
    const res = await api<{ changed: string[]; left: string[] }>(server.baseUrl, "GET", `${V3}/keys/changes?${qs}`, { token: user.accessToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await assertMatchesSpec(SPEC, "/keys/changes", "get", 200, res.body);
    return { changed: [...res.body.changed].sort(), left: [...res.body.left].sort() };
  }

  it("reports device changes of users sharing a room, newcomers and the user's own, then who left", async () => {
    const base = server.baseUrl;
    const [alice, bob, carol, dave, erin] = await Promise.all(["alice", "bob", "carol", "dave", "erin"].map((n) => registerUser(base, n)));
    const room = await createRoom(base, alice!, { preset: "public_chat" });
    const other = await createRoom(base, alice!, { preset: "public_chat" });
    await joinRoom(base, bob!, room);
    await joinRoom(base, erin!, room);
    await joinRoom(base, erin!, other);
    const lonely = await createRoom(base, carol!, {});
    assert.ok(lonely);

    const t1 = now();
    await uploadOk(server, bob!, { device_keys: device(bob!).deviceKeys() });
    await uploadOk(server, carol!, { device_keys: device(carol!).deviceKeys() });
    await joinRoom(base, dave!, room);
    const aliceSecond = await loginNewDevice(base, alice!);
    const t2 = now();
    await uploadOk(server, erin!, { device_keys: device(erin!).deviceKeys() });
    const t3 = now();

    const between12 = await changes(alice!, t1, t2);
    assert.deepEqual(between12, { changed: [alice!.userId, bob!.userId, dave!.userId].sort(), left: [] }, "bob's keys, dave joined, alice's new device; not carol");
    assert.ok(aliceSecond.deviceId);
    assert.deepEqual(await changes(alice!, t2, t3), { changed: [erin!.userId], left: [] }, "changes after `to` wait for the next range");
    assert.deepEqual(await changes(alice!, t1), { changed: [alice!.userId, bob!.userId, dave!.userId, erin!.userId].sort(), left: [] }, "no `to` = now");
    assert.deepEqual(await changes(bob!, t1, t2), { changed: [alice!.userId, bob!.userId, dave!.userId].sort(), left: [] });
    assert.deepEqual(await changes(carol!, t1, t2), { changed: [carol!.userId], left: [] }, "carol shares no room");

    // bob leaves the only room he shares with alice; erin leaves one of two.
    assert.equal((await roomAction(base, bob!, room, "leave")).status, 200);
    assert.equal((await roomAction(base, erin!, room, "leave")).status, 200);
    const t4 = now();
    assert.deepEqual(await changes(alice!, t3, t4), { changed: [], left: [bob!.userId] }, "erin still shares the other room");
    assert.deepEqual(await changes(bob!, t3, t4), { changed: [], left: [alice!.userId, dave!.userId, erin!.userId].sort() }, "the leaver sees everyone go");
    assert.deepEqual(
      await changes(alice!, t1, t4),
      { changed: [alice!.userId, dave!.userId, erin!.userId].sort(), left: [bob!.userId] },
      "over the whole range bob's key change does not count: he shares no room at the end",
    );
  });

  it("a deleted device of a room-mate is a change; a user who joined and left within the range is neither", async () => {
    const base = server.baseUrl;
    const [fay, gus, hal] = await Promise.all(["fay", "gus", "hal"].map((n) => registerUser(base, n)));
    const room = await createRoom(base, fay!, { preset: "public_chat" });
    await joinRoom(base, gus!, room);
    const second = await loginNewDevice(base, gus!);
    const t1 = now();
    await storageOf(server).devices.delete(gus!.userId as UserId, [second.deviceId as DeviceId], Date.now());
    await joinRoom(base, hal!, room);
    await uploadOk(server, hal!, { device_keys: device(hal!).deviceKeys() });
    assert.equal((await roomAction(base, hal!, room, "leave")).status, 200);
    const t2 = now();
    assert.deepEqual(await changes(fay!, t1, t2), { changed: [gus!.userId], left: [] });
  });

  it("a user who left every shared room before the range does not come back; tokens are clamped, ordered and checked", async () => {
    const base = server.baseUrl;
    const [ivy, jon] = await Promise.all(["ivy", "jon"].map((n) => registerUser(base, n)));
    const room = await createRoom(base, ivy!, { preset: "public_chat" });
    await joinRoom(base, jon!, room);
    assert.equal((await roomAction(base, jon!, room, "leave")).status, 200);
    const t1 = now();
    await uploadOk(server, jon!, { device_keys: device(jon!).deviceKeys() });
    const t2 = now();
    assert.deepEqual(await changes(ivy!, t1, t2), { changed: [], left: [] });
    assert.deepEqual(await changes(ivy!, t2, t1), { changed: [], left: [] }, "`to` before `from` reports nothing");
    assert.deepEqual(await changes(ivy!, "t99999999", "t999999999"), { changed: [], left: [] }, "future tokens are the frontier");
    assert.deepEqual(await changes(jon!, "t0", t2), { changed: [jon!.userId], left: [] });

    const get = (qs: string) => api(base, "GET", `${V3}/keys/changes${qs}`, { token: ivy!.accessToken });
    assertRefused(await get(""), "M_MISSING_PARAM");
    assertRefused(await get(`?to=${t2}`), "M_MISSING_PARAM");
    assertRefused(await get("?from=s72594&to=" + t2), "M_INVALID_PARAM");
    assertRefused(await get("?from=72594&to=" + t2), "M_INVALID_PARAM");
    assertRefused(await get(`?from=${t1}&to=later`), "M_INVALID_PARAM");
    assertRefused(await get("?from=t-1"), "M_INVALID_PARAM");
    assertRefused(await api(base, "GET", `${V3}/keys/changes?from=${t1}`), "M_MISSING_TOKEN", 401);
  });

  it("accepts sync next_batch tokens; one from a database that no longer exists reads as the origin", async () => {
    const base = server.baseUrl;
    const [max, ned] = await Promise.all(["max", "ned"].map((n) => registerUser(base, n)));
    const room = await createRoom(base, max!, { preset: "public_chat" });
    await joinRoom(base, ned!, room);
    const nextBatch = async (): Promise<string> => {
      const res = await api<{ next_batch: string }>(base, "GET", `${V3}/sync?timeout=0`, { token: max!.accessToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.next_batch;
    };
    const s1 = await nextBatch();
    await uploadOk(server, ned!, { device_keys: device(ned!).deviceKeys() });
    const s2 = await nextBatch();
    assert.deepEqual(await changes(max!, s1, s2), { changed: [ned!.userId], left: [] });
    assert.deepEqual(await changes(max!, s1, now()), { changed: [ned!.userId], left: [] }, "sync and boundary tokens mix");
    assert.deepEqual(await changes(max!, s2, s2), { changed: [], left: [] });
    const [, pos, stamp] = /^s(\d+)_([0-9a-z]+)_/.exec(s1)!;
    const otherDatabase = `s${pos}_${stamp}_AnotherEpoch`;
    assert.deepEqual(await changes(max!, otherDatabase, s2), { changed: [max!.userId, ned!.userId].sort(), left: [] }, "everyone sharing a room, as from the origin");
    assertRefused(await api(base, "GET", `${V3}/keys/changes?from=s12_zz`, { token: max!.accessToken }), "M_INVALID_PARAM");
  });

  it("deviceListChanges reads positions (after, upto]", async () => {
    const base = server.baseUrl;
    const [kim, lee] = await Promise.all(["kim", "lee"].map((n) => registerUser(base, n)));
    const room = await createRoom(base, kim!, { preset: "public_chat" });
    await joinRoom(base, lee!, room);
    const s = storageOf(server);
    const before = s.sequencer.retired();
    await uploadOk(server, lee!, { device_keys: device(lee!).deviceKeys() });
    const at = s.sequencer.retired();
    assert.equal(at, before + 1);
    const keys = server.app.services.e2eKeys;
    assert.deepEqual(await keys.deviceListChanges(kim!.userId as UserId, before, at), { changed: [lee!.userId], left: [] });
    assert.deepEqual(await keys.deviceListChanges(kim!.userId as UserId, at, at), { changed: [], left: [] });
  });
});
