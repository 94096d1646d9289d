/**
 * /sync filters: stored (POST /user/{userId}/filter, then filter=<id>) and inline JSON;
 * timeline limit, types/not_types (with `*`), senders/not_senders, contains_url,
 * rooms/not_rooms, include_leave, state filters, lazy_load_members (with
 * include_redundant_members, gaps and heroes), event_fields and event_format.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom } from "./room-helpers.js";
import {
  act,
  assertSyncError,
  bodies,
  ids,
  mustJoined,
  mustLeft,
  send,
  setState,
  stateKeys,
  sync,
  syncRaw,
  uploadFilter,
  type SyncEvent,
} from "./sync-helpers.js";

describe("sync filters", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;
  let counter = 0;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    carol = await registerUser(base, "carol");
    roomId = await createRoom(base, alice, { preset: "public_chat", name: "Filters" });
    await joinRoom(base, bob, roomId);
    await joinRoom(base, carol, roomId);
    await send(base, alice, roomId, "a1");
    await send(base, carol, roomId, "c1", { url: "mxc://test.local/file" });
    await send(base, alice, roomId, "a2");
    await setState(base, alice, roomId, "org.example.state", "k", { v: 1 });
    await send(base, carol, roomId, "c2");
  });
  after(async () => {
    await server.close();
  });

  it("a stored filter (filter=<id>) applies", async () => {
    const id = await uploadFilter(base, bob, { room: { timeline: { limit: 1 } } });
    assert.ok(!id.startsWith("{"));
    const room = mustJoined(await sync(base, bob, { filter: id }), roomId);
    assert.deepEqual(bodies(room), ["c2"]);
    assert.equal(room.timeline.limited, true);
  });

  it("an inline JSON filter applies", async () => {
    const room = mustJoined(await sync(base, bob, { filter: { room: { timeline: { limit: 2 } } } }), roomId);
    assert.equal(room.timeline.events.length, 2);
    assert.equal(room.timeline.limited, true);
  });

  it("an unknown filter id is 400 M_INVALID_PARAM; inline JSON that does not parse or fit is 400", async () => {
    assertSyncError(await syncRaw(base, bob, { filter: "12345" }), 400, "M_INVALID_PARAM");
    const broken = await syncRaw(base, bob, { filter: "{not json" });
    assert.equal(broken.status, 400, JSON.stringify(broken.body));
    const wrong = await syncRaw(base, bob, { filter: { room: { timeline: { limit: "ten" } } } });
    assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
    assertSyncError(await syncRaw(base, bob, { filter: "no-such-filter" }), 400, "M_INVALID_PARAM");
    // filter ids are per user: one only another user uploaded is unknown here
    const dora = await registerUser(base, `dora${++counter}`);
    const theirs = await uploadFilter(base, carol, { room: { timeline: { limit: 3 } } });
    assertSyncError(await syncRaw(base, dora, { filter: theirs }), 400, "M_INVALID_PARAM");
  });

  it("limit: the newest `limit` events, limited true only when more exist", async () => {
    const five = mustJoined(await sync(base, bob, { filter: { room: { timeline: { limit: 3 } } } }), roomId);
    assert.equal(five.timeline.events.length, 3);
    assert.equal(five.timeline.limited, true);
    const all = mustJoined(await sync(base, bob, { filter: { room: { timeline: { limit: 100 } } } }), roomId);
    assert.equal(all.timeline.limited, false);
    assert.equal(all.timeline.events[0]?.type, "m.room.create");
  });

  it("types and not_types (with `*`) select timeline events; not_types wins", async () => {
    const onlyMessages = mustJoined(await sync(base, bob, { filter: { room: { timeline: { types: ["m.room.mes*"], limit: 50 } } } }), roomId);
    assert.deepEqual(bodies(onlyMessages), ["a1", "c1", "a2", "c2"]);
    assert.ok(onlyMessages.timeline.events.every((e) => e.type === "m.room.message"));
    const noMessages = mustJoined(await sync(base, bob, { filter: { room: { timeline: { not_types: ["m.room.message"], limit: 50 } } } }), roomId);
    assert.ok(noMessages.timeline.events.length > 0);
    assert.ok(noMessages.timeline.events.every((e) => e.type !== "m.room.message"));
    const both = mustJoined(await sync(base, bob, { filter: { room: { timeline: { types: ["m.room.*"], not_types: ["m.room.message", "m.room.member"], limit: 50 } } } }), roomId);
    assert.ok(both.timeline.events.every((e) => e.type.startsWith("m.room.") && e.type !== "m.room.message" && e.type !== "m.room.member"));
  });

  it("senders and not_senders select timeline events", async () => {
    const fromCarol = mustJoined(await sync(base, bob, { filter: { room: { timeline: { senders: [carol.userId], types: ["m.room.message"] } } } }), roomId);
    assert.deepEqual(bodies(fromCarol), ["c1", "c2"]);
    const notAlice = mustJoined(await sync(base, bob, { filter: { room: { timeline: { not_senders: [alice.userId], limit: 50 } } } }), roomId);
    assert.ok(notAlice.timeline.events.every((e) => e.sender !== alice.userId));
  });

  it("contains_url: true keeps events with a url, false those without", async () => {
    const withUrl = mustJoined(await sync(base, bob, { filter: { room: { timeline: { contains_url: true, types: ["m.room.message"] } } } }), roomId);
    assert.deepEqual(bodies(withUrl), ["c1"]);
    const without = mustJoined(await sync(base, bob, { filter: { room: { timeline: { contains_url: false, types: ["m.room.message"] } } } }), roomId);
    assert.deepEqual(bodies(without), ["a1", "a2", "c2"]);
  });

  it("rooms and not_rooms (room filter) pick the rooms; the timeline filter's rooms too", async () => {
    const other = await createRoom(base, bob, { preset: "public_chat", name: `other ${++counter}` });
    const only = await sync(base, bob, { filter: { room: { rooms: [other] } } });
    assert.deepEqual(Object.keys(only.rooms?.join ?? {}), [other]);
    const not = await sync(base, bob, { filter: { room: { not_rooms: [other] } } });
    assert.ok(!(other in (not.rooms?.join ?? {})));
    assert.ok(roomId in (not.rooms?.join ?? {}));
    const none = await sync(base, bob, { filter: { room: { rooms: [] } } });
    assert.equal(none.rooms, undefined, "an empty rooms list matches nothing");
    const timelineRooms = await sync(base, bob, { filter: { room: { timeline: { not_rooms: [other] } } } });
    assert.deepEqual(mustJoined(timelineRooms, other).timeline.events, []);
  });

  it("include_leave: an initial sync shows rooms the user left, with the timeline up to the leave", async () => {
    const dave = await registerUser(base, `dave${++counter}`);
    const left = await createRoom(base, alice, { preset: "public_chat", name: "left" });
    await joinRoom(base, dave, left);
    await send(base, alice, left, "before leave");
    await act(base, dave, left, "leave");
    await send(base, alice, left, "after leave");
    const without = await sync(base, dave);
    assert.equal(without.rooms?.leave?.[left], undefined);
    const withLeave = await sync(base, dave, { filter: { room: { include_leave: true } } });
    const room = mustLeft(withLeave, left);
    assert.equal(room.timeline.events.at(-1)?.content.membership, "leave");
    assert.ok(bodies(room).includes("before leave"));
    assert.ok(!bodies(room).includes("after leave"));
  });

  it("a state filter narrows `state`", async () => {
    const room = mustJoined(await sync(base, bob, { filter: { room: { timeline: { limit: 1 }, state: { types: ["m.room.name", "m.room.create"] } } } }), roomId);
    assert.deepEqual(stateKeys(room.state?.events), ["m.room.create|", "m.room.name|"]);
    const notMembers = mustJoined(await sync(base, bob, { filter: { room: { timeline: { limit: 1 }, state: { not_types: ["m.room.member"] } } } }), roomId);
    assert.ok(!(notMembers.state?.events ?? []).some((e) => e.type === "m.room.member"));
  });

  describe("lazy_load_members", () => {
    const LL = { room: { state: { lazy_load_members: true } } };

    it("initial sync: only the memberships of the timeline's senders and the user's own", async () => {
      const room = mustJoined(await sync(base, bob, { filter: { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } } }), roomId);
      assert.deepEqual(bodies(room), ["c2"]);
      const members = (room.state?.events ?? []).filter((e) => e.type === "m.room.member").map((e) => e.state_key).sort();
      assert.deepEqual(members, [bob.userId, carol.userId].sort());
      assert.ok((room.state?.events ?? []).some((e) => e.type === "m.room.name"), "other state is whole");
    });

    it("incremental: a sender the client never had the membership of comes with it", async () => {
      const dan = await registerUser(base, `dan${++counter}`);
      await joinRoom(base, dan, roomId);
      await send(base, alice, roomId, "between");
      // Timeline limit 1: dan's join is not in the first timeline (a member event the client was given is not sent again).
      const first = await sync(base, bob, { filter: { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } } });
      const said = await send(base, dan, roomId, "dan speaks");
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: LL }), roomId);
      assert.deepEqual(ids(room.timeline.events), [said]);
      assert.equal(room.timeline.limited, false);
      assert.deepEqual((room.state?.events ?? []).map((e) => `${e.type}|${e.state_key}`), [`m.room.member|${dan.userId}`]);
    });

    it("include_redundant_members: the sender's membership comes every time", async () => {
      const filter = { room: { state: { lazy_load_members: true, include_redundant_members: true } } };
      let token = (await sync(base, bob, { filter })).next_batch;
      for (let i = 0; i < 2; i++) {
        await send(base, carol, roomId, `again ${i}`);
        const body = await sync(base, bob, { since: token, filter });
        const room = mustJoined(body, roomId);
        assert.ok((room.state?.events ?? []).some((e) => e.type === "m.room.member" && e.state_key === carol.userId), `round ${i}: ${JSON.stringify(room.state)}`);
        token = body.next_batch;
      }
    });

    it("a limited incremental sync carries the membership changes of the gap even for users who sent nothing", async () => {
      const erin = await registerUser(base, `erin${++counter}`);
      const first = await sync(base, bob, { filter: LL });
      await joinRoom(base, erin, roomId);
      await act(base, erin, roomId, "leave");
      for (let i = 0; i < 5; i++) await send(base, alice, roomId, `gap ${i}`);
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: { room: { state: { lazy_load_members: true }, timeline: { limit: 2 } } } }), roomId);
      assert.equal(room.timeline.limited, true);
      const erinState = (room.state?.events ?? []).find((e) => e.type === "m.room.member" && e.state_key === erin.userId);
      assert.ok(erinState, `erin's join and leave happened in the gap: ${JSON.stringify(room.state)}`);
      assert.equal(erinState.content.membership, "leave");
    });

    it("a room without name or alias: the heroes' memberships are in state", async () => {
      const nameless = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, nameless);
      await joinRoom(base, carol, nameless);
      await send(base, bob, nameless, "only bob talks");
      const room = mustJoined(await sync(base, bob, { filter: { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } } }), nameless);
      const heroes = room.summary?.["m.heroes"] ?? [];
      assert.deepEqual([...heroes].sort(), [alice.userId, carol.userId].sort());
      const members = new Set([...(room.state?.events ?? []), ...room.timeline.events].filter((e) => e.type === "m.room.member").map((e) => e.state_key));
      for (const h of heroes) assert.ok(members.has(h), `hero ${h}'s membership`);
    });

    it("with state_after: the senders' memberships are in state_after", async () => {
      const fay = await registerUser(base, `fay${++counter}`);
      await joinRoom(base, fay, roomId);
      await send(base, alice, roomId, "before fay speaks");
      const first = await sync(base, bob, { filter: { room: { state: { lazy_load_members: true }, timeline: { limit: 1 } } }, use_state_after: true });
      const said = await send(base, fay, roomId, "state after ll");
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: LL, use_state_after: true }), roomId);
      assert.deepEqual(ids(room.timeline.events), [said]);
      assert.ok((room.state_after?.events ?? []).some((e) => e.type === "m.room.member" && e.state_key === fay.userId), JSON.stringify(room.state_after));
    });
  });

  it("event_fields keeps the listed fields (and the ones the event format requires), dropping the rest", async () => {
    const room = mustJoined(await sync(base, bob, { filter: { event_fields: ["content.body"], room: { timeline: { limit: 2, types: ["m.room.message"] } } } }), roomId);
    assert.equal(room.timeline.events.length, 2);
    for (const e of room.timeline.events) {
      assert.deepEqual(Object.keys(e).sort(), ["content", "event_id", "origin_server_ts", "sender", "type"]);
      assert.deepEqual(Object.keys(e.content), ["body"], "content.msgtype was not asked for");
    }
    const state = mustJoined(await sync(base, bob, { filter: { event_fields: ["type", "unsigned"], room: { timeline: { limit: 1 }, state: { types: ["m.room.name"] } } } }), roomId);
    assert.deepEqual(state.state?.events.map((e) => [e.type, e.state_key, e.content]), [["m.room.name", "", {}]]);
  });

  it("event_format federation serves the PDU (auth_events, prev_events, depth, hashes, signatures)", async () => {
    const room = mustJoined(await sync(base, bob, { filter: { event_format: "federation", room: { timeline: { limit: 2 } } } }), roomId);
    for (const e of room.timeline.events as SyncEvent[]) {
      for (const k of ["auth_events", "prev_events", "depth", "hashes", "signatures", "room_id", "sender", "type", "content"]) assert.ok(k in e, `${k} in ${JSON.stringify(e)}`);
    }
    const client = mustJoined(await sync(base, bob, { filter: { event_format: "client", room: { timeline: { limit: 2 } } } }), roomId);
    for (const e of client.timeline.events) assert.ok(!("auth_events" in e));
  });
});
