/**
 * The storage contract for per-user and ephemeral data: AccountDataStore (with the DM room
 * set kept from m.direct), ReceiptStore, PresenceStore and ToDeviceStore, checked through the
 * Storage interface only. A backend's test file calls it once:
 *
 *   userDataContract(() => openSqliteStorage({ path: ":memory:" }));
 *
 * `open` must return a new, empty storage on every call; each test closes its own.
 * What every row of the log and every retired change must say is part of the contract: sync
 * reads the log, and the notifier wakes exactly the users a change names.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/storage.js";
import type { NewSession, StreamLogRow } from "../../src/storage/rows.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";
import { ORIGIN, asStreamPos, type StreamChange, type StreamPos } from "../../src/streams/position.js";

const T0 = 1_700_000_000_000;
const alice = "@alice:test" as UserId;
const bob = "@bob:test" as UserId;
const carol = "@carol:test" as UserId;
const D1 = "DEV1" as DeviceId;
const D2 = "DEV2" as DeviceId;
const D3 = "DEV3" as DeviceId;
const ROOM = "!room:test";
const OTHER_ROOM = "!other:test";
const BIG = 1_000_000;

function session(userId: UserId, deviceId: DeviceId): NewSession {
  return { userId, deviceId, deviceDisplayName: null, accessTokenHash: `tok-${userId}-${deviceId}`, refresh: null, ip: null };
}

/** Creates the user with these devices (each device is a login session). */
async function userWithDevices(s: Storage, userId: UserId, devices: readonly DeviceId[]): Promise<void> {
  await s.accounts.createUser({ userId, passwordHash: null, isAdmin: false, displayname: null }, null, T0);
  for (const d of devices) await s.tokens.createSession(session(userId, d), T0);
}

async function logAfter(s: Storage, pos: StreamPos): Promise<StreamLogRow[]> {
  return s.streams.read(pos, await s.streams.highestPosition(), BIG);
}

/** Records every change the sequencer retires from now on. */
function listen(s: Storage): StreamChange[] {
  const heard: StreamChange[] = [];
  s.sequencer.onRetired((c) => heard.push(c));
  return heard;
}

