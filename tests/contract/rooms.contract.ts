/**
 * The Storage contract for rooms: every method of `events`, `rooms` and `aliases`, checked
 * through the Storage interface only. Called by runStorageContract from inside its describe;
 * a backend's test file does not call this directly.
 *
 * Events are built by hand (plain PDUs with fake hashes and signatures): storage neither
 * checks nor derives anything from them beyond what NewEvent says.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { EventRange, Storage } from "../../src/storage/storage.js";
import type { EventRow, MembershipRow, NewEvent, RoomSummaryPatch, RoomSummaryRow, StreamLogRow } from "../../src/storage/rows.js";
import type { Pdu } from "../../src/events/pdu.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";
import { ORIGIN, asStreamPos, type StreamChange, type StreamPos } from "../../src/streams/position.js";
import type { StorageOpener } from "./storage.contract.js";

/** runStorageContract's per-test helper: a fresh storage, always closed. */
export type ContractTest = (title: string, fn: (s: Storage) => Promise<void>) => unknown;

const T0 = 1_700_000_000_000;
const alice = "@alice:test" as UserId;
const bob = "@bob:test" as UserId;
const carol = "@carol:test" as UserId;
const dave = "@dave:test" as UserId;
const D1 = "DEV1" as DeviceId;
const D2 = "DEV2" as DeviceId;
const BIG = 1_000_000;

const p = (n: number): StreamPos => asStreamPos(n);

/** Element i of an array that must have it (noUncheckedIndexedAccess). */
function at<T>(xs: readonly T[], i: number): T {
  assert.ok(i >= 0 && i < xs.length, `index ${i} out of range (length ${xs.length})`);
  return xs[i] as T;
}

async function wholeLog(s: Storage): Promise<StreamLogRow[]> {
  return s.streams.read(ORIGIN, await s.streams.highestPosition(), BIG);
}

const ids = (rows: readonly EventRow[]) => rows.map((r) => r.eventId);
const sortedIds = (rows: readonly EventRow[]) => ids(rows).sort();
const members = (rows: readonly MembershipRow[]) => rows.map((r) => `${r.userId}=${r.membership}`).sort();
const roomIds = (rows: readonly { roomId: string }[]) => rows.map((r) => r.roomId).sort();

interface EvOpts {
  id?: string;
  stateKey?: string;
  ts?: number;
  now?: number;
  newRoom?: NewEvent["newRoom"];
  txn?: NewEvent["txn"];
  redaction?: NewEvent["redaction"];
  relation?: NewEvent["relation"];
  summary?: RoomSummaryPatch;
  bumps?: boolean;
  redacts?: string;
}

interface Written {
  id: string;
  pos: StreamPos;
}

/**
 * Writes a room's events the way the event writer would (linear prev_events, increasing
 * depth) but with fake hashes and signatures. Event ids default to `$<tag><n>`.
 */
class RoomWriter {
  private depth = 0;
  private last: string | null = null;
  private n = 0;

  constructor(
    private readonly s: Storage,
    readonly roomId: string,
    private readonly tag: string,
  ) {}

  /** The NewEvent the next write would persist (nothing is written). */
  build(sender: UserId, type: string, content: Record<string, unknown>, o: EvOpts = {}): NewEvent {
    const eventId = o.id ?? `$${this.tag}${this.n + 1}`;
    const depth = this.depth + 1;
    const pdu: Pdu = {
      room_id: this.roomId,
      sender,
      origin_server_ts: o.ts ?? T0 + depth * 10,
      type,
      ...(o.stateKey !== undefined ? { state_key: o.stateKey } : {}),
      content,
      prev_events: this.last ? [this.last] : [],
      auth_events: [],
      depth,
      hashes: { sha256: `fake-hash-${eventId}` },
      signatures: { test: { "ed25519:a": `fake-sig-${eventId}` } },
      ...(o.redacts !== undefined ? { redacts: o.redacts } : {}),
    };
    return {
      eventId,
      roomId: this.roomId,
      pdu,
      newRoom: o.newRoom ?? null,
      txn: o.txn ?? null,
      redaction: o.redaction ?? null,
      relation: o.relation ?? null,
      summary: o.summary ?? {},
      bumps: o.bumps ?? false,
    };
  }

  /** Persists an event made by build() and advances the writer. */
  async commit(ev: NewEvent, nowTs = T0): Promise<Written> {
    const pos = await this.s.events.persist(ev, nowTs);
    this.n++;
    this.depth = ev.pdu.depth;
    this.last = ev.eventId;
    return { id: ev.eventId, pos };
  }

  put(sender: UserId, type: string, content: Record<string, unknown>, o: EvOpts = {}): Promise<Written> {
    return this.commit(this.build(sender, type, content, o), o.now);
  }

  create(creator: UserId, o: EvOpts = {}): Promise<Written> {
    return this.put(creator, "m.room.create", { room_version: "10", creator }, { stateKey: "", newRoom: { roomVersion: "10", creator }, bumps: true, ...o });
  }

  member(sender: UserId, target: UserId, membership: string, o: EvOpts = {}): Promise<Written> {
    return this.put(sender, "m.room.member", { membership }, { stateKey: target, ...o });
  }

  /** A state event with state_key "". */
  state(sender: UserId, type: string, content: Record<string, unknown>, o: EvOpts = {}): Promise<Written> {
    return this.put(sender, type, content, { stateKey: "", ...o });
  }

  msg(sender: UserId, body: string, o: EvOpts = {}): Promise<Written> {
    return this.put(sender, "m.room.message", { msgtype: "m.text", body }, { bumps: true, ...o });
  }
}

/** A room created by `creator` who joins; `joiners` join after. */
async function roomWith(s: Storage, roomId: string, tag: string, creator: UserId, joiners: readonly UserId[] = []): Promise<RoomWriter> {
  const w = new RoomWriter(s, roomId, tag);
  await w.create(creator);
  await w.member(creator, creator, "join");
  for (const u of joiners) await w.member(u, u, "join");
  return w;
}

/** What the documented EventRange semantics select from positions `all` (ascending). */
function expectedRange(all: readonly number[], r: EventRange): number[] {
  if (r.dir === "b") {
    return all
      .filter((x) => (r.from === null || x < r.from) && (r.to === null || x >= r.to))
      .reverse()
      .slice(0, r.limit);
  }
  return all.filter((x) => (r.from === null || x >= r.from) && (r.to === null || x < r.to)).slice(0, r.limit);
}

const range = (dir: "b" | "f", from: number | null, to: number | null, limit = 100): EventRange => ({
  dir,
  from: from === null ? null : p(from),
  to: to === null ? null : p(to),
  limit,
});

