/**
 * The storage contract for push: PushStore (rule documents, counts, notifications, pushers)
 * and the push actions EventStore.persist writes with an event. Checked through the Storage
 * interface only; a backend's test file calls pushContract once with a fresh-storage opener.
 * Events are built by hand (fake hashes and signatures): storage checks none of that.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Storage } from "../../src/storage/storage.js";
import type { NewEvent, PushActionRow, PusherRow } from "../../src/storage/rows.js";
import type { Pdu } from "../../src/events/pdu.js";
import type { UserId } from "../../src/events/ids.js";
import { asStreamPos, ORIGIN, type StreamChange, type StreamPos } from "../../src/streams/position.js";

const T0 = 1_700_000_000_000;
const alice = "@alice:test" as UserId;
const bob = "@bob:test" as UserId;
const carol = "@carol:test" as UserId;
const ROOM = "!push:test";
const OTHER = "!other:test";

type Action = Omit<PushActionRow, "eventPos">;

/** Writes events into rooms the way the event writer would, with push actions. */
class Writer {
  private readonly depth = new Map<string, number>();
  private n = 0;
  constructor(private readonly s: Storage) {}

  async put(roomId: string, type: string, content: Record<string, unknown>, opts: { stateKey?: string; actions?: Partial<Action>[]; newRoom?: boolean } = {}): Promise<{ id: string; pos: StreamPos }> {
    const eventId = `$e${++this.n}`;
    const depth = (this.depth.get(roomId) ?? 0) + 1;
    this.depth.set(roomId, depth);
    const pdu: Pdu = {
      room_id: roomId, sender: bob, origin_server_ts: T0 + this.n, type, content, prev_events: [], auth_events: [], depth,
      hashes: { sha256: "x" }, signatures: {}, ...(opts.stateKey !== undefined ? { state_key: opts.stateKey } : {}),
    };
    const pushActions: Action[] = (opts.actions ?? []).map((a) => ({
      userId: alice, roomId, eventId, threadId: "main", notify: true, highlight: false, actions: ["notify"], ts: T0 + this.n, ...a,
    }));
    const ev: NewEvent = {
      eventId, roomId, pdu, newRoom: opts.newRoom ? { roomVersion: "10", creator: bob } : null, txn: null, redaction: null, relation: null,
      summary: {}, bumps: false, pushActions,
    };
    return { id: eventId, pos: await this.s.events.persist(ev, T0) };
  }

  async room(roomId: string): Promise<void> {
    await this.put(roomId, "m.room.create", { room_version: "10", creator: bob }, { stateKey: "", newRoom: true });
  }
}

const pusher = (userId: UserId, extra: Partial<PusherRow> = {}): PusherRow => ({
  userId, appId: "org.example.app", pushkey: "key", kind: "http", appDisplayName: "App", deviceDisplayName: "Phone",
  profileTag: null, lang: "en", data: { url: "https://push.example.org/_matrix/push/v1/notify" }, ...extra,
});

