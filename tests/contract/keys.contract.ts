/**
 * The Storage contract for end-to-end keys (KeyStore), checked through the Storage interface
 * only: device keys and their device-list changes, one-time keys (upload order, conflicts,
 * claimed once), fallback keys (used flag, re-upload), and keys leaving with their device.
 * Storage checks no signatures, so keys here are plain objects with fake signatures.
 *
 *   keysContract(() => Promise.resolve(openSqliteStorage({ path: ":memory:" })));
 *
 * `open` must return a new, empty storage on every call; each test closes it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/storage.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";
import type { StreamLogRow } from "../../src/storage/rows.js";
import type { StreamPos } from "../../src/streams/position.js";

const T0 = 1_700_000_000_000;
const alice = "@alice:test" as UserId;
const bob = "@bob:test" as UserId;
const D1 = "DEV1" as DeviceId;
const D2 = "DEV2" as DeviceId;
const BIG = 1_000_000;

let tokenCounter = 0;

/** Creates the user (if new) with a session on `deviceId`. */
async function withDevice(s: Storage, userId: UserId, deviceId: DeviceId, displayName: string | null = null): Promise<void> {
  tokenCounter += 1;
  const session = { userId, deviceId, deviceDisplayName: displayName, accessTokenHash: `tok-${tokenCounter}`, refresh: null, ip: null };
  if (await s.accounts.userExists(userId)) await s.tokens.createSession(session, T0);
  else await s.accounts.createUser({ userId, passwordHash: "h", isAdmin: false, displayname: null }, session, T0);
}

function deviceKeys(userId: string, deviceId: string, ed = "ed-key", over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user_id: userId,
    device_id: deviceId,
    algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
    keys: { [`curve25519:${deviceId}`]: "curve-key", [`ed25519:${deviceId}`]: ed },
    signatures: { [userId]: { [`ed25519:${deviceId}`]: "sig" } },
    ...over,
  };
}

function signed(key: string, fallback = false): Record<string, unknown> {
  return { key, ...(fallback ? { fallback: true } : {}), signatures: { [alice]: { "ed25519:DEV1": `sig-of-${key}` } } };
}

const otk = (keyId: string, key: unknown = signed(`k-${keyId}`)) => ({ algorithm: "signed_curve25519", keyId, key });

async function logAfter(s: Storage, pos: StreamPos): Promise<StreamLogRow[]> {
  return s.streams.read(pos, await s.streams.highestPosition(), BIG);
}

