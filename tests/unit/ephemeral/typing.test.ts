/**
 * Typing: deadlines, the cap, expiry (by hand with a ManualClock, and by the real timer),
 * and exactly which changes take a stream position. Storage is a fake that records the
 * recordEphemeral calls and answers memberships.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Typing, TYPING_DEFAULTS } from "../../../src/ephemeral/typing.js";
import { ManualClock } from "../../../src/util/clock.js";
import { MatrixError } from "../../../src/errors/matrix-error.js";
import type { Storage } from "../../../src/storage/storage.js";
import type { Requester } from "../../../src/accounts/requester.js";
import type { DeviceId, UserId } from "../../../src/events/ids.js";
import { asStreamPos } from "../../../src/streams/position.js";

const ALICE = "@alice:test" as UserId;
const BOB = "@bob:test" as UserId;
const ROOM = "!room:test";
const OTHER = "!other:test";

function fakeStorage(joined: Record<string, string[]> = {}) {
  const recorded: { kind: string; roomId?: string }[] = [];
  const storage = {
    streams: {
      recordEphemeral: async (change: { kind: string; roomId?: string }) => {
        recorded.push(change);
        return asStreamPos(recorded.length);
      },
    },
    rooms: {
      membership: async (roomId: string, userId: string) => (joined[roomId]?.includes(userId) ? { roomId, userId, membership: "join" } : null),
    },
  } as unknown as Storage;
  return { storage, recorded };
}

function requester(userId: UserId): Requester {
  return { userId, deviceId: "D" as DeviceId, isAdmin: false, accessTokenHash: "h" };
}

async function rejects(p: Promise<unknown>, status: number, errcode: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof MatrixError && e.httpStatus === status && e.errcode === errcode);
}

describe("Typing", () => {
  it("a start takes a position; a repeat only extends the deadline", async () => {
    const clock = new ManualClock();
    const { storage, recorded } = fakeStorage();
    const typing = new Typing(storage, clock);
    try {
      await typing.start(ALICE, ROOM, 10_000);
      assert.deepEqual(recorded, [{ kind: "typing", roomId: ROOM }]);
      assert.deepEqual(typing.currentTyping(ROOM), [ALICE]);
      clock.advance(8_000);
      await typing.start(ALICE, ROOM, 10_000);
      assert.equal(recorded.length, 1, "still typing: no new position");
      clock.advance(8_000);
      assert.deepEqual(typing.currentTyping(ROOM), [ALICE], "the repeat moved the deadline to 18 s");
      await typing.expireDue();
      assert.equal(recorded.length, 1);
    } finally {
      typing.close();
    }
  });

  it("expiry: gone from currentTyping at the deadline, one position per room when swept", async () => {
    const clock = new ManualClock();
    const { storage, recorded } = fakeStorage();
    const typing = new Typing(storage, clock);
    try {
      await typing.start(ALICE, ROOM, 5_000);
      await typing.start(BOB, ROOM, 5_000);
      await typing.start(BOB, OTHER, 60_000);
      assert.equal(recorded.length, 3);
      assert.deepEqual(typing.currentTyping(ROOM), [ALICE, BOB]);
      clock.advance(5_000);
      assert.deepEqual(typing.currentTyping(ROOM), [], "nobody past the deadline, even before the sweep");
      assert.deepEqual(typing.typingUsers(OTHER), [BOB]);
      await typing.expireDue();
      assert.deepEqual(recorded.slice(3), [{ kind: "typing", roomId: ROOM }], "one position for the room, none for the other");
      await typing.expireDue();
      assert.equal(recorded.length, 4, "a second sweep finds nothing");
      clock.advance(55_000);
      await typing.expireDue();
      assert.deepEqual(recorded.slice(4), [{ kind: "typing", roomId: OTHER }]);
      assert.deepEqual(typing.currentTyping(OTHER), []);
    } finally {
      typing.close();
    }
  });

  it("stop takes a position only when there was an entry, including one past its deadline", async () => {
    const clock = new ManualClock();
    const { storage, recorded } = fakeStorage();
    const typing = new Typing(storage, clock);
    try {
      await typing.stop(ALICE, ROOM);
      assert.equal(recorded.length, 0, "stopping while not typing changes nothing");
      await typing.start(ALICE, ROOM, 5_000);
      await typing.stop(ALICE, ROOM);
      assert.equal(recorded.length, 2);
      assert.deepEqual(typing.currentTyping(ROOM), []);
      await typing.start(ALICE, ROOM, 5_000);
      clock.advance(6_000);
      await typing.stop(ALICE, ROOM);
      assert.equal(recorded.length, 4, "the expired entry's disappearance was never recorded: stop records it");
      await typing.expireDue();
      assert.equal(recorded.length, 4);
      await typing.start(ALICE, ROOM, 5_000);
      clock.advance(6_000);
      await typing.start(ALICE, ROOM, 5_000);
      assert.equal(recorded.length, 6, "starting again after the deadline is a new start");
    } finally {
      typing.close();
    }
  });

  it("timeouts are capped at maxTimeoutMs", async () => {
    const clock = new ManualClock();
    const { storage } = fakeStorage();
    const typing = new Typing(storage, clock, { defaultTimeoutMs: 30_000, maxTimeoutMs: 120_000 });
    try {
      await typing.start(ALICE, ROOM, 3_600_000);
      clock.advance(119_999);
      assert.deepEqual(typing.currentTyping(ROOM), [ALICE]);
      clock.advance(1);
      assert.deepEqual(typing.currentTyping(ROOM), []);
    } finally {
      typing.close();
    }
  });

  it("set: own state only, joined members only, default timeout 30 s", async () => {
    const clock = new ManualClock();
    const { storage, recorded } = fakeStorage({ [ROOM]: [ALICE] });
    const typing = new Typing(storage, clock, TYPING_DEFAULTS);
    try {
      await rejects(typing.set(requester(ALICE), ROOM, BOB, true), 403, "M_FORBIDDEN");
      await rejects(typing.set(requester(BOB), ROOM, BOB, true), 403, "M_FORBIDDEN");
      await rejects(typing.set(requester(ALICE), "not-a-room", ALICE, true), 400, "M_INVALID_PARAM");
      assert.equal(recorded.length, 0);
      await typing.set(requester(ALICE), ROOM, ALICE, true);
      clock.advance(29_999);
      assert.deepEqual(typing.currentTyping(ROOM), [ALICE]);
      clock.advance(1);
      assert.deepEqual(typing.currentTyping(ROOM), []);
      await typing.set(requester(ALICE), ROOM, ALICE, true, 1_000);
      await typing.set(requester(ALICE), ROOM, ALICE, false);
      assert.deepEqual(typing.currentTyping(ROOM), []);
    } finally {
      typing.close();
    }
  });

  it("the timer expires entries on its own; close() disarms it", async () => {
    const clock = new ManualClock();
    const { storage, recorded } = fakeStorage();
    const typing = new Typing(storage, clock);
    await typing.start(ALICE, ROOM, 0);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(recorded, [
      { kind: "typing", roomId: ROOM },
      { kind: "typing", roomId: ROOM },
    ]);
    typing.close();
    await typing.start(BOB, ROOM, 0);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(recorded.length, 3, "no expiry after close");
  });

  it("changedAfter: whether a room's typing changed after a position (sync's long gaps)", async () => {
    const clock = new ManualClock();
    const { storage } = fakeStorage({ [ROOM]: ["@a:test"] });
    const typing = new Typing(storage, clock);
    try {
      assert.equal(typing.changedAfter(ROOM, 0), false, "nothing yet");
      await typing.set(requester("@a:test" as UserId), ROOM, "@a:test", true);
      assert.equal(typing.changedAfter(ROOM, 0), true);
      assert.equal(typing.changedAfter(ROOM, 1), false, "the change is at position 1");
      assert.equal(typing.changedAfter(OTHER, 0), false);
    } finally {
      typing.close();
    }
  });
});