export function runRoomsContract(test: ContractTest, o: StorageOpener): void {
  describe("events: persist", () => {
    test("persist of a create event makes the room row and a summary row", async (s) => {
      assert.equal(await s.rooms.get("!r:test"), null);
      assert.equal(await s.rooms.summary("!r:test"), null);
      const w = new RoomWriter(s, "!r:test", "r");
      const create = await w.create(alice, { now: T0 + 5 });
      assert.deepEqual(await s.rooms.get("!r:test"), {
        roomId: "!r:test",
        roomVersion: "10",
        creator: alice,
        createdTs: T0 + 5,
        visibility: "private",
        lastEventId: create.id,
        lastDepth: 1,
      });
      const sum = await s.rooms.summary("!r:test");
      assert.deepEqual(sum, {
        roomId: "!r:test",
        bumpPos: create.pos,
        name: null,
        canonicalAlias: null,
        avatarUrl: null,
        topic: null,
        encryption: null,
        roomType: null,
        joinRule: null,
        historyVisibility: null,
        guestAccess: null,
        joinedCount: 0,
        invitedCount: 0,
        heroes: [],
      } satisfies RoomSummaryRow);
      assert.deepEqual(ids(await s.rooms.currentState("!r:test")), [create.id]);

      const join = await w.member(alice, alice, "join", { now: T0 + 9 });
      const m = await w.msg(alice, "hi");
      const room = await s.rooms.get("!r:test");
      assert.equal(room?.lastEventId, m.id, "the last event id follows every event");
      assert.equal(room?.lastDepth, 3);
      assert.equal(room?.createdTs, T0 + 5, "later events do not touch the creation time");
      assert.ok(join.pos > create.pos && m.pos > join.pos);
      assert.equal(await s.rooms.get("!other:test"), null);
    });

    test("get returns the stored row; null for an unknown event", async (s) => {
      const w = new RoomWriter(s, "!r:test", "r");
      await w.create(alice);
      const ev = w.build(alice, "m.room.message", { msgtype: "m.text", body: "hello", nested: { a: [1, 2, { b: null }] } }, { ts: T0 + 77 });
      const { pos } = await w.commit(ev);
      assert.deepEqual(await s.events.get(ev.eventId), { pos, eventId: ev.eventId, roomId: "!r:test", pdu: ev.pdu, redactedBy: null } satisfies EventRow);
      assert.equal(await s.events.get("$nope"), null);
    });

    test("persist returns the stream_log positions: gap-free, increasing, kind event with the room id", async (s) => {
      const a = new RoomWriter(s, "!a:test", "a");
      const b = new RoomWriter(s, "!b:test", "b");
      await s.accounts.createUser({ userId: alice, passwordHash: null, isAdmin: false, displayname: null }, null, T0);
      const got: { pos: StreamPos; roomId: string }[] = [];
      const note = (w: RoomWriter) => (x: Written) => got.push({ pos: x.pos, roomId: w.roomId });
      note(a)(await a.create(alice));
      note(b)(await b.create(bob));
      note(a)(await a.member(alice, alice, "join"));
      await s.accounts.setProfileField(alice, "displayname", "Alice", T0);
      note(b)(await b.member(bob, bob, "join"));
      note(a)(await a.msg(alice, "one"));
      note(a)(await a.state(alice, "m.room.topic", { topic: "t" }));
      note(b)(await b.msg(bob, "two"));

      const log = await wholeLog(s);
      assert.deepEqual(log.map((r) => r.pos as number), log.map((_, i) => i + 1), "log positions are exactly 1..n");
      for (let i = 1; i < got.length; i++) assert.ok(at(got, i).pos > at(got, i - 1).pos, "positions increase");
      for (const g of got) {
        const row = log.find((r) => r.pos === g.pos);
        assert.ok(row, `no log row at ${g.pos}`);
        assert.equal(row.kind, "event");
        assert.equal(row.roomId, g.roomId);
      }
      assert.equal(log.filter((r) => r.kind === "event").length, got.length, "one log row per event");
      assert.equal(s.sequencer.retired(), await s.streams.highestPosition());
      assert.equal(s.sequencer.allocatedUpTo(), await s.streams.highestPosition());
      for (const g of got) assert.equal((await s.events.inRoom(g.roomId, range("f", g.pos, g.pos + 1))).length, 1, "the event sits at its position");
    });

    test("the notifier hears every event with its room; a member event names its target user", async (s) => {
      const heard: StreamChange[] = [];
      s.sequencer.onRetired((c) => heard.push(c));
      const w = new RoomWriter(s, "!r:test", "r");
      const create = await w.create(alice);
      const join = await w.member(alice, alice, "join");
      const invite = await w.member(alice, bob, "invite");
      const m = await w.msg(alice, "hi");
      const kick = await w.member(alice, bob, "leave");
      const simple = (c: StreamChange) => ({ pos: c.pos as number, kind: c.kind, roomId: c.roomId, userIds: [...(c.userIds ?? [])] });
      assert.deepEqual(heard.map(simple), [
        { pos: create.pos, kind: "event", roomId: "!r:test", userIds: [] },
        { pos: join.pos, kind: "event", roomId: "!r:test", userIds: [alice] },
        { pos: invite.pos, kind: "event", roomId: "!r:test", userIds: [bob] },
        { pos: m.pos, kind: "event", roomId: "!r:test", userIds: [] },
        { pos: kick.pos, kind: "event", roomId: "!r:test", userIds: [bob] },
      ]);
      const log = await s.streams.read(ORIGIN, kick.pos, 100);
      assert.deepEqual(log.map((r) => [r.pos, r.userId]), [[create.pos, null], [join.pos, alice], [invite.pos, bob], [m.pos, null], [kick.pos, bob]], "the log row of a member event names its target");
    });

    test("current state: a newer state event replaces the entry; messages are not state", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      const other = await roomWith(s, "!o:test", "o", bob);
      const n1 = await w.state(alice, "m.room.name", { name: "One" });
      await w.msg(alice, "not state");
      const custom = await w.put(alice, "x.custom", { k: 1 }, { stateKey: "key" });
      const customEmpty = await w.put(alice, "x.custom", { k: 2 }, { stateKey: "" });
      await other.state(bob, "m.room.name", { name: "Other" });
      const before = await s.rooms.currentState("!r:test");
      assert.equal(before.length, 5, `create, join, name, 2 custom: ${JSON.stringify(ids(before))}`);
      assert.equal((await s.rooms.currentStateEvent("!r:test", "m.room.name", ""))?.eventId, n1.id);

      const n2 = await w.state(alice, "m.room.name", { name: "Two" });
      const after = await s.rooms.currentState("!r:test");
      assert.deepEqual(sortedIds(after), [...ids(before.filter((e) => e.eventId !== n1.id)), n2.id].sort());
      const name = await s.rooms.currentStateEvent("!r:test", "m.room.name", "");
      assert.equal(name?.eventId, n2.id);
      assert.equal(name?.pos, n2.pos);
      assert.deepEqual(name?.pdu.content, { name: "Two" });
      assert.equal((await s.rooms.currentStateEvent("!r:test", "x.custom", "key"))?.eventId, custom.id);
      assert.equal((await s.rooms.currentStateEvent("!r:test", "x.custom", ""))?.eventId, customEmpty.id, "state keys are distinct entries");
      assert.equal(await s.rooms.currentStateEvent("!r:test", "x.custom", "other"), null);
      assert.equal(await s.rooms.currentStateEvent("!r:test", "m.room.topic", ""), null);
      assert.equal(await s.rooms.currentStateEvent("!r:test", "m.room.message", ""), null);
      assert.equal(await s.rooms.currentStateEvent("!nope:test", "m.room.name", ""), null);
      assert.equal((await s.rooms.currentStateEvent("!o:test", "m.room.name", ""))?.pdu.content.name, "Other", "rooms do not share state");
      assert.ok(after.every((e) => e.roomId === "!r:test"));
      assert.deepEqual(await s.rooms.currentState("!nope:test"), []);
    });
  });

  describe("events: failed persist", () => {
    test("a duplicate event id leaves nothing behind: no log row, no state, no position", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      const name = await w.state(alice, "m.room.name", { name: "Before" }, { summary: { name: "Before" }, txn: { userId: alice, deviceId: D1, txnId: "t0" } });
      const join = await s.rooms.membership("!r:test", alice);
      const heard: number[] = [];
      s.sequencer.onRetired((c) => heard.push(c.pos));
      const high = await s.streams.highestPosition();
      const snapshot = async () => ({
        log: await wholeLog(s),
        state: await s.rooms.currentState("!r:test"),
        summary: await s.rooms.summary("!r:test"),
        room: await s.rooms.get("!r:test"),
        members: await s.rooms.members("!r:test"),
        events: await s.events.inRoom("!r:test", range("f", null, null)),
      });
      const before = await snapshot();

      // A state event reusing the name event's id, with a summary change, a txn and a bump.
      const dupState = w.build(alice, "m.room.name", { name: "After" }, {
        id: name.id,
        stateKey: "",
        summary: { name: "After", topic: "T" },
        txn: { userId: alice, deviceId: D1, txnId: "t-fail" },
        bumps: true,
      });
      await assert.rejects(s.events.persist(dupState, T0 + 1));
      // A member event reusing the join's id: bob must not become a member.
      const dupMember = w.build(bob, "m.room.member", { membership: "join" }, { id: join!.eventId, stateKey: bob });
      await assert.rejects(s.events.persist(dupMember, T0 + 1));

      // A create of a new room reusing an event id: the room row written before the failure goes too.
      const fresh = new RoomWriter(s, "!fresh:test", "f");
      const dupCreate = fresh.build(bob, "m.room.create", { room_version: "10", creator: bob }, { id: name.id, stateKey: "", newRoom: { roomVersion: "10", creator: bob }, bumps: true });
      await assert.rejects(s.events.persist(dupCreate, T0 + 1));
      assert.equal(await s.rooms.get("!fresh:test"), null);
      assert.equal(await s.rooms.summary("!fresh:test"), null);
      assert.deepEqual(await s.rooms.currentState("!fresh:test"), []);

      assert.equal(await s.streams.highestPosition(), high);
      assert.equal(s.sequencer.retired(), high);
      assert.equal(s.sequencer.allocatedUpTo(), high);
      assert.deepEqual(heard, [], "nothing is published");
      assert.deepEqual(await snapshot(), before);
      assert.equal(await s.events.byTxn(alice, D1, "t-fail"), null);
      assert.equal(await s.events.byTxn(alice, D1, "t0"), name.id);
      assert.deepEqual(await s.events.txnIdsOf(alice, D1, [name.id, "$unknown"]), new Map([[name.id, "t0"]]));
      assert.deepEqual(await s.events.txnIdsOf(alice, "OTHER" as DeviceId, [name.id]), new Map(), "only the sending device's");
      assert.equal(await s.rooms.membership("!r:test", bob), null);
      assert.deepEqual(await s.rooms.roomsOfUser(bob), []);
      assert.deepEqual((await s.events.get(name.id))?.pdu.content, { name: "Before" }, "the stored event is untouched");

      const next = await w.msg(alice, "after the failure");
      assert.equal(next.pos, high + 1, "the failed writes took no position");
      assert.deepEqual(heard, [high + 1]);
      const log = await wholeLog(s);
      assert.deepEqual(log.map((r) => r.pos as number), log.map((_, i) => i + 1), "the log stays gap-free");
    });

    test("a create of an existing room and a reused txn id fail whole", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      const sent = await w.msg(alice, "first", { txn: { userId: alice, deviceId: D1, txnId: "t1" } });
      const high = await s.streams.highestPosition();
      const room = await s.rooms.get("!r:test");
      const state = await s.rooms.currentState("!r:test");

      const recreate = w.build(bob, "m.room.create", { room_version: "9", creator: bob }, { id: "$recreate", stateKey: "", newRoom: { roomVersion: "9", creator: bob }, bumps: true });
      await assert.rejects(s.events.persist(recreate, T0 + 100));
      assert.deepEqual(await s.rooms.get("!r:test"), room, "the room row is not overwritten");
      assert.equal(await s.events.get("$recreate"), null);
      assert.deepEqual(await s.rooms.currentState("!r:test"), state);

      const again = w.build(alice, "m.room.topic", { topic: "x" }, { id: "$again", stateKey: "", summary: { topic: "x" }, txn: { userId: alice, deviceId: D1, txnId: "t1" } });
      await assert.rejects(s.events.persist(again, T0 + 100));
      assert.equal(await s.events.get("$again"), null);
      assert.equal(await s.events.byTxn(alice, D1, "t1"), sent.id, "the txn id still names the first event");
      assert.equal(await s.rooms.currentStateEvent("!r:test", "m.room.topic", ""), null);
      assert.equal((await s.rooms.summary("!r:test"))?.topic, null);

      assert.equal(await s.streams.highestPosition(), high);
      assert.equal(s.sequencer.retired(), high);
      assert.equal(s.sequencer.allocatedUpTo(), high);
      assert.equal((await w.msg(alice, "next")).pos, high + 1);
    });
  });

  describe("events: memberships", () => {
    test("membership, members and roomsOfUser follow member events, with membership filters", async (s) => {
      const r1 = await roomWith(s, "!one:test", "a", alice);
      const inviteBob = await r1.member(alice, bob, "invite");
      await r1.member(carol, carol, "join");
      const bobJoin = await r1.member(bob, bob, "join");
      const carolLeave = await r1.member(carol, carol, "leave");
      await r1.member(alice, dave, "ban");
      const r2 = await roomWith(s, "!two:test", "b", bob);
      const inviteAlice = await r2.member(bob, alice, "invite");
      await r2.member(carol, carol, "knock");

      assert.deepEqual(await s.rooms.membership("!one:test", bob), { roomId: "!one:test", userId: bob, membership: "join", eventId: bobJoin.id, pos: bobJoin.pos } satisfies MembershipRow);
      assert.deepEqual(await s.rooms.membership("!one:test", carol), { roomId: "!one:test", userId: carol, membership: "leave", eventId: carolLeave.id, pos: carolLeave.pos });
      assert.equal((await s.rooms.membership("!two:test", alice))?.eventId, inviteAlice.id);
      assert.equal(await s.rooms.membership("!two:test", dave), null);
      assert.equal(await s.rooms.membership("!nope:test", alice), null);
      assert.notEqual(inviteBob.id, bobJoin.id);

      assert.deepEqual(members(await s.rooms.members("!one:test")), [`${alice}=join`, `${bob}=join`, `${carol}=leave`, `${dave}=ban`].sort());
      assert.deepEqual(members(await s.rooms.members("!one:test", ["join"])), [`${alice}=join`, `${bob}=join`]);
      assert.deepEqual(members(await s.rooms.members("!one:test", ["leave", "ban"])), [`${carol}=leave`, `${dave}=ban`]);
      assert.deepEqual(await s.rooms.members("!one:test", ["invite"]), []);
      assert.deepEqual(await s.rooms.members("!one:test", []), [], "an empty filter matches nothing");
      assert.deepEqual(members(await s.rooms.members("!two:test", ["invite", "knock"])), [`${alice}=invite`, `${carol}=knock`]);
      assert.deepEqual(await s.rooms.members("!nope:test"), []);
      const row = (await s.rooms.members("!one:test", ["join"])).find((m) => m.userId === bob);
      assert.deepEqual(row, await s.rooms.membership("!one:test", bob), "members() rows are membership() rows");

      assert.deepEqual(roomIds(await s.rooms.roomsOfUser(alice)), ["!one:test", "!two:test"]);
      assert.deepEqual(roomIds(await s.rooms.roomsOfUser(alice, ["join"])), ["!one:test"]);
      assert.deepEqual(roomIds(await s.rooms.roomsOfUser(alice, ["invite"])), ["!two:test"]);
      assert.deepEqual(roomIds(await s.rooms.roomsOfUser(alice, ["join", "invite"])), ["!one:test", "!two:test"]);
      assert.deepEqual(await s.rooms.roomsOfUser(alice, ["leave"]), []);
      assert.deepEqual(await s.rooms.roomsOfUser(alice, []), []);
      assert.deepEqual(members(await s.rooms.roomsOfUser(carol)), [`${carol}=knock`, `${carol}=leave`]);
      assert.deepEqual(roomIds(await s.rooms.roomsOfUser(carol, ["knock"])), ["!two:test"]);
      assert.deepEqual(roomIds(await s.rooms.roomsOfUser(bob)), ["!one:test", "!two:test"]);
      assert.ok((await s.rooms.roomsOfUser(bob)).every((m) => m.userId === bob && m.membership === "join"));
      assert.deepEqual(await s.rooms.roomsOfUser("@nobody:test" as UserId), []);
    });

    test("membership follows every member event, whatever was asked before it", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      assert.equal(await s.rooms.membership("!r:test", bob), null);
      const invite = await w.member(alice, bob, "invite");
      assert.deepEqual(await s.rooms.membership("!r:test", bob), { roomId: "!r:test", userId: bob, membership: "invite", eventId: invite.id, pos: invite.pos });
      const join = await w.member(bob, bob, "join");
      assert.equal((await s.rooms.membership("!r:test", bob))?.eventId, join.id);
      const dup = w.build(bob, "m.room.member", { membership: "leave" }, { id: join.id, stateKey: bob });
      await assert.rejects(w.commit(dup), "a failed write");
      assert.equal((await s.rooms.membership("!r:test", bob))?.membership, "join", "a failed write changes nothing");
      const leave = await w.member(bob, bob, "leave");
      assert.deepEqual(await s.rooms.membership("!r:test", bob), { roomId: "!r:test", userId: bob, membership: "leave", eventId: leave.id, pos: leave.pos });
      assert.deepEqual(await s.rooms.roomsOfUser(bob), [await s.rooms.membership("!r:test", bob)], "the same row as the table's");
    });

    test("membersChangedAfter: the room's current membership rows newer than a position, oldest first", async (s) => {
      const w = await roomWith(s, "!one:test", "a", alice, [bob]);
      const mark = await s.streams.highestPosition();
      await w.msg(alice, "not a membership");
      const carolJoin = await w.member(carol, carol, "join");
      const bobLeave = await w.member(bob, bob, "leave");
      await roomWith(s, "!two:test", "b", dave);
      const rows = await s.rooms.membersChangedAfter("!one:test", mark);
      assert.deepEqual(rows.map((r) => [r.userId, r.membership, r.pos]), [[carol, "join", carolJoin.pos], [bob, "leave", bobLeave.pos]]);
      assert.deepEqual(rows[0], await s.rooms.membership("!one:test", carol), "rows are membership() rows");
      assert.deepEqual(await s.rooms.membersChangedAfter("!one:test", bobLeave.pos), [], "the bound is exclusive");
      assert.deepEqual(members(await s.rooms.membersChangedAfter("!one:test", p(0))), [`${alice}=join`, `${bob}=leave`, `${carol}=join`]);
      assert.deepEqual(await s.rooms.membersChangedAfter("!nope:test", p(0)), []);
    });

    test("sharingJoinedRoom: the candidates joined to a room the user is joined to", async (s) => {
      const r1 = await roomWith(s, "!one:test", "a", alice, [bob]);
      await r1.member(alice, carol, "invite");
      await r1.member(dave, dave, "join");
      await r1.member(dave, dave, "leave");
      const r2 = await roomWith(s, "!two:test", "b", carol);
      await r2.member(alice, alice, "join");
      await r2.member(alice, alice, "leave");
      const erin = "@erin:test" as UserId;
      await roomWith(s, "!three:test", "c", erin);
      const shared = await s.rooms.sharingJoinedRoom(alice, [bob, carol, dave, erin, bob, "@nobody:test" as UserId]);
      // bob: joined with alice in !one; carol: only invited there, and alice left !two; dave left.
      assert.deepEqual([...shared].sort(), [bob]);
      assert.deepEqual([...(await s.rooms.sharingJoinedRoom(carol, [alice, bob]))], [], "an invite is not a shared joined room");
      assert.deepEqual([...(await s.rooms.sharingJoinedRoom(alice, []))], []);
    });

    test("forget and isForgotten; a re-join clears forgotten", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice, [bob]);
      await roomWith(s, "!o:test", "o", bob);
      assert.equal(await s.rooms.isForgotten("!r:test", bob), false);
      assert.equal(await s.rooms.forget("!r:test", carol), false, "no membership: nothing to forget");
      assert.equal(await s.rooms.isForgotten("!r:test", carol), false);
      assert.equal(await s.rooms.forget("!nope:test", bob), false);

      await w.member(bob, bob, "leave");
      assert.equal(await s.rooms.forget("!r:test", bob), true);
      assert.equal(await s.rooms.isForgotten("!r:test", bob), true);
      assert.equal(await s.rooms.forget("!r:test", bob), true, "forgetting twice is fine");
      assert.equal(await s.rooms.isForgotten("!r:test", bob), true);
      assert.equal(await s.rooms.isForgotten("!r:test", alice), false, "other users are untouched");
      assert.equal(await s.rooms.isForgotten("!o:test", bob), false, "other rooms are untouched");
      assert.equal((await s.rooms.membership("!r:test", bob))?.membership, "leave", "forgetting keeps the membership row");

      await w.msg(alice, "still here");
      await w.state(alice, "m.room.topic", { topic: "t" });
      assert.equal(await s.rooms.isForgotten("!r:test", bob), true, "other events do not clear it");

      await w.member(bob, bob, "join");
      assert.equal(await s.rooms.isForgotten("!r:test", bob), false, "a re-join clears forgotten");

      await w.member(bob, bob, "leave");
      assert.equal(await s.rooms.isForgotten("!r:test", bob), false, "leaving again does not forget");
      assert.equal(await s.rooms.forget("!r:test", bob), true);
      await w.member(alice, bob, "invite");
      assert.equal(await s.rooms.isForgotten("!r:test", bob), false, "a new invite clears forgotten");
    });
  });

  describe("events: summary", () => {
    test("summary patch fields are set, left alone when undefined, and cleared with null", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      const all: Required<RoomSummaryPatch> = {
        name: "Name",
        canonicalAlias: "#a:test",
        avatarUrl: "mxc://test/av",
        topic: "Topic",
        encryption: "m.megolm.v1.aes-sha2",
        roomType: "m.space",
        joinRule: "invite",
        historyVisibility: "shared",
        guestAccess: "can_join",
      };
      await w.state(alice, "x.everything", {}, { summary: all });
      const pick = (r: RoomSummaryRow | null) => {
        assert.ok(r);
        const { name, canonicalAlias, avatarUrl, topic, encryption, roomType, joinRule, historyVisibility, guestAccess } = r;
        return { name, canonicalAlias, avatarUrl, topic, encryption, roomType, joinRule, historyVisibility, guestAccess };
      };
      assert.deepEqual(pick(await s.rooms.summary("!r:test")), all);

      await w.state(alice, "m.room.topic", { topic: "Topic 2" }, { summary: { topic: "Topic 2" } });
      assert.deepEqual(pick(await s.rooms.summary("!r:test")), { ...all, topic: "Topic 2" }, "only the patched field changes");

      await w.msg(alice, "no patch");
      await w.state(alice, "m.room.name", { name: "ignored" }, { summary: {} });
      assert.deepEqual(pick(await s.rooms.summary("!r:test")), { ...all, topic: "Topic 2" }, "an empty patch changes nothing");

      await w.state(alice, "x.clear", {}, { summary: { name: null, encryption: null, guestAccess: null } });
      assert.deepEqual(pick(await s.rooms.summary("!r:test")), { ...all, topic: "Topic 2", name: null, encryption: null, guestAccess: null }, "null clears");

      const other = await roomWith(s, "!o:test", "o", bob);
      await other.state(bob, "m.room.name", { name: "Other" }, { summary: { name: "Other" } });
      assert.equal((await s.rooms.summary("!r:test"))?.name, null, "another room's patch does not leak");
      assert.equal((await s.rooms.summary("!o:test"))?.name, "Other");
    });

    test("bumpPos moves only when bumps is true", async (s) => {
      const w = new RoomWriter(s, "!r:test", "r");
      const create = await w.create(alice);
      assert.equal((await s.rooms.summary("!r:test"))?.bumpPos, create.pos);
      await w.member(alice, alice, "join", { bumps: false });
      assert.equal((await s.rooms.summary("!r:test"))?.bumpPos, create.pos);
      const m1 = await w.msg(alice, "one", { bumps: true });
      assert.equal((await s.rooms.summary("!r:test"))?.bumpPos, m1.pos);
      await w.state(alice, "m.room.name", { name: "N" }, { summary: { name: "N" }, bumps: false });
      await w.put(alice, "m.reaction", {}, { bumps: false });
      assert.equal((await s.rooms.summary("!r:test"))?.bumpPos, m1.pos);
      const other = await roomWith(s, "!o:test", "o", bob);
      const om = await other.msg(bob, "elsewhere", { bumps: true });
      assert.equal((await s.rooms.summary("!r:test"))?.bumpPos, m1.pos, "another room's bump does not move this one");
      assert.equal((await s.rooms.summary("!o:test"))?.bumpPos, om.pos);
      const st = await w.state(alice, "x.bumping.state", {}, { bumps: true });
      assert.equal((await s.rooms.summary("!r:test"))?.bumpPos, st.pos, "any event with bumps moves it");
    });

    test("joined/invited counts and heroes follow membership: joined first, then invited, oldest first, at most six", async (s) => {
      const u = (n: number) => `@u${n}:test` as UserId;
      const w = new RoomWriter(s, "!r:test", "r");
      await w.create(alice);
      const check = async (joined: number, invited: number, heroes: UserId[], msg: string) => {
        const sum = await s.rooms.summary("!r:test");
        assert.equal(sum?.joinedCount, joined, `${msg}: joinedCount`);
        assert.equal(sum?.invitedCount, invited, `${msg}: invitedCount`);
        assert.deepEqual(sum?.heroes, heroes, `${msg}: heroes`);
      };
      await w.member(alice, alice, "join");
      await check(1, 0, [alice], "creator joined");
      await w.member(alice, bob, "invite");
      await w.member(alice, carol, "invite");
      await check(1, 2, [alice, bob, carol], "two invites");
      await w.member(dave, dave, "join");
      await check(2, 2, [alice, dave, bob, carol], "joined members come before invited ones");
      await w.member(bob, bob, "join");
      await check(3, 1, [alice, dave, bob, carol], "an accepted invite moves to the joined");
      for (let i = 1; i <= 4; i++) await w.member(alice, u(i), "invite");
      await check(3, 5, [alice, dave, bob, carol, u(1), u(2)], "at most six heroes");
      await w.member(carol, carol, "leave");
      await check(3, 4, [alice, dave, bob, u(1), u(2), u(3)], "a rejected invite drops out");
      await w.member(alice, u(1), "ban");
      await w.member(u(9), u(9), "knock");
      await check(3, 3, [alice, dave, bob, u(2), u(3), u(4)], "bans and knocks are not counted");
      await w.state(alice, "m.room.name", { name: "N" }, { summary: { name: "N" } });
      await w.msg(alice, "hello");
      await check(3, 3, [alice, dave, bob, u(2), u(3), u(4)], "non-member events change nothing");
      await w.member(dave, dave, "leave");
      await w.member(bob, bob, "leave");
      await w.member(alice, alice, "leave");
      await check(0, 3, [u(2), u(3), u(4)], "everyone left");
      const other = await roomWith(s, "!o:test", "o", u(5), [u(6)]);
      await other.member(u(5), u(7), "invite");
      await check(0, 3, [u(2), u(3), u(4)], "another room's members do not count");
      const o = await s.rooms.summary("!o:test");
      assert.equal(o?.joinedCount, 2);
      assert.equal(o?.invitedCount, 1);
      assert.deepEqual(o?.heroes, [u(5), u(6), u(7)]);
    });
  });

  describe("events: txn ids", () => {
    test("byTxn returns the event id, scoped per user and device", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice, [bob]);
      assert.equal(await s.events.byTxn(alice, D1, "t1"), null);
      const a1 = await w.msg(alice, "a", { txn: { userId: alice, deviceId: D1, txnId: "t1" } });
      assert.equal(await s.events.byTxn(alice, D1, "t1"), a1.id);
      assert.equal(await s.events.byTxn(alice, D2, "t1"), null, "another device of the same user");
      assert.equal(await s.events.byTxn(bob, D1, "t1"), null, "the same device id of another user");
      assert.equal(await s.events.byTxn(alice, D1, "t2"), null);

      const a2 = await w.msg(alice, "b", { txn: { userId: alice, deviceId: D2, txnId: "t1" } });
      const b1 = await w.msg(bob, "c", { txn: { userId: bob, deviceId: D1, txnId: "t1" } });
      const a3 = await w.state(alice, "m.room.topic", { topic: "t" }, { txn: { userId: alice, deviceId: D1, txnId: "t2" } });
      await w.msg(alice, "no txn");
      assert.equal(await s.events.byTxn(alice, D1, "t1"), a1.id);
      assert.equal(await s.events.byTxn(alice, D2, "t1"), a2.id);
      assert.equal(await s.events.byTxn(bob, D1, "t1"), b1.id);
      assert.equal(await s.events.byTxn(alice, D1, "t2"), a3.id);
      assert.equal(await s.events.byTxn(bob, D2, "t1"), null);
    });
  });

  describe("events: redaction", () => {
    test("a redaction replaces the target's pdu with the pruned one and sets redactedBy", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      const target = w.build(alice, "m.room.message", { msgtype: "m.text", body: "secret" }, { bumps: true });
      const tPos = (await w.commit(target)).pos;
      const keep = await w.msg(alice, "keep");
      const nameEv = w.build(alice, "m.room.name", { name: "Secret name" }, { id: "$name", stateKey: "" });
      const nPos = (await w.commit(nameEv)).pos;
      const beforeRedactions = await s.streams.highestPosition();

      const pruned: Pdu = { ...target.pdu, content: {} };
      const red = await w.put(alice, "m.room.redaction", { reason: "oops" }, { redacts: target.eventId, redaction: { targetEventId: target.eventId, prunedPdu: pruned } });
      const got = await s.events.get(target.eventId);
      assert.deepEqual(got, { pos: tPos, eventId: target.eventId, roomId: "!r:test", pdu: pruned, redactedBy: red.id } satisfies EventRow);
      const redRow = await s.events.get(red.id);
      assert.equal(redRow?.redactedBy, null);
      assert.equal(redRow?.pdu.redacts, target.eventId);
      assert.deepEqual(redRow?.pdu.content, { reason: "oops" }, "the redaction event itself is stored as given");
      assert.equal((await s.events.get(keep.id))?.pdu.content.body, "keep", "other events are untouched");
      assert.equal((await s.events.get(keep.id))?.redactedBy, null);
      const page = await s.events.inRoom("!r:test", range("f", tPos, tPos + 1));
      assert.deepEqual(page.map((e) => [e.eventId, e.pdu.content, e.redactedBy]), [[target.eventId, {}, red.id]], "pages show the pruned event");

      const prunedName: Pdu = { ...nameEv.pdu, content: {} };
      const red2 = await w.put(alice, "m.room.redaction", {}, { redacts: "$name", redaction: { targetEventId: "$name", prunedPdu: prunedName } });
      const cur = await s.rooms.currentStateEvent("!r:test", "m.room.name", "");
      assert.equal(cur?.eventId, "$name", "a redacted state event stays in the state");
      assert.deepEqual(cur?.pdu, prunedName);
      assert.equal(cur?.redactedBy, red2.id);
      assert.deepEqual((await s.events.stateEntryAt("!r:test", "m.room.name", "", nPos))?.pdu, prunedName, "state at an earlier position shows it pruned too");
      assert.deepEqual((await s.events.stateHistory("!r:test", "m.room.name", "")).map((e) => e.pdu), [prunedName]);
      assert.deepEqual((await s.events.get("$name"))?.pos, nPos, "a redaction does not move its target");

      const log = await wholeLog(s);
      assert.deepEqual(log.filter((r) => r.pos > beforeRedactions).map((r) => r.pos), [red.pos, red2.pos], "one position per redaction event, none for the target");
    });

    test("a redacted event drops out of the relations index", async (s) => {
      const w = await roomWith(s, "!rr:test", "rr", alice);
      const target = await w.msg(alice, "target");
      const reaction = await w.put(alice, "m.reaction", {}, { relation: { relType: "m.annotation", relatesTo: target.id } });
      assert.deepEqual(ids(await s.events.relations(target.id, null, range("b", null, null))), [reaction.id]);
      const row = await s.events.get(reaction.id);
      await w.put(alice, "m.room.redaction", {}, { redacts: reaction.id, redaction: { targetEventId: reaction.id, prunedPdu: { ...row!.pdu, content: {} } } });
      assert.deepEqual(await s.events.relations(target.id, null, range("b", null, null)), []);
    });
  });

  describe("events: relations", () => {
    test("relations pages both ways, filters by rel_type, and respects limits and bounds", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice, [bob]);
      const other = await roomWith(s, "!o:test", "o", carol);
      const target = await w.msg(alice, "target");
      const unrelatedTarget = await w.msg(alice, "other target");
      const ann = (key: string) => ({ relation: { relType: "m.annotation", relatesTo: target.id }, id: `$ann-${key}` });
      const thr = (key: string) => ({ relation: { relType: "m.thread", relatesTo: target.id }, id: `$thr-${key}` });
      const r1 = await w.put(bob, "m.reaction", {}, ann("1"));
      await w.msg(alice, "plain");
      const t1 = await w.msg(bob, "in thread", thr("1"));
      await other.msg(carol, "elsewhere");
      const r2 = await w.put(alice, "m.reaction", {}, ann("2"));
      const r3 = await w.put(bob, "m.reaction", {}, ann("3"));
      const x = await w.put(bob, "m.reaction", {}, { relation: { relType: "m.annotation", relatesTo: unrelatedTarget.id } });
      const t2 = await w.msg(alice, "in thread 2", thr("2"));
      const r4 = await w.put(alice, "m.reaction", {}, ann("4"));

      const rel = async (relType: string | null, r: EventRange) => ids(await s.events.relations(target.id, relType, r));
      const all = [r1, t1, r2, r3, t2, r4];
      assert.deepEqual(await rel(null, range("b", null, null)), all.map((e) => e.id).reverse());
      assert.deepEqual(await rel(null, range("f", null, null)), all.map((e) => e.id));
      assert.deepEqual(await rel("m.annotation", range("f", null, null)), [r1, r2, r3, r4].map((e) => e.id));
      assert.deepEqual(await rel("m.thread", range("b", null, null)), [t2.id, t1.id]);
      assert.deepEqual(await rel("m.reference", range("b", null, null)), []);

      assert.deepEqual(await rel("m.annotation", range("f", null, null, 2)), [r1.id, r2.id]);
      assert.deepEqual(await rel("m.annotation", range("b", null, null, 2)), [r4.id, r3.id]);
      assert.deepEqual(await rel("m.annotation", range("f", r2.pos + 1, null, 2)), [r3.id, r4.id], "f: from is inclusive");
      assert.deepEqual(await rel("m.annotation", range("f", r2.pos, null, 1)), [r2.id]);
      assert.deepEqual(await rel("m.annotation", range("b", r3.pos, null, 1)), [r2.id], "b: from is exclusive");
      assert.deepEqual(await rel("m.annotation", range("b", r3.pos + 1, null, 1)), [r3.id]);
      assert.deepEqual(await rel("m.annotation", range("f", r2.pos, r4.pos)), [r2.id, r3.id], "f: stops before to");
      assert.deepEqual(await rel(null, range("b", r4.pos, t1.pos)), [t2.id, r3.id, r2.id, t1.id], "b: to is inclusive");
      assert.deepEqual(await rel(null, range("b", null, null, 0)), []);

      // Every (from, to) against the documented semantics.
      const allPos = all.map((e) => e.pos as number);
      const byPos = new Map(all.map((e) => [e.pos as number, e.id]));
      const high = await s.streams.highestPosition();
      const bounds: (number | null)[] = [null, ...Array.from({ length: high + 2 }, (_, i) => i)];
      for (const dir of ["b", "f"] as const) {
        for (const from of bounds) {
          for (const to of bounds) {
            const r = range(dir, from, to, 3);
            assert.deepEqual(await rel(null, r), expectedRange(allPos, r).map((q) => byPos.get(q)), `relations ${JSON.stringify(r)}`);
          }
        }
      }

      assert.deepEqual(ids(await s.events.relations(unrelatedTarget.id, null, range("b", null, null))), [x.id]);
      assert.deepEqual(ids(await s.events.relations(unrelatedTarget.id, "m.annotation", range("f", null, null))), [x.id]);
      assert.deepEqual(await s.events.relations("$unknown", null, range("b", null, null)), []);
      assert.deepEqual(await s.events.relations(r1.id, null, range("b", null, null)), [], "relating events have no relations of their own");
    });

    test("relations from another room are ignored", async (s) => {
      const w = await roomWith(s, "!r2:test", "r2", alice);
      const other = await roomWith(s, "!o2:test", "o2", alice);
      const target = await w.msg(alice, "target");
      const inRoom = await w.put(alice, "m.reaction", {}, { relation: { relType: "m.annotation", relatesTo: target.id } });
      await other.put(alice, "m.reaction", {}, { relation: { relType: "m.annotation", relatesTo: target.id } });
      assert.deepEqual(ids(await s.events.relations(target.id, null, range("b", null, null))), [inRoom.id]);
    });
  });

  describe("events: inRoom", () => {
    /** Room !a (20 events: create, join, messages and topics) interleaved with room !b's events. */
    async function interleaved(s: Storage): Promise<{ a: Written[]; b: Written[] }> {
      const wa = new RoomWriter(s, "!a:test", "a");
      const wb = new RoomWriter(s, "!b:test", "b");
      const a: Written[] = [await wa.create(alice)];
      const b: Written[] = [await wb.create(bob)];
      a.push(await wa.member(alice, alice, "join"));
      for (let i = 0; i < 18; i++) {
        a.push(i % 4 === 1 ? await wa.state(alice, "m.room.topic", { topic: `t${i}` }) : await wa.msg(alice, `m${i}`));
        if (i % 3 === 0) b.push(await wb.msg(bob, `b${i}`));
        if (i === 7) b.push(await wb.msg(bob, "b extra"));
      }
      assert.equal(a.length, 20);
      return { a, b };
    }

    test("inRoom with open bounds returns the whole room, newest first (b) or oldest first (f), never other rooms", async (s) => {
      const { a, b } = await interleaved(s);
      const aIds = a.map((e) => e.id);
      const back = await s.events.inRoom("!a:test", range("b", null, null));
      assert.deepEqual(ids(back), [...aIds].reverse());
      assert.deepEqual(back.map((e) => e.pos), a.map((e) => e.pos).reverse());
      assert.ok(back.every((e) => e.roomId === "!a:test"));
      assert.deepEqual(ids(await s.events.inRoom("!a:test", range("f", null, null))), aIds);
      assert.deepEqual(ids(await s.events.inRoom("!b:test", range("f", null, null))), b.map((e) => e.id));
      assert.deepEqual(ids(await s.events.inRoom("!a:test", range("b", null, null, 5))), aIds.slice(15).reverse());
      assert.deepEqual(ids(await s.events.inRoom("!a:test", range("f", null, null, 5))), aIds.slice(0, 5));
      assert.deepEqual(await s.events.inRoom("!a:test", range("b", null, null, 0)), []);
      assert.deepEqual(await s.events.inRoom("!nope:test", range("b", null, null)), []);
    });

    test("inRoom bounds are boundaries: b returns pos < from down to pos >= to; f returns pos >= from up to pos < to", async (s) => {
      const { a } = await interleaved(s);
      const P = (i: number) => at(a, i).pos as number;
      const I = (i: number) => at(a, i).id;
      const q = async (r: EventRange) => ids(await s.events.inRoom("!a:test", r));

      assert.deepEqual(await q(range("b", P(10), null, 3)), [I(9), I(8), I(7)], "b: the event at from is excluded");
      assert.deepEqual(await q(range("b", P(10) + 1, null, 3)), [I(10), I(9), I(8)], "b: the boundary just above an event includes it");
      assert.deepEqual(await q(range("b", P(10), P(7))), [I(9), I(8), I(7)], "b: the event at to is included");
      assert.deepEqual(await q(range("b", P(10), P(7) + 1)), [I(9), I(8)]);
      assert.deepEqual(await q(range("f", P(5), null, 3)), [I(5), I(6), I(7)], "f: the event at from is included");
      assert.deepEqual(await q(range("f", P(5) + 1, null, 3)), [I(6), I(7), I(8)]);
      assert.deepEqual(await q(range("f", P(5), P(8))), [I(5), I(6), I(7)], "f: the event at to is excluded");
      assert.deepEqual(await q(range("f", P(5), P(8) + 1)), [I(5), I(6), I(7), I(8)]);
      assert.deepEqual(await q(range("f", P(5), P(5))), [], "from == to is empty");
      assert.deepEqual(await q(range("b", P(5), P(5))), []);
      assert.deepEqual(await q(range("b", P(5), P(8))), [], "b with to above from is empty");
      assert.deepEqual(await q(range("f", P(8), P(5))), [], "f with to below from is empty");
      assert.deepEqual(await q(range("b", 0, null)), [], "nothing lies below boundary 0");
      assert.deepEqual((await q(range("f", 0, null))).length, 20);
      assert.deepEqual(await q(range("f", P(19) + 1, null)), [], "nothing lies at or above the boundary after the newest event");
      assert.deepEqual((await q(range("b", P(19) + 1, null))).length, 20);
      assert.deepEqual(await q(range("b", null, P(17))), [I(19), I(18), I(17)]);
      assert.deepEqual(await q(range("f", null, P(2))), [I(0), I(1)]);

      // Every (from, to) pair, both directions, a short and a long limit, against the documented semantics.
      const allPos = a.map((e) => e.pos as number);
      const byPos = new Map(a.map((e) => [e.pos as number, e.id]));
      const high = await s.streams.highestPosition();
      const bounds: (number | null)[] = [null, ...Array.from({ length: high + 3 }, (_, i) => i)];
      for (const dir of ["b", "f"] as const) {
        for (const limit of [3, 100]) {
          for (const from of bounds) {
            for (const to of bounds) {
              const r = range(dir, from, to, limit);
              assert.deepEqual(await q(r), expectedRange(allPos, r).map((x) => byPos.get(x)), `inRoom ${JSON.stringify(r)}`);
            }
          }
        }
      }
    });

    test("paging with the last event's boundary visits every event exactly once in both directions", async (s) => {
      const { a } = await interleaved(s);
      const aIds = a.map((e) => e.id);
      const back: string[] = [];
      let from: number | null = null;
      for (let guard = 0; guard < 50; guard++) {
        const page = await s.events.inRoom("!a:test", range("b", from, null, 3));
        if (page.length === 0) break;
        back.push(...ids(page));
        from = at(page, page.length - 1).pos;
      }
      assert.deepEqual(back, [...aIds].reverse());
      const fwd: string[] = [];
      from = null;
      for (let guard = 0; guard < 50; guard++) {
        const page = await s.events.inRoom("!a:test", range("f", from, null, 3));
        if (page.length === 0) break;
        fwd.push(...ids(page));
        from = at(page, page.length - 1).pos + 1;
      }
      assert.deepEqual(fwd, aIds);
      // A sync-style boundary (highest position) and a backwards page meet without overlap.
      const boundary = await s.streams.highestPosition();
      const older = await s.events.inRoom("!a:test", range("b", boundary, null, 4));
      const w = new RoomWriter(s, "!a:test", "late");
      const late = await w.msg(alice, "after the boundary");
      assert.deepEqual(ids(await s.events.inRoom("!a:test", range("f", boundary + 1, null))), [late.id]);
      assert.ok(!ids(older).includes(late.id));
    });
  });

  describe("events: state at a position", () => {
    test("stateAt and stateEntryAt follow the room's state over time", async (s) => {
      const w = new RoomWriter(s, "!r:test", "r");
      const o = new RoomWriter(s, "!o:test", "o");
      const create = await w.create(alice);
      const oCreate = await o.create(carol);
      const join = await w.member(alice, alice, "join");
      const name1 = await w.state(alice, "m.room.name", { name: "One" });
      const m1 = await w.msg(alice, "hello");
      const oName = await o.state(carol, "m.room.name", { name: "Other" });
      const topic = await w.state(alice, "m.room.topic", { topic: "T" });
      const invite = await w.member(alice, bob, "invite");
      const name2 = await w.state(alice, "m.room.name", { name: "Two" });
      const bobJoin = await w.member(bob, bob, "join");
      await o.msg(carol, "other room");
      const name3 = await w.state(alice, "m.room.name", { name: "Three" });
      const m2 = await w.msg(bob, "bye");

      const at_ = async (pos: number) => sortedIds(await s.events.stateAt("!r:test", p(pos)));
      const set = (...xs: Written[]) => xs.map((x) => x.id).sort();
      assert.deepEqual(await at_(0), []);
      assert.deepEqual(await at_(create.pos), set(create));
      assert.deepEqual(await at_(oCreate.pos), set(create), "a position of another room");
      assert.deepEqual(await at_(join.pos), set(create, join));
      assert.deepEqual(await at_(name1.pos), set(create, join, name1));
      assert.deepEqual(await at_(m1.pos), set(create, join, name1), "a message does not change state");
      assert.deepEqual(await at_(oName.pos), set(create, join, name1));
      assert.deepEqual(await at_(invite.pos), set(create, join, name1, topic, invite));
      assert.deepEqual(await at_(name2.pos), set(create, join, name2, topic, invite), "the replaced name is gone");
      assert.deepEqual(await at_(bobJoin.pos), set(create, join, name2, topic, bobJoin));
      assert.deepEqual(await at_(name3.pos), set(create, join, name3, topic, bobJoin));
      assert.deepEqual(await at_(m2.pos), set(create, join, name3, topic, bobJoin));
      assert.deepEqual(await at_(BIG), sortedIds(await s.rooms.currentState("!r:test")), "after the newest event: the current state");
      assert.deepEqual(sortedIds(await s.events.stateAt("!o:test", p(BIG))), set(oCreate, oName));
      assert.deepEqual(await s.events.stateAt("!nope:test", p(BIG)), []);
      const rows = await s.events.stateAt("!r:test", name2.pos);
      const nameRow = rows.find((r) => r.pdu.type === "m.room.name");
      assert.deepEqual(nameRow, await s.events.get(name2.id), "stateAt returns whole event rows");

      const entry = async (type: string, key: string, pos: number) => (await s.events.stateEntryAt("!r:test", type, key, p(pos)))?.eventId ?? null;
      assert.equal(await entry("m.room.name", "", 0), null);
      assert.equal(await entry("m.room.name", "", join.pos), null);
      assert.equal(await entry("m.room.name", "", name1.pos), name1.id);
      assert.equal(await entry("m.room.name", "", name2.pos - 1), name1.id);
      assert.equal(await entry("m.room.name", "", name2.pos), name2.id);
      assert.equal(await entry("m.room.name", "", name3.pos - 1), name2.id);
      assert.equal(await entry("m.room.name", "", BIG), name3.id);
      assert.equal(await entry("m.room.member", bob, topic.pos), null);
      assert.equal(await entry("m.room.member", bob, invite.pos), invite.id);
      assert.equal(await entry("m.room.member", bob, bobJoin.pos - 1), invite.id);
      assert.equal(await entry("m.room.member", bob, bobJoin.pos), bobJoin.id);
      assert.equal(await entry("m.room.member", alice, BIG), join.id);
      assert.equal(await entry("m.room.topic", "x", BIG), null, "another state key");
      assert.equal(await entry("m.room.message", "", BIG), null, "messages are not state");
      assert.equal((await s.events.stateEntryAt("!o:test", "m.room.name", "", p(BIG)))?.eventId, oName.id);
      assert.equal(await s.events.stateEntryAt("!nope:test", "m.room.name", "", p(BIG)), null);

      // Every position against a model built from the writes.
      const writes: [Written, string | null][] = [
        [create, "m.room.create\0"],
        [join, `m.room.member\0${alice}`],
        [name1, "m.room.name\0"],
        [m1, null],
        [topic, "m.room.topic\0"],
        [invite, `m.room.member\0${bob}`],
        [name2, "m.room.name\0"],
        [bobJoin, `m.room.member\0${bob}`],
        [name3, "m.room.name\0"],
        [m2, null],
      ];
      const high = await s.streams.highestPosition();
      for (let pos = 0; pos <= high + 1; pos++) {
        const model = new Map<string, string>();
        for (const [wr, key] of writes) if (key !== null && wr.pos <= pos) model.set(key, wr.id);
        assert.deepEqual(await at_(pos), [...model.values()].sort(), `stateAt(${pos})`);
        assert.equal(await entry("m.room.name", "", pos), model.get("m.room.name\0") ?? null, `stateEntryAt(name, ${pos})`);
      }
    });

    test("stateHistory lists every event for the key, oldest first", async (s) => {
      const w = await roomWith(s, "!r:test", "r", alice);
      const o = await roomWith(s, "!o:test", "o", bob);
      const n1 = await w.state(alice, "m.room.name", { name: "One" });
      await o.state(bob, "m.room.name", { name: "Other" });
      await w.msg(alice, "x");
      const n2 = await w.state(alice, "m.room.name", { name: "Two" });
      const keyed = await w.put(alice, "m.room.name", { name: "keyed" }, { stateKey: "k" });
      const n3 = await w.state(alice, "m.room.name", { name: "Three" });
      const hist = await s.events.stateHistory("!r:test", "m.room.name", "");
      assert.deepEqual(ids(hist), [n1.id, n2.id, n3.id]);
      assert.deepEqual(hist.map((e) => e.pdu.content.name), ["One", "Two", "Three"]);
      assert.deepEqual(hist.map((e) => e.pos), [n1.pos, n2.pos, n3.pos]);
      assert.deepEqual(ids(await s.events.stateHistory("!r:test", "m.room.name", "k")), [keyed.id]);
      assert.equal((await s.events.stateHistory("!r:test", "m.room.member", alice)).length, 1);
      assert.deepEqual(await s.events.stateHistory("!r:test", "m.room.topic", ""), []);
      assert.deepEqual(await s.events.stateHistory("!r:test", "m.room.message", ""), [], "messages have no state history");
      assert.deepEqual(await s.events.stateHistory("!nope:test", "m.room.name", ""), []);
    });
  });

  describe("events: closestByTimestamp", () => {
    test("closestByTimestamp finds the nearest event at or after (f) / at or before (b), ties and none", async (s) => {
      const w = new RoomWriter(s, "!r:test", "r");
      const o = new RoomWriter(s, "!o:test", "o");
      const e100 = await w.create(alice, { ts: 100 });
      const e200a = await w.member(alice, alice, "join", { ts: 200 });
      await o.create(bob, { ts: 250 });
      const e200b = await w.msg(alice, "same ms", { ts: 200 });
      const e200c = await w.msg(alice, "same ms again", { ts: 200 });
      await o.msg(bob, "other", { ts: 260 });
      const e300 = await w.msg(alice, "later", { ts: 300 });
      const e150 = await w.msg(alice, "clock went back", { ts: 150 });

      const c = async (ts: number, dir: "b" | "f") => (await s.events.closestByTimestamp("!r:test", ts, dir))?.eventId ?? null;
      assert.equal(await c(100, "f"), e100.id, "f: an exact match");
      assert.equal(await c(100, "b"), e100.id, "b: an exact match");
      assert.equal(await c(120, "f"), e150.id, "f: by timestamp, not position");
      assert.equal(await c(160, "b"), e150.id);
      assert.equal(await c(170, "f"), e200a.id, "f: of equal timestamps, the first written");
      assert.equal(await c(200, "f"), e200a.id);
      assert.equal(await c(200, "b"), e200c.id, "b: of equal timestamps, the last written");
      assert.equal(await c(255, "b"), e200c.id, "another room's events are not candidates");
      assert.equal(await c(255, "f"), e300.id);
      assert.equal(await c(300, "f"), e300.id);
      assert.equal(await c(99, "b"), null, "nothing at or before");
      assert.equal(await c(301, "f"), null, "nothing at or after");
      assert.equal(await c(0, "f"), e100.id);
      assert.equal(await c(BIG * BIG, "b"), e300.id);
      assert.notEqual(e200b.id, e200c.id);
      assert.deepEqual(await s.events.closestByTimestamp("!r:test", 300, "b"), await s.events.get(e300.id), "returns the whole row");
      assert.equal(await s.events.closestByTimestamp("!nope:test", 200, "f"), null);
      assert.equal(await s.events.closestByTimestamp("!nope:test", 200, "b"), null);
    });
  });

  describe("rooms: directory", () => {
    const u = (n: number) => `@u${n}:test` as UserId;
    const all = { limit: 50, offset: 0, search: null, roomTypes: null };

    /** A room with creator + joiners joined and the summary fields of `patch` (join rule public unless given). */
    async function dirRoom(s: Storage, roomId: string, joiners: readonly UserId[], patch: RoomSummaryPatch = {}, publish = true): Promise<RoomWriter> {
      const w = await roomWith(s, roomId, roomId.slice(1, roomId.indexOf(":")), u(1), joiners);
      await w.state(u(1), "x.meta", {}, { summary: { joinRule: "public", ...patch } });
      if (publish) assert.equal(await s.rooms.setVisibility(roomId, "public"), true);
      return w;
    }

    test("setVisibility and publicRooms: most joined first, offset paging, total", async (s) => {
      await dirRoom(s, "!small:test", [], {}, false);
      const big = await dirRoom(s, "!big:test", [u(2), u(3), u(4)], {}, false);
      await dirRoom(s, "!mid:test", [u(2), u(3)], {}, false);
      await dirRoom(s, "!priv:test", [u(2), u(3), u(4), u(5)], {}, false);
      assert.deepEqual(await s.rooms.publicRooms(all), { rooms: [], total: 0 }, "rooms start unpublished");
      assert.equal((await s.rooms.get("!big:test"))?.visibility, "private");

      for (const r of ["!small:test", "!big:test", "!mid:test"]) assert.equal(await s.rooms.setVisibility(r, "public"), true);
      assert.equal(await s.rooms.setVisibility("!nope:test", "public"), false);
      assert.equal(await s.rooms.get("!nope:test"), null, "setVisibility does not create rooms");
      assert.equal((await s.rooms.get("!big:test"))?.visibility, "public");
      assert.equal((await s.rooms.get("!priv:test"))?.visibility, "private");

      const list = async (limit: number, offset: number) => {
        const r = await s.rooms.publicRooms({ ...all, limit, offset });
        return { rooms: r.rooms.map((x) => `${x.roomId}:${x.joinedCount}`), total: r.total };
      };
      assert.deepEqual(await list(10, 0), { rooms: ["!big:test:4", "!mid:test:3", "!small:test:1"], total: 3 });
      assert.deepEqual(await list(2, 0), { rooms: ["!big:test:4", "!mid:test:3"], total: 3 });
      assert.deepEqual(await list(2, 2), { rooms: ["!small:test:1"], total: 3 });
      assert.deepEqual(await list(1, 1), { rooms: ["!mid:test:3"], total: 3 });
      assert.deepEqual(await list(10, 5), { rooms: [], total: 3 });
      assert.deepEqual(await list(0, 0), { rooms: [], total: 3 });
      const first = (await s.rooms.publicRooms({ ...all, limit: 1 })).rooms[0];
      assert.deepEqual(first, await s.rooms.summary("!big:test"), "rows are summary rows");

      await big.member(u(2), u(2), "leave");
      await big.member(u(3), u(3), "leave");
      assert.deepEqual(await list(10, 0), { rooms: ["!mid:test:3", "!big:test:2", "!small:test:1"], total: 3 }, "the order follows the joined count");

      assert.equal(await s.rooms.setVisibility("!priv:test", "public"), true);
      assert.deepEqual(await list(10, 0), { rooms: ["!priv:test:5", "!mid:test:3", "!big:test:2", "!small:test:1"], total: 4 });
      assert.equal(await s.rooms.setVisibility("!mid:test", "private"), true);
      assert.equal((await s.rooms.get("!mid:test"))?.visibility, "private");
      assert.equal(await s.rooms.setVisibility("!mid:test", "private"), true, "setting the same value again is still true");
      assert.deepEqual(await list(10, 0), { rooms: ["!priv:test:5", "!big:test:2", "!small:test:1"], total: 3 });
    });

    test("equal joined counts page without overlap or gaps", async (s) => {
      const made: string[] = [];
      for (let i = 0; i < 7; i++) {
        const id = `!tie${i}:test`;
        await dirRoom(s, id, i % 2 === 0 ? [u(2)] : []);
        made.push(id);
      }
      const seen: string[] = [];
      for (let offset = 0; offset < 10; offset += 3) {
        const page = await s.rooms.publicRooms({ ...all, limit: 3, offset });
        assert.equal(page.total, 7);
        seen.push(...page.rooms.map((r) => r.roomId));
      }
      assert.deepEqual([...seen].sort(), [...made].sort(), "every room exactly once");
      const counts = (await s.rooms.publicRooms(all)).rooms.map((r) => r.joinedCount);
      assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    });

    test("only published rooms with a joined member that are joinable or world-readable are listed", async (s) => {
      await dirRoom(s, "!public:test", []);
      await dirRoom(s, "!knock:test", [], { joinRule: "knock" });
      await dirRoom(s, "!knockr:test", [], { joinRule: "knock_restricted" });
      await dirRoom(s, "!readable:test", [], { joinRule: "invite", historyVisibility: "world_readable" });
      await dirRoom(s, "!invite:test", [], { joinRule: "invite", historyVisibility: "shared" });
      await dirRoom(s, "!restricted:test", [], { joinRule: "restricted" });
      await dirRoom(s, "!norule:test", [], { joinRule: null });
      await dirRoom(s, "!unpublished:test", [], {}, false);
      const empty = await dirRoom(s, "!empty:test", []);
      await empty.member(u(1), u(1), "leave");
      const later = await dirRoom(s, "!later:test", [], { joinRule: "invite" });
      const listed = async () => {
        const r = await s.rooms.publicRooms(all);
        assert.equal(r.total, r.rooms.length);
        return roomIds(r.rooms);
      };
      assert.deepEqual(await listed(), ["!knock:test", "!knockr:test", "!public:test", "!readable:test"]);
      await later.state(u(1), "m.room.join_rules", { join_rule: "public" }, { summary: { joinRule: "public" } });
      assert.deepEqual(await listed(), ["!knock:test", "!knockr:test", "!later:test", "!public:test", "!readable:test"], "a join rule change lists the room");
      await empty.member(u(1), u(1), "join");
      assert.ok((await listed()).includes("!empty:test"), "a member joining lists the room");
    });

    test("publicRooms search matches name, topic and canonical alias, ignoring ASCII case, with % and _ taken literally", async (s) => {
      const rooms: [string, RoomSummaryPatch, boolean][] = [
        ["!pct:test", { name: "100% real" }, true],
        ["!plain:test", { name: "plain 100 real" }, true],
        ["!snake:test", { name: "snake_case" }, true],
        ["!snakex:test", { name: "snakeXcase" }, true],
        ["!bs:test", { name: "back\\slash" }, true],
        ["!bsx:test", { name: "backXslash" }, true],
        ["!garden:test", { name: "Flowers", topic: "Gardening tips" }, true],
        ["!alias:test", { canonicalAlias: "#veg:test" }, true],
        ["!hidden:test", { name: "100% hidden", topic: "snake_case" }, false],
        ["!ecole:test", { name: "ÉCOLE Ünïcode", topic: "Straße" }, true],
      ];
      for (const [roomId, patch, publish] of rooms) await dirRoom(s, roomId, [], patch, publish);
      const find = async (search: string, limit = 50, offset = 0) => {
        const r = await s.rooms.publicRooms({ ...all, limit, offset, search });
        return { rooms: roomIds(r.rooms), total: r.total };
      };
      assert.deepEqual(await find("0% r"), { rooms: ["!pct:test"], total: 1 }, "% is not a wildcard");
      assert.deepEqual(await find("%"), { rooms: ["!pct:test"], total: 1 });
      assert.deepEqual(await find("e_c"), { rooms: ["!snake:test"], total: 1 }, "_ is not a wildcard");
      assert.deepEqual(await find("_"), { rooms: ["!snake:test"], total: 1 });
      assert.deepEqual(await find("k\\s"), { rooms: ["!bs:test"], total: 1 }, "a backslash is literal too");
      assert.deepEqual(await find("\\"), { rooms: ["!bs:test"], total: 1 });
      assert.deepEqual(await find("100"), { rooms: ["!pct:test", "!plain:test"], total: 2 }, "substring match; unpublished rooms excluded");
      assert.deepEqual(await find("ardening"), { rooms: ["!garden:test"], total: 1 }, "topic");
      assert.deepEqual(await find("lowers"), { rooms: ["!garden:test"], total: 1 }, "name");
      assert.deepEqual(await find("#veg"), { rooms: ["!alias:test"], total: 1 }, "canonical alias");
      assert.deepEqual(await find("veg:test"), { rooms: ["!alias:test"], total: 1 });
      assert.deepEqual(await find("GARDENING"), { rooms: ["!garden:test"], total: 1 }, "ASCII case is ignored");
      assert.deepEqual(await find("fLoWeRs"), { rooms: ["!garden:test"], total: 1 });
      assert.deepEqual(await find("#VEG"), { rooms: ["!alias:test"], total: 1 });
      assert.deepEqual(await find("SNAKE_"), { rooms: ["!snake:test"], total: 1 });
      assert.deepEqual(await find("ÉCOLE Ünïcode"), { rooms: ["!ecole:test"], total: 1 }, "non-ASCII text matches itself");
      assert.deepEqual(await find("Écol"), { rooms: ["!ecole:test"], total: 1 }, "ASCII case is ignored next to non-ASCII letters");
      assert.deepEqual(await find("STRAßE"), { rooms: ["!ecole:test"], total: 1 });
      assert.deepEqual(await find("no such room"), { rooms: [], total: 0 });
      const page = await find("100", 1, 0);
      const page2 = await find("100", 1, 1);
      assert.equal(page.total, 2, "total counts every match, not the page");
      assert.equal(page2.total, 2);
      assert.deepEqual([...page.rooms, ...page2.rooms].sort(), ["!pct:test", "!plain:test"]);
      assert.deepEqual(await find("100", 10, 2), { rooms: [], total: 2 });
      assert.equal((await s.rooms.publicRooms(all)).total, 9, "no search: every listed room");
      assert.equal((await s.rooms.publicRooms({ ...all, search: "" })).total, 9, "an empty search matches everything");
    });

    test("publicRooms roomTypes keeps rooms of those types; null in it means rooms without a type", async (s) => {
      await dirRoom(s, "!plain:test", [], { name: "space-less" });
      await dirRoom(s, "!space:test", [], { roomType: "m.space", name: "a space" });
      await dirRoom(s, "!custom:test", [], { roomType: "org.example.custom" });
      const types = async (roomTypes: readonly (string | null)[] | null, search: string | null = null) => {
        const r = await s.rooms.publicRooms({ ...all, roomTypes, search });
        assert.equal(r.total, r.rooms.length);
        return roomIds(r.rooms);
      };
      const every = ["!custom:test", "!plain:test", "!space:test"];
      assert.deepEqual(await types(null), every);
      assert.deepEqual(await types([]), every, "empty = every room");
      assert.deepEqual(await types(["m.space"]), ["!space:test"]);
      assert.deepEqual(await types([null]), ["!plain:test"]);
      assert.deepEqual(await types(["m.space", null]), ["!plain:test", "!space:test"]);
      assert.deepEqual(await types(["m.space", "org.example.custom"]), ["!custom:test", "!space:test"]);
      assert.deepEqual(await types(["m.nothing"]), []);
      assert.deepEqual(await types([null, "m.space"], "space"), ["!plain:test", "!space:test"], "with a search");
      assert.deepEqual(await types(["m.space"], "less"), []);
    });
  });

  describe("aliases", () => {
    test("create (false on duplicate), get, delete, forRoom", async (s) => {
      await roomWith(s, "!r:test", "r", alice);
      await roomWith(s, "!o:test", "o", bob);
      assert.equal(await s.aliases.get("#a:test"), null);
      assert.deepEqual(await s.aliases.forRoom("!r:test"), []);
      assert.equal(await s.aliases.create({ alias: "#a:test", roomId: "!r:test", creator: alice }), true);
      assert.equal(await s.aliases.create({ alias: "#b:test", roomId: "!r:test", creator: bob }), true);
      assert.equal(await s.aliases.create({ alias: "#c:test", roomId: "!o:test", creator: bob }), true);
      assert.equal(await s.aliases.create({ alias: "#a:test", roomId: "!o:test", creator: bob }), false, "an alias is taken once");
      assert.equal(await s.aliases.create({ alias: "#a:test", roomId: "!r:test", creator: alice }), false);
      assert.deepEqual(await s.aliases.get("#a:test"), { alias: "#a:test", roomId: "!r:test", creator: alice }, "a refused create does not overwrite");
      assert.deepEqual(await s.aliases.get("#b:test"), { alias: "#b:test", roomId: "!r:test", creator: bob });
      assert.equal(await s.aliases.get("#A:test"), null, "aliases are case-sensitive");
      assert.deepEqual([...(await s.aliases.forRoom("!r:test"))].sort(), ["#a:test", "#b:test"]);
      assert.deepEqual(await s.aliases.forRoom("!o:test"), ["#c:test"]);
      assert.deepEqual(await s.aliases.forRoom("!nope:test"), []);

      assert.equal(await s.aliases.delete("#a:test"), true);
      assert.equal(await s.aliases.delete("#a:test"), false, "already gone");
      assert.equal(await s.aliases.delete("#nope:test"), false);
      assert.equal(await s.aliases.get("#a:test"), null);
      assert.deepEqual(await s.aliases.forRoom("!r:test"), ["#b:test"]);
      assert.equal(await s.aliases.create({ alias: "#a:test", roomId: "!o:test", creator: carol }), true, "a deleted alias can be taken again");
      assert.deepEqual(await s.aliases.get("#a:test"), { alias: "#a:test", roomId: "!o:test", creator: carol });
      assert.deepEqual([...(await s.aliases.forRoom("!o:test"))].sort(), ["#a:test", "#c:test"]);
    });
  });

  describe("rooms: re-open", () => {
    it("a re-opened storage keeps rooms, events, state, memberships, summaries and aliases", { skip: o.persistent ? false : "opener has no persistent()" }, async () => {
      const loc = o.persistent!();
      try {
        const s1 = await loc.open();
        let high: StreamPos;
        let snapshot: unknown;
        const snap = async (s: Storage) => ({
          room: await s.rooms.get("!r:test"),
          events: await s.events.inRoom("!r:test", range("f", null, null)),
          // Bounded pages: a backend may answer these from memory for events it wrote itself,
          // from its tables after a re-open; the answer must be the same.
          newest: await s.events.inRoom("!r:test", range("b", BIG, 1, 3)),
          oldest: await s.events.inRoom("!r:test", range("f", 1, BIG, 3)),
          state: await s.rooms.currentState("!r:test"),
          members: await s.rooms.members("!r:test"),
          summary: await s.rooms.summary("!r:test"),
          alias: await s.aliases.get("#r:test"),
          txn: await s.events.byTxn(alice, D1, "t1"),
          forgotten: await s.rooms.isForgotten("!r:test", carol),
        });
        try {
          const w = await roomWith(s1, "!r:test", "r", alice, [bob, carol]);
          await w.member(carol, carol, "leave");
          await s1.rooms.forget("!r:test", carol);
          await w.state(alice, "m.room.name", { name: "N" }, { summary: { name: "N" } });
          await w.msg(alice, "hi", { txn: { userId: alice, deviceId: D1, txnId: "t1" } });
          const secret = w.build(alice, "m.room.message", { msgtype: "m.text", body: "secret" }, { bumps: true });
          await w.commit(secret);
          await w.put(alice, "m.room.redaction", {}, { redacts: secret.eventId, redaction: { targetEventId: secret.eventId, prunedPdu: { ...secret.pdu, content: {} } } });
          await s1.rooms.setVisibility("!r:test", "public");
          await s1.aliases.create({ alias: "#r:test", roomId: "!r:test", creator: alice });
          high = await s1.streams.highestPosition();
          snapshot = await snap(s1);
        } finally {
          await s1.close();
        }
        const s2 = await loc.open();
        try {
          assert.deepEqual(await snap(s2), snapshot);
          assert.deepEqual((snapshot as { newest: EventRow[] }).newest.map((e) => [e.pdu.type, e.pdu.content, e.redactedBy !== null]), [
            ["m.room.redaction", {}, false],
            ["m.room.message", {}, true],
            ["m.room.message", { body: "hi", msgtype: "m.text" }, false],
          ], "the newest page shows the redaction applied");
          assert.equal(s2.sequencer.retired(), high);
          const next = await s2.events.persist(
            new RoomWriter(s2, "!r:test", "late").build(alice, "m.room.message", { body: "after" }, { bumps: true }),
            T0,
          );
          assert.equal(next, high + 1);
          assert.equal((await s2.rooms.summary("!r:test"))?.bumpPos, next);
        } finally {
          await s2.close();
        }
      } finally {
        await loc.dispose();
      }
    });
  });
}