export function keysContract(open: () => Promise<Storage>): void {
  const test = (title: string, fn: (s: Storage) => Promise<void>) =>
    it(title, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  describe("storage contract: keys", () => {
    describe("device keys", () => {
      test("are stored and read back per device; a change records one device_list row for the owner", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, alice, D2);
        const before = await s.streams.highestPosition();
        assert.equal(await s.keys.putDeviceKeys(alice, D1, deviceKeys(alice, D1)), true);
        const rows = await logAfter(s, before);
        assert.deepEqual(rows.map((r) => [r.kind, r.userId]), [["device_list", alice]]);
        assert.deepEqual(await s.keys.deviceKeys(alice), [{ deviceId: D1, keys: deviceKeys(alice, D1) }]);
        assert.deepEqual(await s.keys.deviceKeys(bob), []);
      });

      test("the same keys again (in any key order) change nothing and record nothing", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.putDeviceKeys(alice, D1, deviceKeys(alice, D1));
        const before = await s.streams.highestPosition();
        const reordered = Object.fromEntries(Object.entries(deviceKeys(alice, D1)).reverse());
        assert.equal(await s.keys.putDeviceKeys(alice, D1, reordered), false);
        assert.deepEqual(await logAfter(s, before), []);
      });

      test("different keys replace the stored ones and record a change", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.putDeviceKeys(alice, D1, deviceKeys(alice, D1));
        const before = await s.streams.highestPosition();
        const next = deviceKeys(alice, D1, "ed-key", { algorithms: ["m.olm.v1.curve25519-aes-sha2"] });
        assert.equal(await s.keys.putDeviceKeys(alice, D1, next), true);
        assert.equal((await logAfter(s, before)).length, 1);
        assert.deepEqual(await s.keys.deviceKeys(alice, [D1]), [{ deviceId: D1, keys: next }]);
      });

      test("a device list narrows the answer; an empty list means every device; results are by device id", async (s) => {
        await withDevice(s, alice, D2);
        await withDevice(s, alice, D1);
        await s.keys.putDeviceKeys(alice, D2, deviceKeys(alice, D2));
        await s.keys.putDeviceKeys(alice, D1, deviceKeys(alice, D1));
        assert.deepEqual((await s.keys.deviceKeys(alice)).map((k) => k.deviceId), [D1, D2]);
        assert.deepEqual((await s.keys.deviceKeys(alice, [])).map((k) => k.deviceId), [D1, D2]);
        assert.deepEqual((await s.keys.deviceKeys(alice, [D2, "NOPE" as DeviceId])).map((k) => k.deviceId), [D2]);
      });
    });

    describe("one-time keys", () => {
      test("are counted per algorithm; the same key id with the same key is skipped", async (s) => {
        await withDevice(s, alice, D1);
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D1), {});
        assert.deepEqual(await s.keys.addOneTimeKeys(alice, D1, [otk("A"), otk("B"), { algorithm: "curve25519", keyId: "C", key: "plain" }]), []);
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D1), { signed_curve25519: 2, curve25519: 1 });
        assert.deepEqual(await s.keys.addOneTimeKeys(alice, D1, [otk("A"), otk("D")]), []);
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D1), { signed_curve25519: 3, curve25519: 1 });
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D2), {});
      });

      test("a key id already holding a different key is a conflict, and nothing of that call is written", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.addOneTimeKeys(alice, D1, [otk("A")]);
        const conflicts = await s.keys.addOneTimeKeys(alice, D1, [otk("B"), otk("A", signed("other"))]);
        assert.deepEqual(conflicts, ["signed_curve25519:A"]);
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D1), { signed_curve25519: 1 });
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "A", key: signed("k-A") });
      });

      test("are claimed once each, oldest upload first, then none is left", async (s) => {
        await withDevice(s, alice, D1);
        // Upload order differs from key id order either way round.
        await s.keys.addOneTimeKeys(alice, D1, [otk("mm1"), otk("mm2")]);
        await s.keys.addOneTimeKeys(alice, D1, [otk("aa1")]);
        await s.keys.addOneTimeKeys(alice, D1, [otk("zz1")]);
        const first = await s.keys.claim(alice, D1, "signed_curve25519");
        const second = await s.keys.claim(alice, D1, "signed_curve25519");
        assert.deepEqual([first?.keyId, second?.keyId].sort(), ["mm1", "mm2"], "the first upload goes out before the second");
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "aa1", key: signed("k-aa1") });
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "zz1", key: signed("k-zz1") });
        assert.equal(await s.keys.claim(alice, D1, "signed_curve25519"), null);
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D1), {});
      });

      test("a claimed key id uploaded again is a new key", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.addOneTimeKeys(alice, D1, [otk("A")]);
        await s.keys.claim(alice, D1, "signed_curve25519");
        assert.deepEqual(await s.keys.addOneTimeKeys(alice, D1, [otk("A", signed("fresh"))]), []);
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "A", key: signed("fresh") });
      });

      test("claims are per user, device and algorithm", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, alice, D2);
        await withDevice(s, bob, D1);
        await s.keys.addOneTimeKeys(alice, D1, [otk("A1")]);
        await s.keys.addOneTimeKeys(alice, D2, [otk("A2")]);
        await s.keys.addOneTimeKeys(bob, D1, [otk("B1")]);
        assert.equal(await s.keys.claim(alice, D1, "curve25519"), null);
        assert.equal((await s.keys.claim(bob, D1, "signed_curve25519"))?.keyId, "B1");
        assert.equal((await s.keys.claim(alice, D2, "signed_curve25519"))?.keyId, "A2");
        assert.equal((await s.keys.claim(alice, D1, "signed_curve25519"))?.keyId, "A1");
      });

      test("concurrent claims never hand out one key twice", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.addOneTimeKeys(alice, D1, Array.from({ length: 20 }, (_, i) => otk(`K${i}`)));
        const claimed = await Promise.all(Array.from({ length: 25 }, () => s.keys.claim(alice, D1, "signed_curve25519")));
        const ids = claimed.filter((c) => c !== null).map((c) => c.keyId);
        assert.equal(ids.length, 20);
        assert.equal(new Set(ids).size, 20);
      });
    });

    describe("fallback keys", () => {
      test("are handed out when one-time keys run out, reused, and reported used", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.addOneTimeKeys(alice, D1, [otk("A")]);
        await s.keys.setFallbackKeys(alice, D1, [{ algorithm: "signed_curve25519", keyId: "F1", key: signed("fb1", true) }]);
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), ["signed_curve25519"]);
        assert.equal((await s.keys.claim(alice, D1, "signed_curve25519"))?.keyId, "A", "one-time keys go first");
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), ["signed_curve25519"]);
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "F1", key: signed("fb1", true) });
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), []);
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "F1", key: signed("fb1", true) }, "a fallback key is not consumed");
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D1), {}, "fallback keys are not one-time keys");
      });

      test("the same key uploaded again stays used; a new key is unused and replaces it", async (s) => {
        await withDevice(s, alice, D1);
        const f1 = { algorithm: "signed_curve25519", keyId: "F1", key: signed("fb1", true) };
        await s.keys.setFallbackKeys(alice, D1, [f1]);
        await s.keys.claim(alice, D1, "signed_curve25519");
        await s.keys.setFallbackKeys(alice, D1, [{ ...f1, key: Object.fromEntries(Object.entries(f1.key).reverse()) }]);
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), [], "re-sending the used key must not revive it");
        await s.keys.setFallbackKeys(alice, D1, [{ algorithm: "signed_curve25519", keyId: "F2", key: signed("fb2", true) }]);
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), ["signed_curve25519"]);
        assert.deepEqual(await s.keys.claim(alice, D1, "signed_curve25519"), { keyId: "F2", key: signed("fb2", true) });
      });

      test("one per algorithm, listed sorted", async (s) => {
        await withDevice(s, alice, D1);
        await s.keys.setFallbackKeys(alice, D1, [
          { algorithm: "signed_curve25519", keyId: "F1", key: signed("fb1", true) },
          { algorithm: "curve25519", keyId: "F2", key: "plain" },
        ]);
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), ["curve25519", "signed_curve25519"]);
        await s.keys.claim(alice, D1, "curve25519");
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D1), ["signed_curve25519"]);
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(alice, D2), []);
      });
    });

    describe("deviceKeyCounts", () => {
      test("answers both counts in one read, per device", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, alice, D2);
        const counts = (d: DeviceId) => s.keys.deviceKeyCounts(alice, d);
        assert.deepEqual(await counts(D1), { oneTimeKeys: {}, unusedFallbackTypes: [] });
        await s.keys.addOneTimeKeys(alice, D1, [otk("A"), otk("B"), { algorithm: "curve25519", keyId: "C", key: "plain" }]);
        await s.keys.setFallbackKeys(alice, D1, [
          { algorithm: "signed_curve25519", keyId: "F1", key: signed("fb1", true) },
          { algorithm: "curve25519", keyId: "F2", key: "plain" },
        ]);
        await s.keys.addOneTimeKeys(alice, D2, [otk("Z")]);
        assert.deepEqual(await counts(D1), { oneTimeKeys: { curve25519: 1, signed_curve25519: 2 }, unusedFallbackTypes: ["curve25519", "signed_curve25519"] });
        await s.keys.claim(alice, D1, "curve25519");
        await s.keys.claim(alice, D1, "curve25519"); // no one-time key left: the fallback key is used
        assert.deepEqual(await counts(D1), { oneTimeKeys: { signed_curve25519: 2 }, unusedFallbackTypes: ["signed_curve25519"] });
        assert.deepEqual(await counts(D2), { oneTimeKeys: { signed_curve25519: 1 }, unusedFallbackTypes: [] });
        assert.deepEqual(await s.keys.deviceKeyCounts(bob, D1), { oneTimeKeys: {}, unusedFallbackTypes: [] });
      });
    });

    describe("deviceKeyCounts after writes", () => {
      test("says what the separate counts say after each kind of write, whatever was asked before", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, alice, D2);
        const expected = async (u: UserId, d: DeviceId) => ({ oneTimeKeys: await s.keys.oneTimeKeyCounts(u, d), unusedFallbackTypes: await s.keys.unusedFallbackKeyTypes(u, d) });
        const check = async (what: string) => {
          for (const d of [D1, D2]) assert.deepEqual(await s.keys.deviceKeyCounts(alice, d), await expected(alice, d), `${what}: ${d}`);
        };
        await check("nothing yet");
        await s.keys.addOneTimeKeys(alice, D1, [otk("A"), otk("B")]);
        await check("upload");
        await s.keys.setFallbackKeys(alice, D1, [{ algorithm: "signed_curve25519", keyId: "F1", key: signed("fb1", true) }]);
        await check("fallback upload");
        await s.keys.claim(alice, D1, "signed_curve25519");
        await check("one-time key claimed");
        await s.keys.claim(alice, D1, "signed_curve25519");
        await check("the last one-time key claimed");
        await s.keys.claim(alice, D1, "signed_curve25519");
        await check("fallback key used");
        const counts = await s.keys.deviceKeyCounts(alice, D1);
        counts.oneTimeKeys.x = 99;
        counts.unusedFallbackTypes.push("x");
        await check("a caller changing its answer changes nothing kept");
        await s.keys.addOneTimeKeys(alice, D2, [otk("C")]);
        await check("another device's upload");
        await s.devices.delete(alice, [D2], T0);
        await withDevice(s, alice, D2);
        await check("device removed and its id used again");
      });
    });

    describe("keys leave with their device", () => {
      async function fill(s: Storage, userId: UserId, deviceId: DeviceId): Promise<void> {
        await s.keys.putDeviceKeys(userId, deviceId, deviceKeys(userId, deviceId));
        await s.keys.addOneTimeKeys(userId, deviceId, [otk("A")]);
        await s.keys.setFallbackKeys(userId, deviceId, [{ algorithm: "signed_curve25519", keyId: "F", key: signed("fb", true) }]);
      }
      async function assertEmpty(s: Storage, userId: UserId, deviceId: DeviceId): Promise<void> {
        assert.deepEqual(await s.keys.deviceKeys(userId, [deviceId]), []);
        assert.deepEqual(await s.keys.oneTimeKeyCounts(userId, deviceId), {});
        assert.deepEqual(await s.keys.unusedFallbackKeyTypes(userId, deviceId), []);
        assert.equal(await s.keys.claim(userId, deviceId, "signed_curve25519"), null);
      }

      test("DeviceStore.delete removes them; the id used again starts empty", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, alice, D2);
        await fill(s, alice, D1);
        await fill(s, alice, D2);
        await s.devices.delete(alice, [D1], T0);
        await withDevice(s, alice, D1);
        await assertEmpty(s, alice, D1);
        assert.deepEqual((await s.keys.deviceKeys(alice)).map((k) => k.deviceId), [D2], "other devices keep theirs");
        assert.deepEqual(await s.keys.oneTimeKeyCounts(alice, D2), { signed_curve25519: 1 });
      });

      test("a password change that logs out other devices removes theirs", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, alice, D2);
        await fill(s, alice, D1);
        await fill(s, alice, D2);
        await s.accounts.setPassword(alice, "h2", { keepDevice: D1 }, T0);
        await withDevice(s, alice, D2);
        await assertEmpty(s, alice, D2);
        assert.deepEqual((await s.keys.deviceKeys(alice)).map((k) => k.deviceId), [D1]);
      });

      test("deactivation removes every device's keys", async (s) => {
        await withDevice(s, alice, D1);
        await withDevice(s, bob, D1);
        await fill(s, alice, D1);
        await fill(s, bob, D1);
        await s.accounts.deactivate(alice, T0);
        await assertEmpty(s, alice, D1);
        assert.deepEqual((await s.keys.deviceKeys(bob)).map((k) => k.deviceId), [D1], "other users keep theirs");
      });
    });
  });
}
