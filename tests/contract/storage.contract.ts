/**
 * The Storage contract: what every backend must do, checked through the Storage interface
 * only. A backend's test file calls runStorageContract once:
 *
 *   runStorageContract("sqlite", {
 *     open: () => openSqliteStorage({ path: ":memory:" }),          // a fresh, empty storage
 *     persistent: () => {                                           // optional: durable data
 *       const dir = mkdtempSync(...);
 *       return { open: () => openSqliteStorage({ path: `${dir}/s.db` }), dispose: () => rmSync(dir, ...) };
 *     },
 *   });
 *
 * `open` is called once per test and must return a new, empty storage each time; the test
 * closes it. `persistent`, when given, returns a location whose `open` may be called again
 * after the previous storage was closed and then sees the same data (used for the re-open
 * test, skipped without it); `dispose` removes the location. A bare function is accepted as
 * shorthand for `{ open }`.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/storage.js";
import type { NewSession, NewUser, StreamLogRow } from "../../src/storage/rows.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";
import { ORIGIN, asStreamPos, type StreamChange, type StreamPos } from "../../src/streams/position.js";
import { runRoomsContract } from "./rooms.contract.js";
import { userDataContract } from "./user-data.contract.js";
import { keysContract } from "./keys.contract.js";
import { pushContract } from "./push.contract.js";

type Opened = Promise<Storage> | Storage;

export interface PersistentLocation {
  /** Opens the storage at this location (creating it on the first call). */
  open(): Opened;
  /** Removes the location; called once, after the last storage opened on it was closed. */
  dispose(): void | Promise<void>;
}

export interface StorageOpener {
  /** A new, empty storage; called once per test. */
  open(): Opened;
  /** Optional: a fresh durable location that can be opened again after close. */
  persistent?(): PersistentLocation;
}

const T0 = 1_700_000_000_000;
const alice = "@alice:test" as UserId;
const bob = "@bob:test" as UserId;
const carol = "@carol:test" as UserId;
const D1 = "DEV1" as DeviceId;
const D2 = "DEV2" as DeviceId;
const D3 = "DEV3" as DeviceId;
const BIG = 1_000_000;

function user(userId: UserId, over: Partial<NewUser> = {}): NewUser {
  return { userId, passwordHash: `hash-of-${userId}`, isAdmin: false, displayname: null, ...over };
}

function session(
  userId: UserId,
  deviceId: DeviceId,
  accessTokenHash: string,
  over: { refresh?: NewSession["refresh"]; deviceDisplayName?: string | null; ip?: string | null } = {},
): NewSession {
  return {
    userId,
    deviceId,
    deviceDisplayName: over.deviceDisplayName ?? null,
    accessTokenHash,
    refresh: over.refresh ?? null,
    ip: over.ip ?? null,
  };
}

/** Every row of the log. */
async function wholeLog(s: Storage): Promise<StreamLogRow[]> {
  return s.streams.read(ORIGIN, await s.streams.highestPosition(), BIG);
}

/** Rows written after `pos`. */
async function logSince(s: Storage, pos: StreamPos): Promise<StreamLogRow[]> {
  return s.streams.read(pos, await s.streams.highestPosition(), BIG);
}

const summary = (rows: readonly StreamLogRow[]) => rows.map((r) => ({ kind: r.kind, userId: r.userId }));

const sortedIds = (rows: readonly { deviceId: DeviceId }[]) => rows.map((r) => r.deviceId as string).sort();

