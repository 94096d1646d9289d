/**
 * Presence with a ManualClock on an in-memory SQLite storage: what PUT stores, the wire form
 * (last_active_ago, currently_active, idle shown before the sweep), the idle sweep, and how
 * rarely bumpActivity writes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ACTIVE_WINDOW_MS, Presence } from "../../../src/ephemeral/presence.js";
import { openSqliteStorage } from "../../../src/storage/sqlite/index.js";
import { ManualClock } from "../../../src/util/clock.js";
import { MatrixError } from "../../../src/errors/matrix-error.js";
import type { Storage } from "../../../src/storage/storage.js";
import type { Requester } from "../../../src/accounts/requester.js";
import type { DeviceId, UserId } from "../../../src/events/ids.js";

const ALICE = "@alice:test" as UserId;
const BOB = "@bob:test" as UserId;
const IDLE = 300_000;

function requester(userId: UserId): Requester {
  return { userId, deviceId: "D" as DeviceId, isAdmin: false, accessTokenHash: "h" };
}

async function withPresence(fn: (p: Presence, clock: ManualClock, s: Storage) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const s = openSqliteStorage({ path: ":memory:", now: () => clock.now() });
  const p = new Presence(s, clock, { idleAfterMs: IDLE });
  try {
    await fn(p, clock, s);
  } finally {
    p.close();
    await s.close();
  }
}

const presenceRows = async (s: Storage) => (await s.streams.read(0 as never, await s.streams.highestPosition(), 1000)).filter((r) => r.kind === "presence").length;

describe("Presence", () => {
  it("a user who never set presence reads as offline", async () => {
    await withPresence(async (p) => {
      assert.deepEqual(await p.get(requester(ALICE), ALICE), { presence: "offline" });
    });
  });

  it("online stamps activity; the wire form ages it and drops currently_active after the window", async () => {
    await withPresence(async (p, clock) => {
      await p.set(requester(ALICE), ALICE, "online", "hello");
      assert.deepEqual(await p.get(requester(ALICE), ALICE), { presence: "online", last_active_ago: 0, status_msg: "hello", currently_active: true });
      clock.advance(ACTIVE_WINDOW_MS);
      assert.deepEqual(await p.get(requester(ALICE), ALICE), { presence: "online", last_active_ago: ACTIVE_WINDOW_MS, status_msg: "hello", currently_active: false });
    });
  });

  it("unavailable and offline keep the last activity stamp and clear an omitted status_msg", async () => {
    await withPresence(async (p, clock) => {
      await p.set(requester(ALICE), ALICE, "online", "busy");
      clock.advance(1_000);
      await p.set(requester(ALICE), ALICE, "unavailable", undefined);
      assert.deepEqual(await p.get(requester(ALICE), ALICE), { presence: "unavailable", last_active_ago: 1_000 });
      await p.set(requester(BOB), BOB, "offline", "gone");
      assert.deepEqual(await p.get(requester(BOB), BOB), { presence: "offline", status_msg: "gone" }, "no activity ever: no last_active_ago");
    });
  });

  it("only your own presence can be set", async () => {
    await withPresence(async (p) => {
      await assert.rejects(p.set(requester(ALICE), BOB, "online", undefined), (e: unknown) => e instanceof MatrixError && e.httpStatus === 403);
    });
  });

  it("idle users become unavailable: shown at once, written by the sweep at a presence position", async () => {
    await withPresence(async (p, clock, s) => {
      await p.set(requester(ALICE), ALICE, "online", "here");
      await p.set(requester(BOB), BOB, "online", undefined);
      clock.advance(IDLE - 1);
      await p.bumpActivity(BOB);
      assert.equal(await p.sweepIdle(), 0, "nobody idle yet");
      clock.advance(1);
      assert.equal((await p.get(requester(ALICE), ALICE)).presence, "unavailable", "shown idle before the sweep");
      assert.equal((await s.presence.get(ALICE))?.state, "online");
      const before = await presenceRows(s);
      assert.equal(await p.sweepIdle(), 1, "alice only: bob was active since");
      assert.equal(await presenceRows(s), before + 1);
      assert.deepEqual(await s.presence.get(ALICE), { ...(await s.presence.get(ALICE))!, state: "unavailable", statusMsg: "here", currentlyActive: false });
      assert.equal(await p.sweepIdle(), 0, "an unavailable user is not swept again");
      clock.advance(IDLE);
      assert.equal(await p.sweepIdle(), 1, "bob went idle later");
    });
  });

  it("bumpActivity: online again from any state, but writes at most once per half window while active", async () => {
    await withPresence(async (p, clock, s) => {
      await p.bumpActivity(ALICE);
      assert.equal(await presenceRows(s), 1);
      assert.equal((await p.get(requester(ALICE), ALICE)).currently_active, true);
      clock.advance(ACTIVE_WINDOW_MS / 2 - 1);
      await p.bumpActivity(ALICE);
      assert.equal(await presenceRows(s), 1, "nothing others would see changed");
      clock.advance(1);
      await p.bumpActivity(ALICE);
      assert.equal(await presenceRows(s), 2);
      await p.set(requester(ALICE), ALICE, "unavailable", "away");
      await p.bumpActivity(ALICE);
      assert.deepEqual(await p.get(requester(ALICE), ALICE), { presence: "online", last_active_ago: 0, status_msg: "away", currently_active: true });
    });
  });
});