export function pushContract(open: () => Promise<Storage>): void {
  const test = (title: string, fn: (s: Storage) => Promise<void>) =>
    it(title, async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    });

  describe("push storage contract", () => {
    test("rules: null for a user without a document; putRules replaces it and records a push_rules change", async (s) => {
      assert.equal(await s.push.rules(alice), null);
      const heard: StreamChange[] = [];
      s.sequencer.onRetired((c) => heard.push(c));
      const p1 = await s.push.putRules(alice, { v: 1, custom: { room: [{ rule_id: "!r:x" }] } });
      const p2 = await s.push.putRules(alice, { v: 1, defaults: { "override/.m.rule.master": { enabled: true } } });
      assert.ok(p2 > p1 && p1 > ORIGIN);
      assert.deepEqual(await s.push.rules(alice), { v: 1, defaults: { "override/.m.rule.master": { enabled: true } } });
      assert.equal(await s.push.rules(bob), null, "documents are per user");
      const log = await s.streams.read(ORIGIN, await s.streams.highestPosition(), 100);
      assert.deepEqual(log.map((r) => [r.pos, r.kind, r.userId]), [[p1, "push_rules", alice], [p2, "push_rules", alice]]);
      assert.deepEqual(heard.map((c) => [c.pos, c.kind, c.userIds]), [[p1, "push_rules", [alice]], [p2, "push_rules", [alice]]]);
    });

    test("persist writes push actions at the event's position; counts sum them per thread after a position", async (s) => {
      const w = new Writer(s);
      await w.room(ROOM);
      await w.room(OTHER);
      const e1 = await w.put(ROOM, "m.room.message", { body: "1" }, { actions: [{}, { userId: carol }] });
      const e2 = await w.put(ROOM, "m.room.message", { body: "2" }, { actions: [{ highlight: true }] });
      await w.put(ROOM, "m.room.message", { body: "3" }, { actions: [{ threadId: "$root" }, { threadId: "$root", userId: carol, highlight: true }] });
      await w.put(ROOM, "m.room.message", { body: "4" }, { actions: [{ threadId: "$root", highlight: true }] });
      await w.put(ROOM, "m.room.message", { body: "5" }, { actions: [{ notify: false }] });
      await w.put(OTHER, "m.room.message", { body: "x" }, { actions: [{ roomId: OTHER }] });

      const sorted = (rows: { threadId: string; notify: number; highlight: number }[]) => [...rows].sort((a, b) => a.threadId.localeCompare(b.threadId));
      assert.deepEqual(sorted(await s.push.counts(alice, ROOM, ORIGIN)), [
        { threadId: "$root", notify: 2, highlight: 1 },
        { threadId: "main", notify: 2, highlight: 1 },
      ]);
      assert.deepEqual(sorted(await s.push.counts(carol, ROOM, ORIGIN)), [
        { threadId: "$root", notify: 1, highlight: 1 },
        { threadId: "main", notify: 1, highlight: 0 },
      ]);
      assert.deepEqual(sorted(await s.push.counts(alice, ROOM, e1.pos)), [
        { threadId: "$root", notify: 2, highlight: 1 },
        { threadId: "main", notify: 1, highlight: 1 },
      ], "events at or before `after` are read");
      assert.deepEqual(sorted(await s.push.counts(alice, ROOM, e2.pos)), [{ threadId: "$root", notify: 2, highlight: 1 }]);
      assert.deepEqual(await s.push.counts(alice, OTHER, ORIGIN), [{ threadId: "main", notify: 1, highlight: 0 }]);
      assert.deepEqual(await s.push.counts(bob, ROOM, ORIGIN), []);
    });

    test("counts: a thread's own bound hides that thread's older events only", async (s) => {
      const w = new Writer(s);
      await w.room(ROOM);
      const t1 = await w.put(ROOM, "m.room.message", { body: "t1" }, { actions: [{ threadId: "$a" }] });
      await w.put(ROOM, "m.room.message", { body: "m1" }, { actions: [{}] });
      await w.put(ROOM, "m.room.message", { body: "t2" }, { actions: [{ threadId: "$a", highlight: true }] });
      await w.put(ROOM, "m.room.message", { body: "b1" }, { actions: [{ threadId: "$b" }] });
      const bounds = new Map<string, StreamPos>([["$a", t1.pos], ["$b", asStreamPos(t1.pos + 100)]]);
      const rows = await s.push.counts(alice, ROOM, ORIGIN, bounds);
      assert.deepEqual([...rows].sort((a, b) => a.threadId.localeCompare(b.threadId)), [
        { threadId: "$a", notify: 1, highlight: 1 },
        { threadId: "main", notify: 1, highlight: 0 },
      ]);
    });

    test("notifications: newest first, paged by position, highlights only on request, every field kept", async (s) => {
      const w = new Writer(s);
      await w.room(ROOM);
      await w.room(OTHER);
      const tweak = { set_tweak: "sound", value: "default" };
      const a = await w.put(ROOM, "m.room.message", { body: "a" }, { actions: [{ actions: ["notify", tweak] }] });
      const b = await w.put(OTHER, "m.room.message", { body: "b" }, { actions: [{ roomId: OTHER, highlight: true, threadId: "$t" }] });
      const c = await w.put(ROOM, "m.room.message", { body: "c" }, { actions: [{}, { userId: carol }] });
      await w.put(ROOM, "m.room.message", { body: "d" }, { actions: [{ notify: false }] });

      const all = await s.push.notifications(alice, null, 10, false);
      assert.deepEqual(all.map((r) => r.eventId), [c.id, b.id, a.id]);
      assert.deepEqual(all[2], { userId: alice, roomId: ROOM, eventId: a.id, eventPos: a.pos, threadId: "main", notify: true, highlight: false, actions: ["notify", tweak], ts: all[2]!.ts });
      assert.equal(typeof all[2]!.ts, "number");
      assert.deepEqual((await s.push.notifications(alice, null, 2, false)).map((r) => r.eventId), [c.id, b.id]);
      assert.deepEqual((await s.push.notifications(alice, b.pos, 2, false)).map((r) => r.eventId), [a.id], "beforePos excludes itself");
      const high = await s.push.notifications(alice, null, 10, true);
      assert.deepEqual(high.map((r) => [r.eventId, r.roomId, r.threadId, r.highlight]), [[b.id, OTHER, "$t", true]]);
      assert.deepEqual((await s.push.notifications(carol, null, 10, false)).map((r) => r.eventId), [c.id]);
    });

    test("a failed persist leaves no push actions behind", async (s) => {
      const w = new Writer(s);
      await w.room(ROOM);
      await w.put(ROOM, "m.room.message", { body: "ok" }, { actions: [{}] });
      // A second room row for the same room id fails inside the transaction.
      await assert.rejects(w.put(ROOM, "m.room.create", {}, { stateKey: "", newRoom: true, actions: [{ highlight: true }] }));
      assert.deepEqual(await s.push.counts(alice, ROOM, ORIGIN), [{ threadId: "main", notify: 1, highlight: 0 }]);
      assert.equal((await s.push.notifications(alice, null, 10, false)).length, 1);
    });

    test("pushers: set, replace, list in (app id, pushkey) order, delete", async (s) => {
      assert.deepEqual(await s.push.pushers(alice), []);
      await s.push.setPusher(pusher(alice, { pushkey: "k2" }), false);
      await s.push.setPusher(pusher(alice, { pushkey: "k1", profileTag: "tag" }), false);
      await s.push.setPusher(pusher(alice, { pushkey: "k2", lang: "fr", data: { url: "u", n: 1 } }), false);
      assert.deepEqual(await s.push.pushers(alice), [
        pusher(alice, { pushkey: "k1", profileTag: "tag" }),
        pusher(alice, { pushkey: "k2", lang: "fr", data: { url: "u", n: 1 } }),
      ]);
      assert.equal(await s.push.deletePusher(alice, "org.example.app", "k1"), true);
      assert.equal(await s.push.deletePusher(alice, "org.example.app", "k1"), false);
      assert.equal(await s.push.deletePusher(bob, "org.example.app", "k2"), false, "only the owner's pusher");
      assert.deepEqual((await s.push.pushers(alice)).map((p) => p.pushkey), ["k2"]);
    });

    test("pushers: append false takes the (app id, pushkey) away from other users; append true shares it", async (s) => {
      await s.push.setPusher(pusher(alice), false);
      await s.push.setPusher(pusher(bob), true);
      assert.equal((await s.push.pushers(alice)).length, 1);
      assert.equal((await s.push.pushers(bob)).length, 1);
      await s.push.setPusher(pusher(carol), false);
      assert.deepEqual(await s.push.pushers(alice), []);
      assert.deepEqual(await s.push.pushers(bob), []);
      assert.equal((await s.push.pushers(carol)).length, 1);
      await s.push.setPusher(pusher(carol, { appId: "other" }), false);
      assert.equal((await s.push.pushers(carol)).length, 2, "another app id is another pusher");
    });
  });
}