export function runStorageContract(name: string, opener: StorageOpener | (() => Opened)): void {
  const o: StorageOpener = typeof opener === "function" ? { open: opener } : opener;

  /** A test that gets a fresh storage and always closes it. */
  const test = (title: string, fn: (s: Storage) => Promise<void>) =>
    it(title, async () => {
      const s = await o.open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  describe(`storage contract: ${name}`, () => {
    describe("meta", () => {
      test("epoch is a non-empty string, stable across calls", async (s) => {
        const e1 = await s.meta.epoch();
        assert.equal(typeof e1, "string");
        assert.ok(e1.length > 0);
        assert.equal(await s.meta.epoch(), e1);
        await s.accounts.createUser(user(alice), session(alice, D1, "a0"), T0);
        assert.equal(await s.meta.epoch(), e1, "writes do not change the epoch");
      });

      test("two fresh databases have different epochs", async (s) => {
        const other = await o.open();
        try {
          assert.notEqual(await other.meta.epoch(), await s.meta.epoch());
        } finally {
          await other.close();
        }
      });

      test("schemaVersion is an integer >= 1", async (s) => {
        const v = await s.meta.schemaVersion();
        assert.ok(Number.isInteger(v), `schemaVersion ${v} is not an integer`);
        assert.ok(v >= 1, `schemaVersion ${v} < 1`);
        assert.equal(await s.meta.schemaVersion(), v);
      });
    });

    describe("accounts", () => {
      test("createUser: created, then exists; userExists follows", async (s) => {
        assert.equal(await s.accounts.userExists(alice), false);
        assert.equal(await s.accounts.createUser(user(alice), null, T0), "created");
        assert.equal(await s.accounts.userExists(alice), true);
        assert.equal(await s.accounts.userExists(bob), false);
        assert.equal(await s.accounts.createUser(user(alice, { passwordHash: "other", isAdmin: true, displayname: "Imposter" }), null, T0 + 5), "exists");
        const row = await s.accounts.getUser(alice);
        assert.equal(row?.passwordHash, `hash-of-${alice}`, "a refused createUser does not overwrite the user");
        assert.equal(row?.isAdmin, false);
        assert.equal(row?.displayname, null);
        assert.equal(row?.createdTs, T0);
      });

      test("createUser on a taken id with a session creates no device, token or change", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        const before = await s.streams.highestPosition();
        assert.equal(await s.accounts.createUser(user(alice), session(alice, D1, "a0"), T0), "exists");
        assert.deepEqual(await s.devices.list(alice), []);
        assert.equal(await s.tokens.lookupAccess("a0"), null);
        assert.equal(await s.streams.highestPosition(), before);
        assert.equal(s.sequencer.retired(), before);
      });

      test("createUser with a first session creates the device and token and records a device_list change", async (s) => {
        const before = await s.streams.highestPosition();
        assert.equal(await s.accounts.createUser(user(alice), session(alice, D1, "a0", { deviceDisplayName: "Phone" }), T0), "created");
        const dev = await s.devices.get(alice, D1);
        assert.equal(dev?.displayName, "Phone");
        assert.equal(dev?.createdTs, T0);
        const tok = await s.tokens.lookupAccess("a0");
        assert.equal(tok?.userId, alice);
        assert.equal(tok?.deviceId, D1);
        const rows = await logSince(s, before);
        assert.ok(
          rows.some((r) => r.kind === "device_list" && r.userId === alice),
          `expected a device_list change for ${alice}, got ${JSON.stringify(summary(rows))}`,
        );
      });

      test("getUser returns every field; null for an unknown user", async (s) => {
        await s.accounts.createUser(user(alice, { passwordHash: "h1", isAdmin: true, displayname: "Alice" }), null, T0 + 7);
        await s.accounts.createUser(user(bob, { passwordHash: null }), null, T0 + 8);
        assert.deepEqual(await s.accounts.getUser(alice), {
          userId: alice,
          passwordHash: "h1",
          isAdmin: true,
          deactivated: false,
          createdTs: T0 + 7,
          displayname: "Alice",
          avatarUrl: null,
        });
        const b = await s.accounts.getUser(bob);
        assert.equal(b?.passwordHash, null);
        assert.equal(b?.isAdmin, false);
        assert.equal(b?.createdTs, T0 + 8);
        assert.equal(await s.accounts.getUser(carol), null);
      });

      test("user ids are never reused, even after deactivation", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        await s.accounts.deactivate(alice, T0 + 1);
        assert.equal(await s.accounts.userExists(alice), true);
        assert.equal(await s.accounts.createUser(user(alice), session(alice, D1, "a0"), T0 + 2), "exists");
        assert.equal((await s.accounts.getUser(alice))?.deactivated, true);
        assert.equal(await s.tokens.lookupAccess("a0"), null);
      });

      test("accessGeneration moves whenever a known token's lookupAccess answer changes", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.tokens.createSession(session(alice, D2, "a2"), T0);
        await s.tokens.createSession(session(alice, D3, "a3", { refresh: { refreshTokenHash: "r3", accessExpiresTs: T0 + 1000 } }), T0);
        await s.accounts.createUser(user(bob), session(bob, D1, "b1"), T0);
        await s.tokens.createSession(session(bob, D2, "b2"), T0);
        const tokens = ["a1", "a2", "a3", "a3b", "b1", "b2"];
        const answers = async () => JSON.stringify(await Promise.all(tokens.map((t) => s.tokens.lookupAccess(t))));
        const steps: [string, () => Promise<unknown>][] = [
          ["setAdmin", () => s.accounts.setAdmin(alice, true)],
          ["device delete", () => s.devices.delete(alice, [D2], T0 + 1)],
          ["refresh, then the new token's first use", async () => {
            await s.tokens.refresh("r3", { accessTokenHash: "a3b", refreshTokenHash: "r3b", accessExpiresTs: T0 + 2000 }, T0 + 1);
            await s.tokens.consumePredecessor("a3b");
          }],
          ["setPassword with logout", () => s.accounts.setPassword(bob, "h", { keepDevice: D2 }, T0 + 1)],
          ["deactivate", () => s.accounts.deactivate(alice, T0 + 2)],
        ];
        for (const [name, step] of steps) {
          const [before, generation] = [await answers(), s.tokens.accessGeneration()];
          await step();
          assert.notEqual(await answers(), before, `${name} changes an answer`);
          assert.notEqual(s.tokens.accessGeneration(), generation, `${name} moves the generation`);
        }
      });

      test("setPassword without logout changes the hash and keeps every device and token", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.tokens.createSession(session(alice, D2, "a2", { refresh: { refreshTokenHash: "r2", accessExpiresTs: T0 + 1000 } }), T0);
        const before = await s.streams.highestPosition();
        await s.accounts.setPassword(alice, "new-hash", null, T0 + 1);
        assert.equal((await s.accounts.getUser(alice))?.passwordHash, "new-hash");
        assert.deepEqual(sortedIds(await s.devices.list(alice)), [D1, D2]);
        assert.notEqual(await s.tokens.lookupAccess("a1"), null);
        assert.notEqual(await s.tokens.lookupAccess("a2"), null);
        assert.deepEqual(await logSince(s, before), [], "no device changed, so nothing is recorded");
      });

      test("setPassword with logout keeps only the named device; the others and their tokens are gone", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.tokens.createSession(session(alice, D2, "a2", { refresh: { refreshTokenHash: "r2", accessExpiresTs: T0 + 1000 } }), T0);
        await s.tokens.createSession(session(alice, D3, "a3", { refresh: { refreshTokenHash: "r3", accessExpiresTs: T0 + 1000 } }), T0);
        await s.accounts.createUser(user(bob), session(bob, D2, "b2"), T0);
        const before = await s.streams.highestPosition();

        await s.accounts.setPassword(alice, "new-hash", { keepDevice: D3 }, T0 + 1);

        assert.equal((await s.accounts.getUser(alice))?.passwordHash, "new-hash");
        assert.deepEqual(sortedIds(await s.devices.list(alice)), [D3]);
        assert.equal(await s.tokens.lookupAccess("a1"), null);
        assert.equal(await s.tokens.lookupAccess("a2"), null);
        assert.equal(await s.tokens.refresh("r2", { accessTokenHash: "x", refreshTokenHash: "y", accessExpiresTs: T0 + 2000 }, T0 + 2), null);
        assert.equal((await s.tokens.lookupAccess("a3"))?.deviceId, D3, "the kept device's token still works");
        assert.notEqual(
          await s.tokens.refresh("r3", { accessTokenHash: "a3b", refreshTokenHash: "r3b", accessExpiresTs: T0 + 2000 }, T0 + 2),
          null,
          "the kept device's refresh token still works",
        );
        assert.equal((await s.tokens.lookupAccess("b2"))?.userId, bob, "other users are untouched");
        assert.notEqual(await s.devices.get(bob, D2), null);
        assert.deepEqual(summary(await logSince(s, before)), [{ kind: "device_list", userId: alice }]);

        const after = await s.streams.highestPosition();
        await s.accounts.setPassword(alice, "newer-hash", { keepDevice: D3 }, T0 + 3);
        assert.equal((await s.accounts.getUser(alice))?.passwordHash, "newer-hash");
        assert.deepEqual(await logSince(s, after), [], "no other device left to remove: nothing recorded");
      });

      test("setPassword with logout and keepDevice null removes every device", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.tokens.createSession(session(alice, D2, "a2"), T0);
        const before = await s.streams.highestPosition();
        await s.accounts.setPassword(alice, "new-hash", { keepDevice: null }, T0 + 1);
        assert.deepEqual(await s.devices.list(alice), []);
        assert.equal(await s.tokens.lookupAccess("a1"), null);
        assert.equal(await s.tokens.lookupAccess("a2"), null);
        assert.deepEqual(summary(await logSince(s, before)), [{ kind: "device_list", userId: alice }]);
      });

      test("setAdmin sets and clears the flag; false for an unknown user", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        assert.equal(await s.accounts.setAdmin(alice, true), true);
        assert.equal((await s.accounts.getUser(alice))?.isAdmin, true);
        assert.equal((await s.tokens.lookupAccess("a1"))?.isAdmin, true);
        assert.equal(await s.accounts.setAdmin(alice, false), true);
        assert.equal((await s.accounts.getUser(alice))?.isAdmin, false);
        assert.equal((await s.tokens.lookupAccess("a1"))?.isAdmin, false);
        assert.equal(await s.accounts.setAdmin(bob, true), false);
        assert.equal(await s.accounts.userExists(bob), false, "setAdmin does not create users");
      });

      test("deactivate removes devices, tokens and password; the user row stays", async (s) => {
        await s.accounts.createUser(user(alice, { displayname: "Alice" }), session(alice, D1, "a1"), T0);
        await s.tokens.createSession(session(alice, D2, "a2", { refresh: { refreshTokenHash: "r2", accessExpiresTs: T0 + 1000 } }), T0);
        await s.accounts.createUser(user(bob), session(bob, D1, "b1"), T0);
        const before = await s.streams.highestPosition();

        await s.accounts.deactivate(alice, T0 + 1);

        const row = await s.accounts.getUser(alice);
        assert.notEqual(row, null, "the user row stays");
        assert.equal(row?.deactivated, true);
        assert.equal(row?.passwordHash, null);
        assert.equal(row?.createdTs, T0);
        assert.deepEqual(await s.devices.list(alice), []);
        assert.equal(await s.tokens.lookupAccess("a1"), null);
        assert.equal(await s.tokens.lookupAccess("a2"), null);
        assert.equal(await s.tokens.refresh("r2", { accessTokenHash: "x", refreshTokenHash: "y", accessExpiresTs: T0 + 2000 }, T0 + 2), null);
        assert.equal((await s.tokens.lookupAccess("b1"))?.userId, bob, "other users are untouched");
        assert.deepEqual(summary(await logSince(s, before)), [{ kind: "device_list", userId: alice }]);
      });

      test("setProfileField sets and clears both fields and records a profile change each time", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        const before = await s.streams.highestPosition();
        assert.equal(await s.accounts.setProfileField(alice, "displayname", "Alice", T0 + 1), true);
        assert.equal(await s.accounts.setProfileField(alice, "avatar_url", "mxc://test/abc", T0 + 2), true);
        let row = await s.accounts.getUser(alice);
        assert.equal(row?.displayname, "Alice");
        assert.equal(row?.avatarUrl, "mxc://test/abc");
        assert.equal(await s.accounts.setProfileField(alice, "displayname", null, T0 + 3), true);
        row = await s.accounts.getUser(alice);
        assert.equal(row?.displayname, null);
        assert.equal(row?.avatarUrl, "mxc://test/abc", "the other field is untouched");
        assert.deepEqual(summary(await logSince(s, before)), [
          { kind: "profile", userId: alice },
          { kind: "profile", userId: alice },
          { kind: "profile", userId: alice },
        ]);
      });

      test("setProfileField on an unknown user returns false and records nothing", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        const before = await s.streams.highestPosition();
        assert.equal(await s.accounts.setProfileField(bob, "displayname", "Bob", T0 + 1), false);
        assert.equal(await s.accounts.userExists(bob), false);
        assert.equal(await s.streams.highestPosition(), before);
        assert.equal(s.sequencer.retired(), before);
      });
    });

    describe("devices", () => {
      test("list returns only the user's devices; empty for an unknown user", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.tokens.createSession(session(alice, D2, "a2"), T0);
        await s.accounts.createUser(user(bob), session(bob, D3, "b3"), T0);
        const list = await s.devices.list(alice);
        assert.deepEqual(sortedIds(list), [D1, D2]);
        assert.ok(list.every((d) => d.userId === alice));
        assert.deepEqual(sortedIds(await s.devices.list(bob)), [D3]);
        assert.deepEqual(await s.devices.list(carol), []);
      });

      test("get returns the device's fields; null for unknown or another user's device", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { deviceDisplayName: "Laptop", ip: "10.0.0.1" }), T0 + 3);
        await s.accounts.createUser(user(bob), null, T0);
        const d = await s.devices.get(alice, D1);
        assert.equal(d?.userId, alice);
        assert.equal(d?.deviceId, D1);
        assert.equal(d?.displayName, "Laptop");
        assert.equal(d?.createdTs, T0 + 3);
        assert.equal(await s.devices.get(alice, D2), null);
        assert.equal(await s.devices.get(bob, D1), null);
      });

      test("setDisplayName sets and clears; false for an unknown device", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { deviceDisplayName: "Old" }), T0);
        await s.accounts.createUser(user(bob), session(bob, D1, "b1", { deviceDisplayName: "Bob's" }), T0);
        assert.equal(await s.devices.setDisplayName(alice, D1, "New"), true);
        assert.equal((await s.devices.get(alice, D1))?.displayName, "New");
        assert.equal((await s.devices.get(bob, D1))?.displayName, "Bob's", "same device id of another user is untouched");
        assert.equal(await s.devices.setDisplayName(alice, D1, null), true);
        assert.equal((await s.devices.get(alice, D1))?.displayName, null);
        assert.equal(await s.devices.setDisplayName(alice, D2, "Ghost"), false);
        assert.equal(await s.devices.get(alice, D2), null, "setDisplayName does not create devices");
        assert.equal(await s.devices.setDisplayName(carol, D1, "Ghost"), false);
      });

      test("delete removes the devices and their tokens and records exactly one device_list change", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { refresh: { refreshTokenHash: "r1", accessExpiresTs: T0 + 1000 } }), T0);
        await s.tokens.createSession(session(alice, D2, "a2"), T0);
        await s.tokens.createSession(session(alice, D3, "a3"), T0);
        await s.accounts.createUser(user(bob), session(bob, D1, "b1"), T0);
        const before = await s.streams.highestPosition();

        assert.equal(await s.devices.delete(alice, [D1, D2, "NOPE" as DeviceId], T0 + 1), 2);

        assert.deepEqual(sortedIds(await s.devices.list(alice)), [D3]);
        assert.equal(await s.tokens.lookupAccess("a1"), null);
        assert.equal(await s.tokens.lookupAccess("a2"), null);
        assert.equal(await s.tokens.refresh("r1", { accessTokenHash: "x", refreshTokenHash: "y", accessExpiresTs: T0 + 2000 }, T0 + 2), null);
        assert.notEqual(await s.tokens.lookupAccess("a3"), null);
        assert.notEqual(await s.devices.get(bob, D1), null, "another user's device with the same id stays");
        assert.notEqual(await s.tokens.lookupAccess("b1"), null);
        assert.deepEqual(summary(await logSince(s, before)), [{ kind: "device_list", userId: alice }]);
      });

      test("delete of nothing (empty list, unknown ids) returns 0 and records nothing", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        const before = await s.streams.highestPosition();
        assert.equal(await s.devices.delete(alice, [], T0 + 1), 0);
        assert.equal(await s.devices.delete(alice, [D2, D3], T0 + 1), 0);
        assert.equal(await s.devices.delete(bob, [D1], T0 + 1), 0);
        assert.notEqual(await s.devices.get(alice, D1), null);
        assert.equal(await s.streams.highestPosition(), before);
        assert.equal(s.sequencer.retired(), before);
      });

      test("touch records last-seen time and address and nothing else", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { deviceDisplayName: "Phone" }), T0);
        const before = await s.streams.highestPosition();
        await s.devices.touch(alice, D1, T0 + 50, "192.0.2.7");
        let d = await s.devices.get(alice, D1);
        assert.equal(d?.lastSeenTs, T0 + 50);
        assert.equal(d?.lastSeenIp, "192.0.2.7");
        assert.equal(d?.displayName, "Phone");
        assert.equal(d?.createdTs, T0);
        await s.devices.touch(alice, D1, T0 + 60, null);
        d = await s.devices.get(alice, D1);
        assert.equal(d?.lastSeenTs, T0 + 60);
        assert.equal(d?.lastSeenIp, null);
        await s.devices.touch(alice, D2, T0 + 70, "192.0.2.8");
        assert.equal(await s.devices.get(alice, D2), null, "touch does not create devices");
        assert.equal(await s.streams.highestPosition(), before);
      });
    });

    describe("tokens", () => {
      test("createSession on a new device creates it and records a device_list change", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        const before = await s.streams.highestPosition();
        await s.tokens.createSession(session(alice, D1, "a1", { deviceDisplayName: "Tablet", ip: "192.0.2.1" }), T0 + 4);
        const d = await s.devices.get(alice, D1);
        assert.equal(d?.displayName, "Tablet");
        assert.equal(d?.createdTs, T0 + 4);
        assert.deepEqual(summary(await logSince(s, before)), [{ kind: "device_list", userId: alice }]);
      });

      test("createSession on an existing device adds a token without a second device or a change", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { deviceDisplayName: "Tablet" }), T0);
        const before = await s.streams.highestPosition();
        await s.tokens.createSession(session(alice, D1, "a1b", { deviceDisplayName: "Renamed?" }), T0 + 1);
        const list = await s.devices.list(alice);
        assert.equal(list.length, 1);
        assert.equal(list[0]?.deviceId, D1);
        assert.equal(list[0]?.createdTs, T0, "the device is not re-created");
        assert.equal((await s.tokens.lookupAccess("a1"))?.deviceId, D1);
        assert.equal((await s.tokens.lookupAccess("a1b"))?.deviceId, D1);
        assert.deepEqual(await logSince(s, before), []);
        assert.equal(s.sequencer.retired(), before);
      });

      test("lookupAccess resolves a token without refresh: no expiry, no predecessor, flags", async (s) => {
        await s.accounts.createUser(user(alice, { isAdmin: true }), session(alice, D1, "a1"), T0);
        assert.deepEqual(await s.tokens.lookupAccess("a1"), {
          userId: alice,
          deviceId: D1,
          expiresTs: null,
          predecessorRefreshId: null,
          isAdmin: true,
          deactivated: false,
        });
        assert.equal(await s.tokens.lookupAccess("unknown"), null);
        assert.equal(await s.tokens.lookupAccess(""), null);
      });

      test("lookupAccess of a token issued with a refresh token carries its expiry", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { refresh: { refreshTokenHash: "r1", accessExpiresTs: T0 + 300_000 } }), T0);
        const t = await s.tokens.lookupAccess("a1");
        assert.equal(t?.expiresTs, T0 + 300_000);
        assert.equal(t?.predecessorRefreshId, null, "a login token replaces nothing");
        assert.equal(await s.tokens.lookupAccess("r1"), null, "a refresh token is not an access token");
      });

      test("lookupAccess reports the user's deactivated flag", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        await s.accounts.deactivate(alice, T0 + 1);
        // A session written after deactivation (e.g. by a racing login) must show the flag.
        await s.tokens.createSession(session(alice, D1, "late"), T0 + 2);
        assert.equal((await s.tokens.lookupAccess("late"))?.deactivated, true);
      });

      test("consumePredecessor on a token without a predecessor, or an unknown token, changes nothing", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1", { refresh: { refreshTokenHash: "r1", accessExpiresTs: T0 + 1000 } }), T0);
        await s.tokens.consumePredecessor("a1");
        await s.tokens.consumePredecessor("unknown");
        assert.notEqual(await s.tokens.lookupAccess("a1"), null);
        assert.notEqual(await s.tokens.refresh("r1", { accessTokenHash: "a2", refreshTokenHash: "r2", accessExpiresTs: T0 + 2000 }, T0 + 1), null);
      });

      test("a createSession that fails part-way (access token hash in use) leaves nothing behind", async (s) => {
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.accounts.createUser(user(bob), null, T0);
        const before = await s.streams.highestPosition();
        await assert.rejects(s.tokens.createSession(session(bob, D2, "a1"), T0 + 1));
        assert.equal(await s.devices.get(bob, D2), null, "the device insert was rolled back");
        assert.equal((await s.tokens.lookupAccess("a1"))?.userId, alice, "the existing token is untouched");
        assert.equal(await s.streams.highestPosition(), before);
        assert.equal(s.sequencer.retired(), before);
        assert.equal(s.sequencer.allocatedUpTo(), before);
        // The log stays gap-free: the next change takes the very next position.
        await s.tokens.createSession(session(bob, D2, "b2"), T0 + 2);
        assert.deepEqual((await logSince(s, before)).map((r) => r.pos), [before + 1]);
      });
    });

    describe("refresh-token rotation", () => {
      const next = (n: string) => ({ accessTokenHash: `a${n}`, refreshTokenHash: `r${n}`, accessExpiresTs: T0 + 10_000 });

      /** alice on D1 with access a0 + refresh r0; bob on D1 with ba/br, to check isolation. */
      async function login(s: Storage): Promise<void> {
        await s.accounts.createUser(user(alice), session(alice, D1, "a0", { refresh: { refreshTokenHash: "r0", accessExpiresTs: T0 + 1000 } }), T0);
        await s.accounts.createUser(user(bob), session(bob, D1, "ba", { refresh: { refreshTokenHash: "br", accessExpiresTs: T0 + 1000 } }), T0);
      }

      test("refresh of an unknown token returns null and issues nothing", async (s) => {
        await login(s);
        const before = await s.streams.highestPosition();
        assert.equal(await s.tokens.refresh("nope", next("1"), T0 + 1), null);
        assert.equal(await s.tokens.lookupAccess("a1"), null);
        assert.equal(await s.tokens.refresh("r1", next("2"), T0 + 1), null);
        assert.equal(await s.streams.highestPosition(), before, "refresh records no change");
      });

      test("refresh issues a new pair on the same device; the old pair stays valid until the new one is used", async (s) => {
        await login(s);
        assert.deepEqual(await s.tokens.refresh("r0", next("1"), T0 + 1), { userId: alice, deviceId: D1 });
        const a1 = await s.tokens.lookupAccess("a1");
        assert.equal(a1?.userId, alice);
        assert.equal(a1?.deviceId, D1);
        assert.equal(a1?.expiresTs, T0 + 10_000);
        assert.notEqual(a1?.predecessorRefreshId, null, "a refreshed token names the refresh token it replaced");
        assert.notEqual(await s.tokens.lookupAccess("a0"), null, "old access token still valid");
        assert.deepEqual(sortedIds(await s.devices.list(alice)), [D1], "refresh creates no device");
        // A client that lost the answer may retry with the old refresh token.
        assert.deepEqual(await s.tokens.refresh("r0", next("1b"), T0 + 2), { userId: alice, deviceId: D1 });
        assert.notEqual(await s.tokens.lookupAccess("a1b"), null);
        assert.notEqual(await s.tokens.lookupAccess("a0"), null);
      });

      test("first use of the new access token (consumePredecessor) revokes the old refresh token and its access token", async (s) => {
        await login(s);
        await s.tokens.refresh("r0", next("1"), T0 + 1);
        await s.tokens.consumePredecessor("a1");
        assert.equal(await s.tokens.refresh("r0", next("x"), T0 + 2), null, "old refresh token revoked");
        assert.equal(await s.tokens.lookupAccess("ax"), null);
        assert.equal(await s.tokens.lookupAccess("a0"), null, "old access token revoked");
        const a1 = await s.tokens.lookupAccess("a1");
        assert.equal(a1?.userId, alice, "the new access token stays");
        assert.equal(a1?.predecessorRefreshId, null, "the link is forgotten after first use");
        await s.tokens.consumePredecessor("a1"); // idempotent
        assert.notEqual(await s.tokens.lookupAccess("a1"), null);
        assert.deepEqual(await s.tokens.refresh("r1", next("2"), T0 + 3), { userId: alice, deviceId: D1 }, "the new refresh token works");
        assert.notEqual(await s.tokens.lookupAccess("ba"), null, "another user's tokens are untouched");
        assert.notEqual(await s.tokens.refresh("br", next("b1"), T0 + 3), null);
      });

      test("using the new refresh token revokes the old refresh token and its access token", async (s) => {
        await login(s);
        await s.tokens.refresh("r0", next("1"), T0 + 1);
        assert.deepEqual(await s.tokens.refresh("r1", next("2"), T0 + 2), { userId: alice, deviceId: D1 });
        assert.equal(await s.tokens.refresh("r0", next("x"), T0 + 3), null, "r0 revoked once r1 was used");
        assert.equal(await s.tokens.lookupAccess("ax"), null);
        assert.equal(await s.tokens.lookupAccess("a0"), null, "a0 (issued with r0) revoked too");
        // r1 is now the "old" token of the a2/r2 pair: valid until that pair is used.
        assert.notEqual(await s.tokens.lookupAccess("a1"), null, "a1 lives until a2/r2 is used");
        await s.tokens.consumePredecessor("a2");
        assert.equal(await s.tokens.lookupAccess("a1"), null);
        assert.equal(await s.tokens.refresh("r1", next("y"), T0 + 4), null);
        assert.notEqual(await s.tokens.lookupAccess("a2"), null);
        assert.deepEqual(await s.tokens.refresh("r2", next("3"), T0 + 5), { userId: alice, deviceId: D1 });
      });
    });

    describe("uia sessions", () => {
      test("create then get round-trips the row; unknown id is null", async (s) => {
        const data = { stages: ["m.login.password"], user: alice, nested: { n: 1, ok: true, none: null } };
        await s.uia.create({ sessionId: "S1", data, expiresTs: T0 + 100 });
        assert.deepEqual(await s.uia.get("S1", T0), { sessionId: "S1", data, expiresTs: T0 + 100 });
        assert.equal(await s.uia.get("S2", T0), null);
      });

      test("get returns null once the session has expired", async (s) => {
        await s.uia.create({ sessionId: "S1", data: {}, expiresTs: T0 + 100 });
        assert.notEqual(await s.uia.get("S1", T0 + 99), null);
        assert.equal(await s.uia.get("S1", T0 + 100), null, "expired at expiresTs");
        assert.equal(await s.uia.get("S1", T0 + 101), null);
      });

      test("update replaces the data; updating an unknown session creates nothing", async (s) => {
        await s.uia.create({ sessionId: "S1", data: { completed: [] }, expiresTs: T0 + 100 });
        await s.uia.update("S1", { completed: ["m.login.password"], bound: alice });
        assert.deepEqual(await s.uia.get("S1", T0), { sessionId: "S1", data: { completed: ["m.login.password"], bound: alice }, expiresTs: T0 + 100 });
        await s.uia.update("S2", { x: 1 });
        assert.equal(await s.uia.get("S2", T0), null);
      });

      test("delete removes only that session", async (s) => {
        await s.uia.create({ sessionId: "S1", data: { a: 1 }, expiresTs: T0 + 100 });
        await s.uia.create({ sessionId: "S2", data: { b: 2 }, expiresTs: T0 + 100 });
        await s.uia.delete("S1");
        assert.equal(await s.uia.get("S1", T0), null);
        assert.deepEqual((await s.uia.get("S2", T0))?.data, { b: 2 });
        await s.uia.delete("unknown");
      });

      test("purgeExpired deletes exactly the expired sessions and counts them", async (s) => {
        await s.uia.create({ sessionId: "A", data: {}, expiresTs: T0 + 100 });
        await s.uia.create({ sessionId: "B", data: {}, expiresTs: T0 + 200 });
        await s.uia.create({ sessionId: "C", data: {}, expiresTs: T0 + 300 });
        assert.equal(await s.uia.purgeExpired(T0 + 50), 0);
        assert.equal(await s.uia.purgeExpired(T0 + 200), 2);
        assert.equal(await s.uia.get("A", T0), null, "purged rows are gone even for an earlier clock");
        assert.equal(await s.uia.get("B", T0), null);
        assert.notEqual(await s.uia.get("C", T0), null);
        assert.equal(await s.uia.purgeExpired(T0 + 200), 0);
      });
    });

    describe("filters", () => {
      test("create returns a distinct id per filter and get returns the stored filter", async (s) => {
        const f1 = { room: { timeline: { limit: 10 } } };
        const f2 = { presence: { not_types: ["*"] } };
        const id1 = await s.filters.create(alice, f1);
        const id2 = await s.filters.create(alice, f2);
        assert.equal(typeof id1, "string");
        assert.notEqual(id1, id2);
        assert.deepEqual(await s.filters.get(alice, id1), f1);
        assert.deepEqual(await s.filters.get(alice, id2), f2);
      });

      test("another user's filter id is not visible", async (s) => {
        const fa = { a: 1 };
        const id = await s.filters.create(alice, fa);
        assert.equal(await s.filters.get(bob, id), null);
        const fb = { b: 2 };
        const bid = await s.filters.create(bob, fb);
        assert.deepEqual(await s.filters.get(bob, bid), fb);
        assert.deepEqual(await s.filters.get(alice, id), fa, "bob's filter does not replace alice's");
      });

      test("non-numeric and unknown ids are null", async (s) => {
        await s.filters.create(alice, { a: 1 });
        for (const bad of ["abc", "", "1e3", "-1", "0x0", " 0", "0 ", "1.0", "../0", "999999999999999999999999"]) {
          assert.equal(await s.filters.get(alice, bad), null, `filter id ${JSON.stringify(bad)}`);
        }
        assert.equal(await s.filters.get(alice, "424242"), null);
      });
    });

    describe("streams", () => {
      test("stampAt names the stamp of the row at a position, 0 at the origin, null past the end", async (s) => {
        assert.equal(await s.streams.stampAt(ORIGIN), 0);
        await s.accounts.createUser(user(alice), session(alice, D1, "st1"), T0);
        const [row] = await wholeLog(s);
        assert.ok(row && row.stamp > 0);
        assert.equal(await s.streams.stampAt(row.pos), row.stamp);
        assert.equal(await s.streams.stampAt(asStreamPos(row.pos + 1)), null);
      });

      test("an empty database is at position 0 with an empty log", async (s) => {
        assert.equal(await s.streams.highestPosition(), ORIGIN);
        assert.deepEqual(await s.streams.read(ORIGIN, asStreamPos(100), 100), []);
        assert.equal(s.sequencer.retired(), ORIGIN);
      });

      test("read returns rows with after < pos <= upto, in order, at most limit", async (s) => {
        await s.accounts.createUser(user(alice), null, T0);
        for (let i = 0; i < 6; i++) await s.accounts.setProfileField(alice, "displayname", `n${i}`, T0 + i);
        const high = await s.streams.highestPosition();
        assert.equal(high, 6);
        const all = await s.streams.read(ORIGIN, high, 100);
        assert.deepEqual(all.map((r) => r.pos), [1, 2, 3, 4, 5, 6]);
        for (const r of all) {
          assert.equal(r.kind, "profile");
          assert.equal(r.userId, alice);
          assert.equal(r.roomId, null);
          assert.ok(Number.isSafeInteger(r.stamp), `stamp ${r.stamp}`);
          assert.ok(Number.isFinite(r.ts), `ts ${r.ts}`);
        }
        const p = (n: number) => asStreamPos(n);
        assert.deepEqual((await s.streams.read(p(2), p(4), 100)).map((r) => r.pos), [3, 4]);
        assert.deepEqual((await s.streams.read(p(1), p(6), 2)).map((r) => r.pos), [2, 3]);
        assert.deepEqual((await s.streams.read(p(5), p(100), 100)).map((r) => r.pos), [6]);
        assert.deepEqual(await s.streams.read(p(6), p(100), 100), []);
        assert.deepEqual(await s.streams.read(p(4), p(4), 100), []);
        assert.deepEqual(await s.streams.read(p(4), p(2), 100), []);
        assert.deepEqual(await s.streams.read(ORIGIN, p(6), 0), []);
        assert.deepEqual(
          (await s.streams.read(p(2), p(3), 100))[0],
          all[2],
          "a row reads the same whatever the range",
        );
      });
    });

    describe("sequencer integration", () => {
      test("positions are gap-free and retired() equals highestPosition() after every write", async (s) => {
        const writes: [string, () => Promise<unknown>][] = [
          ["createUser alice + session", () => s.accounts.createUser(user(alice), session(alice, D1, "a1", { refresh: { refreshTokenHash: "r1", accessExpiresTs: T0 + 10 } }), T0)],
          ["createUser bob", () => s.accounts.createUser(user(bob), null, T0)],
          ["createUser alice again", () => s.accounts.createUser(user(alice), null, T0)],
          ["createSession bob D1", () => s.tokens.createSession(session(bob, D1, "b1"), T0)],
          ["createSession bob D1 again", () => s.tokens.createSession(session(bob, D1, "b1b"), T0)],
          ["createSession alice D2", () => s.tokens.createSession(session(alice, D2, "a2"), T0)],
          ["setProfileField alice", () => s.accounts.setProfileField(alice, "displayname", "A", T0)],
          ["setProfileField carol (unknown)", () => s.accounts.setProfileField(carol, "displayname", "C", T0)],
          ["setAdmin", () => s.accounts.setAdmin(bob, true)],
          ["setPassword no logout", () => s.accounts.setPassword(bob, "h", null, T0)],
          ["touch", () => s.devices.touch(alice, D1, T0 + 1, "192.0.2.1")],
          ["setDisplayName", () => s.devices.setDisplayName(alice, D1, "x")],
          ["refresh", () => s.tokens.refresh("r1", { accessTokenHash: "a1n", refreshTokenHash: "r1n", accessExpiresTs: T0 + 20 }, T0)],
          ["consumePredecessor", () => s.tokens.consumePredecessor("a1n")],
          ["lookupAccess", () => s.tokens.lookupAccess("a1n")],
          ["uia create", () => s.uia.create({ sessionId: "S", data: {}, expiresTs: T0 + 5 })],
          ["uia purge", () => s.uia.purgeExpired(T0 + 10)],
          ["filter create", () => s.filters.create(alice, { x: 1 })],
          ["delete nothing", () => s.devices.delete(alice, ["NOPE" as DeviceId], T0)],
          ["delete alice D2", () => s.devices.delete(alice, [D2], T0)],
          ["setPassword logout keep D1", () => s.accounts.setPassword(alice, "h2", { keepDevice: D1 }, T0)],
          ["setPassword logout nothing else to remove", () => s.accounts.setPassword(alice, "h3", { keepDevice: D1 }, T0)],
          ["setProfileField bob avatar", () => s.accounts.setProfileField(bob, "avatar_url", "mxc://x/y", T0)],
          ["deactivate bob", () => s.accounts.deactivate(bob, T0)],
          ["deactivate bob again", () => s.accounts.deactivate(bob, T0)],
          ["failed createSession", () => s.tokens.createSession(session(alice, D3, "a1n"), T0).catch(() => undefined)],
          ["createSession alice D3", () => s.tokens.createSession(session(alice, D3, "a3"), T0)],
        ];
        for (const [label, write] of writes) {
          await write();
          const high = await s.streams.highestPosition();
          assert.equal(s.sequencer.retired(), high, `after "${label}": retired() ${s.sequencer.retired()} != highestPosition() ${high}`);
          assert.equal(s.sequencer.allocatedUpTo(), high, `after "${label}": nothing is left allocated`);
        }
        const positions = (await wholeLog(s)).map((r) => r.pos as number);
        assert.ok(positions.length >= 8, `expected at least 8 changes, got ${positions.length}`);
        assert.deepEqual(positions, positions.map((_, i) => i + 1), "log positions are exactly 1..n");
      });

      test("onRetired listeners hear every change once, in order, never above retired()", async (s) => {
        const heard: StreamChange[] = [];
        const unsubscribe = s.sequencer.onRetired((c) => {
          assert.ok(c.pos <= s.sequencer.retired(), `heard ${c.pos} above retired() ${s.sequencer.retired()}`);
          heard.push(c);
        });
        await s.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
        await s.accounts.createUser(user(bob), null, T0);
        await s.accounts.setProfileField(bob, "displayname", "Bob", T0);
        await s.tokens.createSession(session(bob, D2, "b2"), T0);
        await s.tokens.createSession(session(bob, D2, "b2b"), T0);
        await s.devices.delete(alice, [D1], T0);
        await s.accounts.setProfileField(alice, "avatar_url", "mxc://a/b", T0);
        await s.accounts.deactivate(bob, T0);

        const log = await wholeLog(s);
        assert.deepEqual(
          heard.map((c) => c.pos),
          log.map((r) => r.pos),
          "the listener hears exactly the logged positions, in order",
        );
        assert.deepEqual(
          heard.map((c) => c.kind),
          log.map((r) => r.kind),
        );
        const expected = [
          { kind: "device_list", userIds: [alice] },
          { kind: "profile", userIds: [bob] },
          { kind: "device_list", userIds: [bob] },
          { kind: "device_list", userIds: [alice] },
          { kind: "profile", userIds: [alice] },
          { kind: "device_list", userIds: [bob] },
        ];
        assert.deepEqual(
          heard.map((c) => ({ kind: c.kind, userIds: c.userIds ? [...c.userIds] : undefined })),
          expected,
        );
        assert.ok(heard.every((c) => c.roomId === undefined));

        unsubscribe();
        await s.accounts.setProfileField(alice, "displayname", "A", T0);
        assert.equal(heard.length, expected.length, "no calls after unsubscribe");
        assert.equal(s.sequencer.retired(), expected.length + 1);
      });
    });

    // Rooms, events and aliases: tests/contract/rooms.contract.ts.
    runRoomsContract(test, o);
    // Account data, receipts, presence, to-device; device keys; push rules and counts.
    userDataContract(async () => o.open());
    keysContract(async () => o.open());
    pushContract(async () => o.open());

    describe("re-open", () => {
      it("a re-opened storage keeps its data and epoch and starts the sequencer at the highest durable position", { skip: o.persistent ? false : "opener has no persistent()" }, async () => {
        const loc = o.persistent!();
        try {
          const s1 = await loc.open();
          let epoch: string;
          let high: StreamPos;
          let filterId: string;
          try {
            assert.equal(s1.sequencer.retired(), ORIGIN);
            await s1.accounts.createUser(user(alice), session(alice, D1, "a1"), T0);
            await s1.accounts.setProfileField(alice, "displayname", "Alice", T0);
            await s1.tokens.createSession(session(alice, D2, "a2"), T0);
            filterId = await s1.filters.create(alice, { f: 1 });
            high = await s1.streams.highestPosition();
            assert.ok(high >= 3, `expected at least 3 positions, got ${high}`);
            epoch = await s1.meta.epoch();
          } finally {
            await s1.close();
          }

          const s2 = await loc.open();
          try {
            assert.equal(s2.sequencer.retired(), high);
            assert.equal(s2.sequencer.allocatedUpTo(), high);
            assert.equal(await s2.streams.highestPosition(), high);
            assert.equal(await s2.meta.epoch(), epoch, "the epoch survives a re-open");
            assert.equal((await s2.accounts.getUser(alice))?.displayname, "Alice");
            assert.equal((await s2.tokens.lookupAccess("a2"))?.deviceId, D2);
            assert.deepEqual(await s2.filters.get(alice, filterId), { f: 1 });
            const id2 = await s2.filters.create(alice, { f: 2 });
            assert.notEqual(id2, filterId, "filter ids are not reused after a re-open");
            assert.deepEqual(await s2.filters.get(alice, id2), { f: 2 });
            const heard: number[] = [];
            s2.sequencer.onRetired((c) => heard.push(c.pos));
            await s2.accounts.setProfileField(alice, "displayname", "Alice 2", T0);
            assert.deepEqual(heard, [high + 1], "the next change takes the next position");
            assert.equal(s2.sequencer.retired(), high + 1);
            assert.deepEqual((await wholeLog(s2)).map((r) => r.pos as number), Array.from({ length: high + 1 }, (_, i) => i + 1));
          } finally {
            await s2.close();
          }
        } finally {
          await loc.dispose();
        }
      });
    });
  });
}