export function userDataContract(open: () => Promise<Storage> | Storage): void {
  const test = (title: string, fn: (s: Storage) => Promise<void>) =>
    it(title, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  describe("user data contract", () => {
    describe("account data", () => {
      test("global and room entries are separate; get answers null for unknown entries", async (s) => {
        await s.accountData.put(alice, null, "org.example.a", { v: 1 });
        await s.accountData.put(alice, ROOM, "org.example.a", { v: 2 });
        assert.deepEqual((await s.accountData.get(alice, null, "org.example.a"))?.content, { v: 1 });
        assert.deepEqual((await s.accountData.get(alice, ROOM, "org.example.a"))?.content, { v: 2 });
        assert.equal((await s.accountData.get(alice, ROOM, "org.example.a"))?.roomId, ROOM);
        assert.equal((await s.accountData.get(alice, null, "org.example.a"))?.roomId, null);
        assert.equal(await s.accountData.get(alice, OTHER_ROOM, "org.example.a"), null);
        assert.equal(await s.accountData.get(bob, null, "org.example.a"), null);
        assert.equal(await s.accountData.get(alice, null, "org.example.b"), null);
      });

      test("a put replaces the content and moves the entry to a new position", async (s) => {
        const p1 = await s.accountData.put(alice, null, "t", { a: 1, nested: { x: [1, "two", null] } });
        const p2 = await s.accountData.put(alice, null, "t", { b: 2 });
        assert.ok(p2 > p1);
        const row = await s.accountData.get(alice, null, "t");
        assert.deepEqual(row, { userId: alice, roomId: null, type: "t", content: { b: 2 }, pos: p2 });
      });

      test("each put logs one account_data row naming the user (and the room for room data)", async (s) => {
        const before = await s.streams.highestPosition();
        const g = await s.accountData.put(alice, null, "t", {});
        const r = await s.accountData.put(alice, ROOM, "t", {});
        const rows = await logAfter(s, before);
        assert.deepEqual(
          rows.map((x) => ({ pos: x.pos, kind: x.kind, userId: x.userId, roomId: x.roomId })),
          [
            { pos: g, kind: "account_data", userId: alice, roomId: null },
            { pos: r, kind: "account_data", userId: alice, roomId: ROOM },
          ],
        );
      });

      test("room account data wakes only its owner, not the room's members", async (s) => {
        const heard = listen(s);
        await s.accountData.put(alice, ROOM, "t", {});
        await s.accountData.put(alice, null, "t", {});
        assert.equal(heard.length, 2);
        for (const c of heard) {
          assert.equal(c.kind, "account_data");
          assert.equal(c.roomId, undefined);
          assert.deepEqual(c.userIds, [alice]);
        }
      });

      test("changed: entries whose last change is in (after, upto], all of them for after = null", async (s) => {
        const p1 = await s.accountData.put(alice, null, "a", { n: 1 });
        const p2 = await s.accountData.put(alice, ROOM, "b", { n: 2 });
        const p3 = await s.accountData.put(alice, null, "c", { n: 3 });
        await s.accountData.put(bob, null, "a", { n: 4 });
        const types = (rows: { type: string }[]) => rows.map((r) => r.type);
        assert.deepEqual(types(await s.accountData.changed(alice, null, p3)), ["a", "b", "c"]);
        assert.deepEqual(types(await s.accountData.changed(alice, p1, p3)), ["b", "c"]);
        assert.deepEqual(types(await s.accountData.changed(alice, p1, p2)), ["b"]);
        assert.deepEqual(types(await s.accountData.changed(alice, p3, asStreamPos(p3 + 100))), []);
        const p5 = await s.accountData.put(alice, null, "a", { n: 5 });
        const again = await s.accountData.changed(alice, p3, p5);
        assert.deepEqual(again.map((r) => [r.type, r.content]), [["a", { n: 5 }]], "an entry appears once, at its last change");
      });

      test("m.direct keeps the DM room set: every listed room, replaced on each write", async (s) => {
        assert.deepEqual(await s.accountData.dmRooms(alice), []);
        await s.accountData.put(alice, null, "m.direct", { [bob]: [ROOM, OTHER_ROOM], [carol]: [ROOM] });
        assert.deepEqual(await s.accountData.dmRooms(alice), [OTHER_ROOM, ROOM].sort());
        assert.equal(await s.accountData.isDm(alice, ROOM), true);
        assert.equal(await s.accountData.isDm(alice, OTHER_ROOM), true);
        assert.equal(await s.accountData.isDm(bob, ROOM), false, "only the owner's flag is set");

        await s.accountData.put(alice, null, "m.direct", { [bob]: [OTHER_ROOM] });
        assert.deepEqual(await s.accountData.dmRooms(alice), [OTHER_ROOM]);
        assert.equal(await s.accountData.isDm(alice, ROOM), false, "a room dropped from m.direct loses its flag");

        await s.accountData.put(alice, null, "m.direct", {});
        assert.deepEqual(await s.accountData.dmRooms(alice), []);
      });

      test("m.direct: entries that are not lists of room ids are skipped; other types never touch the set", async (s) => {
        await s.accountData.put(alice, null, "m.direct", { [bob]: "!notalist:test", [carol]: [42, null, "#alias:test", ROOM, ROOM], x: { y: [OTHER_ROOM] } });
        assert.deepEqual(await s.accountData.dmRooms(alice), [ROOM]);
        await s.accountData.put(alice, ROOM, "m.direct", { [bob]: [OTHER_ROOM] });
        await s.accountData.put(alice, null, "m.direct.other", { [bob]: [OTHER_ROOM] });
        assert.deepEqual(await s.accountData.dmRooms(alice), [ROOM], "room account data and other types do not count");
      });
    });

    describe("receipts", () => {
      const receipt = (over: Partial<{ userId: UserId; receiptType: string; threadId: string; eventId: string; eventPos: number; roomId: string; ts: number }> = {}) => ({
        roomId: over.roomId ?? ROOM,
        userId: over.userId ?? alice,
        receiptType: over.receiptType ?? "m.read",
        threadId: over.threadId ?? "",
        eventId: over.eventId ?? "$e10",
        eventPos: asStreamPos(over.eventPos ?? 10),
        ts: over.ts ?? T0,
      });

      test("a receipt is stored at a new position and logged as a receipt change of the room", async (s) => {
        const before = await s.streams.highestPosition();
        const pos = await s.receipts.put(receipt());
        assert.ok(pos !== null && pos > before);
        const rows = await logAfter(s, before);
        assert.deepEqual(rows.map((r) => [r.pos, r.kind, r.userId, r.roomId]), [[pos, "receipt", alice, ROOM]]);
        assert.deepEqual(await s.receipts.ofUser(alice, ROOM), [{ ...receipt(), pos }]);
      });

      test("receipts only move forward: same or older events are ignored, without a position", async (s) => {
        const first = await s.receipts.put(receipt({ eventId: "$e10", eventPos: 10 }));
        const top = await s.streams.highestPosition();
        assert.equal(await s.receipts.put(receipt({ eventId: "$e5", eventPos: 5 })), null);
        assert.equal(await s.receipts.put(receipt({ eventId: "$e10", eventPos: 10, ts: T0 + 1 })), null);
        assert.equal(await s.streams.highestPosition(), top, "no log row for an ignored receipt");
        const later = await s.receipts.put(receipt({ eventId: "$e20", eventPos: 20 }));
        assert.ok(later !== null && first !== null && later > first);
        const mine = await s.receipts.ofUser(alice, ROOM);
        assert.deepEqual(mine.map((r) => r.eventId), ["$e20"]);
      });

      test("each kind and thread has its own receipt", async (s) => {
        await s.receipts.put(receipt({ eventPos: 10, eventId: "$a" }));
        await s.receipts.put(receipt({ eventPos: 5, eventId: "$b", receiptType: "m.read.private" }));
        await s.receipts.put(receipt({ eventPos: 4, eventId: "$c", threadId: "main" }));
        await s.receipts.put(receipt({ eventPos: 3, eventId: "$d", threadId: "$root" }));
        await s.receipts.put(receipt({ eventPos: 2, eventId: "$e", roomId: OTHER_ROOM }));
        const mine = await s.receipts.ofUser(alice, ROOM);
        assert.deepEqual(mine.map((r) => [r.receiptType, r.threadId, r.eventId]), [
          ["m.read", "", "$a"],
          ["m.read.private", "", "$b"],
          ["m.read", "main", "$c"],
          ["m.read", "$root", "$d"],
        ]);
        assert.deepEqual(await s.receipts.ofUser(bob, ROOM), []);
      });

      test("changedInRoom: receipts of the room changed in (after, upto], all current ones for null", async (s) => {
        const p1 = (await s.receipts.put(receipt({ userId: alice, eventPos: 1, eventId: "$1" })))!;
        const p2 = (await s.receipts.put(receipt({ userId: bob, eventPos: 2, eventId: "$2" })))!;
        await s.receipts.put(receipt({ userId: bob, roomId: OTHER_ROOM, eventPos: 2, eventId: "$x" }));
        const p3 = (await s.receipts.put(receipt({ userId: alice, eventPos: 3, eventId: "$3" })))!;
        const ids = (rows: { eventId: string }[]) => rows.map((r) => r.eventId);
        assert.deepEqual(ids(await s.receipts.changedInRoom(ROOM, null, p3)), ["$2", "$3"], "alice's receipt moved on");
        assert.deepEqual(ids(await s.receipts.changedInRoom(ROOM, p1, p2)), ["$2"]);
        assert.deepEqual(ids(await s.receipts.changedInRoom(ROOM, p2, p3)), ["$3"]);
        assert.deepEqual(ids(await s.receipts.changedInRoom(ROOM, p3, asStreamPos(p3 + 10))), []);
      });

      test("a public receipt wakes the room; a private one only its owner", async (s) => {
        const heard = listen(s);
        await s.receipts.put(receipt({ receiptType: "m.read" }));
        await s.receipts.put(receipt({ receiptType: "m.read.private" }));
        assert.deepEqual(
          heard.map((c) => ({ kind: c.kind, roomId: c.roomId, userIds: c.userIds })),
          [
            { kind: "receipt", roomId: ROOM, userIds: [alice] },
            { kind: "receipt", roomId: undefined, userIds: [alice] },
          ],
        );
        const rows = await logAfter(s, ORIGIN);
        assert.deepEqual(rows.map((r) => r.roomId), [ROOM, ROOM], "the log names the room either way");
      });
    });

    describe("presence", () => {
      const row = (userId: UserId, over: Partial<{ state: "online" | "unavailable" | "offline"; statusMsg: string | null; lastActiveTs: number; currentlyActive: boolean }> = {}) => ({
        userId,
        state: over.state ?? "online",
        statusMsg: over.statusMsg ?? null,
        lastActiveTs: over.lastActiveTs ?? T0,
        currentlyActive: over.currentlyActive ?? true,
      });

      test("put replaces the user's row at a new position, logged as presence", async (s) => {
        assert.equal(await s.presence.get(alice), null);
        const p1 = await s.presence.put(row(alice, { statusMsg: "hi" }));
        const p2 = await s.presence.put(row(alice, { state: "unavailable", statusMsg: null, currentlyActive: false, lastActiveTs: T0 + 5 }));
        assert.ok(p2 > p1);
        assert.deepEqual(await s.presence.get(alice), { ...row(alice, { state: "unavailable", statusMsg: null, currentlyActive: false, lastActiveTs: T0 + 5 }), pos: p2 });
        const log = await logAfter(s, ORIGIN);
        assert.deepEqual(log.map((r) => [r.pos, r.kind, r.userId]), [
          [p1, "presence", alice],
          [p2, "presence", alice],
        ]);
      });

      test("changed: rows of the given users changed in (after, upto], in position order", async (s) => {
        const p1 = await s.presence.put(row(alice));
        const p2 = await s.presence.put(row(bob));
        const p3 = await s.presence.put(row(carol));
        const users = (rows: { userId: string }[]) => rows.map((r) => r.userId);
        assert.deepEqual(users(await s.presence.changed([alice, bob, carol], null, p3)), [alice, bob, carol]);
        assert.deepEqual(users(await s.presence.changed([carol, alice], null, p3)), [alice, carol]);
        assert.deepEqual(users(await s.presence.changed([alice, bob, carol], p1, p2)), [bob]);
        assert.deepEqual(users(await s.presence.changed([], null, p3)), []);
      });

      test("changed works for more users than one query can bind", async (s) => {
        const many = Array.from({ length: 1200 }, (_, i) => `@u${i}:test` as UserId);
        const p = await s.presence.put(row(many[1100]!));
        await s.presence.put(row(many[3]!));
        const got = await s.presence.changed(many, null, await s.streams.highestPosition());
        assert.deepEqual(got.map((r) => r.userId), [many[1100], many[3]]);
        assert.equal(got[0]!.pos, p);
      });

      test("onlineInactiveSince: online users last active before the cut-off, oldest first, up to the limit", async (s) => {
        await s.presence.put(row(alice, { lastActiveTs: T0 + 30 }));
        await s.presence.put(row(bob, { lastActiveTs: T0 + 10 }));
        await s.presence.put(row(carol, { lastActiveTs: T0 + 10, state: "unavailable" }));
        await s.presence.put(row("@dave:test" as UserId, { lastActiveTs: T0 + 90 }));
        await s.presence.put(row("@erin:test" as UserId, { lastActiveTs: T0, state: "offline" }));
        const users = (rows: { userId: string }[]) => rows.map((r) => r.userId);
        assert.deepEqual(users(await s.presence.onlineInactiveSince(T0 + 50, 10)), [bob, alice]);
        assert.deepEqual(users(await s.presence.onlineInactiveSince(T0 + 50, 1)), [bob]);
        assert.deepEqual(users(await s.presence.onlineInactiveSince(T0 + 30, 10)), [bob], "strictly before the cut-off");
        assert.deepEqual(users(await s.presence.onlineInactiveSince(T0, 10)), []);
      });
    });

    describe("to-device", () => {
      const msg = (userId: UserId, deviceId: DeviceId | "*", n: number) => ({ userId, deviceId, type: "m.test", content: { n } });
      const sender = { userId: alice, deviceId: D1 };

      test("queues messages for existing devices at one position naming the recipients", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2]);
        await userWithDevices(s, carol, [D3]);
        const heard = listen(s);
        const res = await s.toDevice.send(sender, "txn1", [msg(bob, D1, 1), msg(bob, D2, 2), msg(carol, D3, 3)]);
        assert.equal(res.duplicate, false);
        assert.equal(res.delivered, 3);
        assert.ok(res.pos !== null);
        assert.deepEqual(heard.map((c) => [c.pos, c.kind, [...(c.userIds ?? [])].sort()]), [[res.pos, "to_device", [bob, carol]]]);
        const log = await logAfter(s, asStreamPos(res.pos - 1));
        assert.deepEqual(log.map((r) => [r.kind, r.userId]), [["to_device", alice]]);
        const forBob = await s.toDevice.pending(bob, D2, res.pos, 100);
        assert.deepEqual(forBob, [{ pos: res.pos, userId: bob, deviceId: D2, sender: alice, type: "m.test", content: { n: 2 } }]);
      });

      test('"*" reaches every current device; an explicit device id wins over "*"', async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2, D3]);
        const res = await s.toDevice.send(sender, "txn", [msg(bob, "*", 0), msg(bob, D2, 2)]);
        assert.equal(res.delivered, 3);
        const top = await s.streams.highestPosition();
        for (const [d, n] of [[D1, 0], [D2, 2], [D3, 0]] as const) {
          const rows = await s.toDevice.pending(bob, d, top, 10);
          assert.deepEqual(rows.map((r) => r.content), [{ n }], `device ${d}`);
        }
      });

      test("unknown users and devices receive nothing; with nothing to queue no position is taken", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1]);
        const top = await s.streams.highestPosition();
        const res = await s.toDevice.send(sender, "txn", [msg(bob, D2, 1), msg(carol, "*", 2), msg(carol, D1, 3)]);
        assert.deepEqual(res, { duplicate: false, pos: null, delivered: 0 });
        assert.equal(await s.streams.highestPosition(), top);
        assert.deepEqual(await s.toDevice.pending(bob, D2, asStreamPos(top + 10), 10), []);
        const again = await s.toDevice.send(sender, "txn", [msg(bob, D1, 1)]);
        assert.equal(again.duplicate, true, "the txn id is remembered even when nothing was queued");
      });

      test("idempotent per (sender, sender device, txn id)", async (s) => {
        await userWithDevices(s, alice, [D1, D2]);
        await userWithDevices(s, bob, [D1]);
        const first = await s.toDevice.send(sender, "same", [msg(bob, D1, 1)]);
        const top = await s.streams.highestPosition();
        const repeat = await s.toDevice.send(sender, "same", [msg(bob, D1, 2)]);
        assert.deepEqual(repeat, { duplicate: true, pos: null, delivered: 0 });
        assert.equal(await s.streams.highestPosition(), top);
        const otherDevice = await s.toDevice.send({ userId: alice, deviceId: D2 }, "same", [msg(bob, D1, 3)]);
        assert.equal(otherDevice.duplicate, false, "another device of the sender has its own txn ids");
        const otherSender = await s.toDevice.send({ userId: bob, deviceId: D1 }, "same", [msg(alice, D1, 4)]);
        assert.equal(otherSender.duplicate, false);
        const rows = await s.toDevice.pending(bob, D1, await s.streams.highestPosition(), 10);
        assert.deepEqual(rows.map((r) => [r.pos, r.content]), [
          [first.pos, { n: 1 }],
          [otherDevice.pos, { n: 3 }],
        ]);
      });

      test("pending: oldest first, bounded by upto and by limit; acknowledge deletes up to a position", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2]);
        const positions: StreamPos[] = [];
        for (let i = 0; i < 5; i++) positions.push((await s.toDevice.send(sender, `t${i}`, [msg(bob, D1, i), msg(bob, D2, 100 + i)])).pos!);
        const content = (rows: { content: Record<string, unknown> }[]) => rows.map((r) => r.content.n);
        const top = positions[4]!;
        assert.deepEqual(content(await s.toDevice.pending(bob, D1, top, 100)), [0, 1, 2, 3, 4]);
        assert.deepEqual(content(await s.toDevice.pending(bob, D1, positions[2]!, 100)), [0, 1, 2]);
        assert.deepEqual(content(await s.toDevice.pending(bob, D1, top, 2)), [0, 1]);
        assert.equal(await s.toDevice.acknowledge(bob, D1, positions[1]!), 2);
        assert.deepEqual(content(await s.toDevice.pending(bob, D1, top, 100)), [2, 3, 4]);
        assert.deepEqual(content(await s.toDevice.pending(bob, D2, top, 100)), [100, 101, 102, 103, 104], "other devices keep theirs");
        assert.equal(await s.toDevice.acknowledge(bob, D1, positions[1]!), 0, "acknowledging again is a no-op");
        assert.equal(await s.toDevice.acknowledge(bob, D1, top), 3);
        assert.deepEqual(await s.toDevice.pending(bob, D1, top, 100), []);
      });

      test("acknowledge deletes exactly what a model inbox says, through any mix of sends, acknowledgements and device removals", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2]);
        // The model: each device's queued message numbers with their positions.
        const model = new Map<DeviceId, { pos: number; n: number }[]>([[D1, []], [D2, []]]);
        let seed = 7;
        const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        for (let step = 0; step < 120; step++) {
          const device = random() < 0.5 ? D1 : D2;
          const roll = random();
          if (roll < 0.4) {
            const toAll = random() < 0.3;
            const sent = await s.toDevice.send(sender, `p${step}`, [msg(bob, toAll ? "*" : device, step)]);
            for (const d of toAll ? [D1, D2] : [device]) model.get(d)!.push({ pos: sent.pos!, n: step });
          } else if (roll < 0.9) {
            const queued = model.get(device)!;
            // Acknowledge at a queued position, just below one, or at the top.
            const upto = queued.length > 0 && random() < 0.7 ? queued[Math.floor(random() * queued.length)]!.pos - (random() < 0.5 ? 1 : 0) : await s.streams.highestPosition();
            const expected = queued.filter((m) => m.pos <= upto).length;
            assert.equal(await s.toDevice.acknowledge(bob, device, asStreamPos(upto)), expected, `step ${step}: acknowledge ${device} up to ${upto}`);
            model.set(device, queued.filter((m) => m.pos > upto));
          } else {
            await s.devices.delete(bob, [device], T0);
            await s.tokens.createSession(session(bob, device), T0);
            model.set(device, []);
          }
          const top = await s.streams.highestPosition();
          for (const [d, queued] of model) {
            assert.deepEqual((await s.toDevice.pending(bob, d, top, 1000)).map((r) => r.content.n), queued.map((m) => m.n), `step ${step}: ${d}'s inbox`);
          }
        }
      });

      test("deleting a device drops its queued messages (a device id reused later starts empty)", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2]);
        await s.toDevice.send(sender, "t", [msg(bob, "*", 1)]);
        await s.devices.delete(bob, [D2], T0);
        const top = await s.streams.highestPosition();
        assert.deepEqual(await s.toDevice.pending(bob, D2, top, 10), []);
        assert.equal((await s.toDevice.pending(bob, D1, top, 10)).length, 1);
        await s.tokens.createSession(session(bob, D2), T0);
        assert.deepEqual(await s.toDevice.pending(bob, D2, await s.streams.highestPosition(), 10), []);
      });

      test("a password change that logs out other devices, and deactivation, drop their queues", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2, D3]);
        await s.toDevice.send(sender, "t", [msg(bob, "*", 1)]);
        await s.accounts.setPassword(bob, "new-hash", { keepDevice: D1 }, T0);
        const top = await s.streams.highestPosition();
        assert.equal((await s.toDevice.pending(bob, D1, top, 10)).length, 1, "the kept device keeps its messages");
        assert.deepEqual(await s.toDevice.pending(bob, D2, top, 10), []);
        assert.deepEqual(await s.toDevice.pending(bob, D3, top, 10), []);
        await s.accounts.deactivate(bob, T0);
        assert.deepEqual(await s.toDevice.pending(bob, D1, await s.streams.highestPosition(), 10), []);
      });

      test("a device deleted before the send receives nothing", async (s) => {
        await userWithDevices(s, alice, [D1]);
        await userWithDevices(s, bob, [D1, D2]);
        await s.devices.delete(bob, [D1], T0);
        const res = await s.toDevice.send(sender, "t", [msg(bob, "*", 1), msg(bob, D1, 2)]);
        assert.equal(res.delivered, 1);
        const top = await s.streams.highestPosition();
        assert.deepEqual(await s.toDevice.pending(bob, D1, top, 10), []);
        assert.deepEqual((await s.toDevice.pending(bob, D2, top, 10)).map((r) => r.content), [{ n: 1 }]);
      });
    });
  });
}
