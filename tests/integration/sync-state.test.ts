/**
 * /sync room state: classic `state` (state at the start of the timeline; for a limited
 * incremental sync, the state changed in the gap), MSC4222 `state_after` under its stable
 * and unstable names (never beside `state`), and `limited` + `prev_batch` that /messages
 * continues from with no gap and no duplicate.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom } from "./room-helpers.js";
import { ids, messages, mustJoined, send, setState, stateKeys, sync, type SyncEvent, type SyncRoom } from "./sync-helpers.js";

describe("sync state and timeline gaps", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let counter = 0;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
  });
  after(async () => {
    await server.close();
  });

  async function sharedRoom(): Promise<string> {
    const roomId = await createRoom(base, alice, { preset: "public_chat", name: `State ${++counter}` });
    await joinRoom(base, bob, roomId);
    return roomId;
  }

  describe("state_after (MSC4222)", () => {
    it("use_state_after=true: state_after (never state); a new state event is in the timeline and in state_after", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob, { use_state_after: true });
      const topic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "after" });
      const next = await sync(base, bob, { since: first.next_batch, use_state_after: true });
      const room = mustJoined(next, roomId);
      assert.ok(ids(room.timeline.events).includes(topic));
      assert.deepEqual(ids(room.state_after?.events), [topic]);
    });

    it("use_state_after=true on a message-only incremental sync: state_after present and empty", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob, { use_state_after: true });
      await send(base, alice, roomId, "just text");
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, use_state_after: true }), roomId);
      assert.deepEqual(room.state_after, { events: [] });
    });

    it("org.matrix.msc4222.use_state_after=true answers in org.matrix.msc4222.state_after", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob, { unstable_state_after: true });
      const topic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "unstable" });
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, unstable_state_after: true }), roomId);
      assert.deepEqual(ids(room["org.matrix.msc4222.state_after"]?.events), [topic]);
    });

    it("both parameters: one field only, the unstable one", async () => {
      const roomId = await sharedRoom();
      const body = await sync(base, bob, { use_state_after: true, unstable_state_after: true });
      const room = mustJoined(body, roomId);
      assert.ok(room["org.matrix.msc4222.state_after"]);
      assert.equal(room.state_after, undefined);
      assert.equal(room.state, undefined);
    });

    it("initial sync: state_after is the full state at the end of the timeline", async () => {
      const roomId = await sharedRoom();
      await setState(base, alice, roomId, "m.room.topic", "", { topic: "end" });
      const room = mustJoined(await sync(base, bob, { use_state_after: true }), roomId);
      const current = await server.app.services.storage.rooms.currentState(roomId);
      assert.deepEqual(ids(room.state_after?.events).sort(), current.map((r) => r.eventId).sort());
    });

    it("a limited incremental sync: state_after holds every change from since to the end of the timeline", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob, { use_state_after: true });
      const gapTopic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "in the gap" });
      for (let i = 0; i < 5; i++) await send(base, alice, roomId, `gap ${i}`);
      const avatar = await setState(base, alice, roomId, "m.room.name", "", { name: "renamed in timeline" });
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, use_state_after: true, filter: { room: { timeline: { limit: 2 } } } }), roomId);
      assert.equal(room.timeline.limited, true);
      assert.deepEqual(ids(room.state_after?.events).sort(), [gapTopic, avatar].sort());
    });
  });

  describe("classic state", () => {
    it("not limited: state is empty; the state change is in the timeline only", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob);
      await setState(base, alice, roomId, "m.room.topic", "", { topic: "in timeline" });
      const room = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId);
      assert.equal(room.timeline.limited, false);
      assert.deepEqual(room.state?.events ?? [], []);
    });

    it("a state change the timeline filter leaves out comes as state (state at the end wins where the window changed it)", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob);
      const m1 = await send(base, alice, roomId, "before the change");
      const topic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "filtered out of the timeline" });
      const m2 = await send(base, alice, roomId, "after the change");
      const filter = { room: { timeline: { types: ["m.room.message"] } } };
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter }), roomId);
      assert.deepEqual(ids(room.timeline.events), [m1, m2]);
      assert.equal(room.timeline.limited, false);
      assert.deepEqual(ids(room.state?.events), [topic]);
      // an initial sync with the filter too
      const initial = mustJoined(await sync(base, bob, { filter }), roomId);
      assert.equal(initial.state?.events.find((e) => e.type === "m.room.topic")?.event_id, topic);
    });

    it("limited: state holds the state changed in the gap (as of the timeline's start), not what the timeline carries", async () => {
      const roomId = await sharedRoom();
      const carol = await registerUser(base, `carol${++counter}`);
      const first = await sync(base, bob);
      const gapTopic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "gap topic" });
      await joinRoom(base, carol, roomId);
      for (let i = 0; i < 6; i++) await send(base, alice, roomId, `filler ${i}`);
      const timelineTopic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "timeline topic" });
      await send(base, alice, roomId, "last");
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: { room: { timeline: { limit: 3 } } } }), roomId);
      assert.equal(room.timeline.limited, true);
      assert.ok(ids(room.timeline.events).includes(timelineTopic));
      const state = room.state?.events ?? [];
      assert.deepEqual(stateKeys(state), ["m.room.member|" + carol.userId, "m.room.topic|"].sort());
      assert.equal(state.find((e) => e.type === "m.room.topic")?.event_id, gapTopic, "the topic as of the start of the timeline");
    });
  });

  describe("limited and prev_batch", () => {
    /** Back-paginates from `from` until an event of `known` appears; returns the events before it, oldest first. */
    async function fillGap(roomId: string, from: string, known: ReadonlySet<string>): Promise<{ events: SyncEvent[]; hit: string | null }> {
      const out: SyncEvent[] = [];
      let token: string | undefined = from;
      while (token) {
        const page = await messages(base, bob, roomId, { dir: "b", from: token, limit: "4" });
        for (const e of page.chunk) {
          if (known.has(e.event_id)) return { events: out.reverse(), hit: e.event_id };
          out.push(e);
        }
        token = page.end;
      }
      return { events: out.reverse(), hit: null };
    }

    it("a limited incremental sync: back-paginating from prev_batch reaches the last known event with no gap and no duplicate", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob);
      const known = ids(mustJoined(first, roomId).timeline.events);
      const sent: string[] = [];
      for (let i = 0; i < 25; i++) sent.push(await send(base, alice, roomId, `burst ${i}`));
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: { room: { timeline: { limit: 5 } } } }), roomId);
      assert.equal(room.timeline.limited, true);
      assert.deepEqual(ids(room.timeline.events), sent.slice(-5));
      const gap = await fillGap(roomId, room.timeline.prev_batch!, new Set(known));
      assert.equal(gap.hit, known.at(-1), "pagination stops at the newest event the client had");
      assert.deepEqual([...ids(gap.events), ...ids(room.timeline.events)], sent);
    });

    it("a limited initial sync: prev_batch leads to the rest of the room's history, back to its creation", async () => {
      const roomId = await sharedRoom();
      for (let i = 0; i < 12; i++) await send(base, alice, roomId, `hist ${i}`);
      const room: SyncRoom = mustJoined(await sync(base, bob, { filter: { room: { timeline: { limit: 4 } } } }), roomId);
      assert.equal(room.timeline.limited, true);
      const gap = await fillGap(roomId, room.timeline.prev_batch!, new Set());
      const all = [...ids(gap.events), ...ids(room.timeline.events)];
      assert.equal(new Set(all).size, all.length, "no duplicate");
      const everything = await server.app.services.storage.events.inRoom(roomId, { dir: "f", from: null, to: null, limit: 1000 });
      assert.deepEqual(all, everything.map((r) => r.eventId));
      assert.equal(gap.events[0]?.type, "m.room.create");
    });

    it("/messages from prev_batch back to `since` (to=since) returns exactly the gap", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob);
      const sent: string[] = [];
      for (let i = 0; i < 8; i++) sent.push(await send(base, alice, roomId, `to ${i}`));
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: { room: { timeline: { limit: 3 } } } }), roomId);
      const page = await messages(base, bob, roomId, { dir: "b", from: room.timeline.prev_batch!, to: first.next_batch, limit: "100" });
      assert.deepEqual(ids(page.chunk).reverse(), sent.slice(0, 5));
    });

    it("limited with filters: the limit counts only events the filter keeps, and the gap holds the rest", async () => {
      const roomId = await sharedRoom();
      const first = await sync(base, bob);
      const sent: string[] = [];
      for (let i = 0; i < 6; i++) {
        sent.push(await send(base, alice, roomId, `msg ${i}`));
        await setState(base, alice, roomId, "org.example.noise", String(i), { i });
      }
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: { room: { timeline: { limit: 3, types: ["m.room.message"] } } } }), roomId);
      assert.equal(room.timeline.limited, true);
      assert.deepEqual(ids(room.timeline.events), sent.slice(-3));
      const page = await messages(base, bob, roomId, { dir: "b", from: room.timeline.prev_batch!, limit: "100", filter: JSON.stringify({ types: ["m.room.message"] }) });
      assert.deepEqual(ids(page.chunk).slice(0, 3).reverse(), sent.slice(0, 3));
    });
  });
});
