/**
 * /sync lazy-loading without redundant members (src/sync/v2/sent-members.ts): a device is sent
 * a timeline sender's membership once, not again with that sender's later messages; again
 * when the membership changes (a new member event), with `include_redundant_members: true`,
 * to another device of the user, after an initial or full_state sync, and after a response
 * the client never acknowledged; also through a long-poll. Every suite runs with incremental syncs in linear and in
 * polylog mode; every response is checked against sync.yaml (sync-helpers.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom, loginNewDevice } from "./room-helpers.js";
import { bodies, mustJoined, parked, send, setState, sync, type SyncRoom } from "./sync-helpers.js";

/** Lazy-loading, redundant members left out (the default), timeline of `limit` events. */
const lazy = (limit = 10) => ({ room: { state: { lazy_load_members: true }, timeline: { limit } } });
const redundant = { room: { state: { lazy_load_members: true, include_redundant_members: true } } };

/** The member events of a room's classic `state`, as "user → event id". */
function membersInState(room: SyncRoom): Record<string, string> {
  return Object.fromEntries((room.state?.events ?? []).filter((e) => e.type === "m.room.member").map((e) => [e.state_key!, e.event_id]));
}

const MODES = [
  { label: "linear", config: {} },
  { label: "polylog", config: { sync: { linearMaxDelta: 0 } } },
];

for (const mode of MODES) {
  describe(`sync lazy-loaded members without redundant ones (${mode.label})`, () => {
    let server: TestServer;
    let base: string;
    let counter = 0;
    const user = (name: string) => registerUser(base, `${name}${++counter}`);

    before(async () => {
      server = await startServer(mode.config);
      base = server.baseUrl;
    });
    after(async () => {
      await server.close();
    });

    /**
     * A named room (no heroes) of `reader` and `speakers`, the last event reader's own; and
     * reader's initial sync with a timeline of one event, so no speaker's membership is sent yet.
     */
    async function setUp(reader: TestUser, ...speakers: TestUser[]): Promise<{ roomId: string; token: string }> {
      const roomId = await createRoom(base, reader, { preset: "public_chat", name: "Lazy" });
      for (const s of speakers) await joinRoom(base, s, roomId);
      await send(base, reader, roomId, "hello");
      const initial = await sync(base, reader, { filter: lazy(1) });
      for (const s of speakers) assert.equal(membersInState(mustJoined(initial, roomId))[s.userId], undefined, "no speaker's membership yet");
      return { roomId, token: initial.next_batch };
    }

    it("a sender's membership comes once, not again with the same sender's later messages", async () => {
      const [alice, bob] = [await user("alice"), await user("bob")];
      const { roomId, token } = await setUp(alice, bob);
      await send(base, bob, roomId, "one");
      const first = await sync(base, alice, { since: token, filter: lazy() });
      const room1 = mustJoined(first, roomId);
      assert.deepEqual(bodies(room1), ["one"]);
      assert.deepEqual(Object.keys(membersInState(room1)), [bob.userId], "owed with bob's first message");

      let since = first.next_batch;
      for (const text of ["two", "three"]) {
        await send(base, bob, roomId, text);
        const body = await sync(base, alice, { since, filter: lazy() });
        const room = mustJoined(body, roomId);
        assert.deepEqual(bodies(room), [text]);
        assert.deepEqual(membersInState(room), {}, `"${text}": the device has bob's membership already`);
        since = body.next_batch;
      }
    });

    it("a long-poll woken by the sender's next message does not repeat the membership either", async () => {
      const [alice, bob] = [await user("alice"), await user("bob")];
      const { roomId, token } = await setUp(alice, bob);
      await send(base, bob, roomId, "one");
      const first = await sync(base, alice, { since: token, filter: lazy() });
      assert.ok(membersInState(mustJoined(first, roomId))[bob.userId]);
      const waiting = sync(base, alice, { since: first.next_batch, filter: lazy(), timeout: 10_000 });
      await parked(server);
      await send(base, bob, roomId, "two");
      const room = mustJoined(await waiting, roomId);
      assert.deepEqual(bodies(room), ["two"]);
      assert.deepEqual(membersInState(room), {});
    });

    it("a new member event (displayname change) is sent again; then not any more", async () => {
      const [alice, bob] = [await user("alice"), await user("bob")];
      const { roomId, token } = await setUp(alice, bob);
      await send(base, bob, roomId, "one");
      const first = await sync(base, alice, { since: token, filter: lazy() });
      const joinId = membersInState(mustJoined(first, roomId))[bob.userId];
      assert.ok(joinId);

      // The rename out of sight (a timeline of one event): the new member event comes in state.
      const renamed = await setState(base, bob, roomId, "m.room.member", bob.userId, { membership: "join", displayname: "Bobby" });
      await send(base, bob, roomId, "as Bobby");
      const second = await sync(base, alice, { since: first.next_batch, filter: lazy(1) });
      const room2 = mustJoined(second, roomId);
      assert.deepEqual(bodies(room2), ["as Bobby"]);
      assert.equal(membersInState(room2)[bob.userId], renamed, "the new member event");

      await send(base, bob, roomId, "still Bobby");
      const third = await sync(base, alice, { since: second.next_batch, filter: lazy() });
      assert.deepEqual(membersInState(mustJoined(third, roomId)), {});

      // A rename the timeline carries reaches the client there: not repeated later either.
      const again = await setState(base, bob, roomId, "m.room.member", bob.userId, { membership: "join", displayname: "Robert" });
      await send(base, bob, roomId, "as Robert");
      const fourth = await sync(base, alice, { since: third.next_batch, filter: lazy() });
      const room4 = mustJoined(fourth, roomId);
      assert.ok(room4.timeline.events.some((e) => e.event_id === again));
      assert.deepEqual(membersInState(room4), {}, "classic state does not repeat what the timeline carries");
      await send(base, bob, roomId, "still Robert");
      assert.deepEqual(membersInState(mustJoined(await sync(base, alice, { since: fourth.next_batch, filter: lazy() }), roomId)), {});
    });

    it("include_redundant_members: true gets the membership every time", async () => {
      const [alice, bob] = [await user("alice"), await user("bob")];
      const { roomId, token } = await setUp(alice, bob);
      await send(base, bob, roomId, "one");
      let since = (await sync(base, alice, { since: token, filter: lazy() })).next_batch; // bob's membership sent
      for (const text of ["two", "three"]) {
        await send(base, bob, roomId, text);
        const body = await sync(base, alice, { since, filter: redundant });
        assert.ok(membersInState(mustJoined(body, roomId))[bob.userId], `"${text}": redundant members asked for`);
        since = body.next_batch;
      }
      await send(base, bob, roomId, "four");
      assert.deepEqual(membersInState(mustJoined(await sync(base, alice, { since, filter: lazy() }), roomId)), {}, "and not without it");
    });

    it("another device of the same user gets the membership too; each device's memory is its own", async () => {
      const [alice, bob] = [await user("alice"), await user("bob")];
      const { roomId, token } = await setUp(alice, bob);
      await send(base, bob, roomId, "one");
      const laptop1 = await sync(base, alice, { since: token, filter: lazy() });
      assert.ok(membersInState(mustJoined(laptop1, roomId))[bob.userId]);
      await send(base, bob, roomId, "two");
      const laptop2 = await sync(base, alice, { since: laptop1.next_batch, filter: lazy() });
      assert.deepEqual(membersInState(mustJoined(laptop2, roomId)), {});

      const phone = await loginNewDevice(base, alice);
      await send(base, alice, roomId, "new phone"); // the phone's first timeline (of one event) shows only alice
      const phone0 = await sync(base, phone, { filter: lazy(1) });
      assert.equal(membersInState(mustJoined(phone0, roomId))[bob.userId], undefined);
      await send(base, bob, roomId, "three");
      const phone1 = await sync(base, phone, { since: phone0.next_batch, filter: lazy() });
      assert.ok(membersInState(mustJoined(phone1, roomId))[bob.userId], "the phone never had it");

      await send(base, bob, roomId, "four");
      const laptop3 = await sync(base, alice, { since: laptop2.next_batch, filter: lazy() });
      assert.deepEqual(bodies(mustJoined(laptop3, roomId)), ["new phone", "three", "four"]);
      assert.deepEqual(membersInState(mustJoined(laptop3, roomId)), {}, "the phone's initial sync did not reset the laptop");
      const phone2 = await sync(base, phone, { since: phone1.next_batch, filter: lazy() });
      assert.deepEqual(membersInState(mustJoined(phone2, roomId)), {});
    });

    it("an initial or full_state sync starts the device over", async () => {
      const [alice, bob, carol] = [await user("alice"), await user("bob"), await user("carol")];
      const { roomId, token } = await setUp(alice, bob, carol);
      await send(base, carol, roomId, "carol speaks");
      const first = await sync(base, alice, { since: token, filter: lazy() });
      assert.ok(membersInState(mustJoined(first, roomId))[carol.userId]);

      // full_state with a one-event timeline: bob's membership, not carol's.
      await send(base, bob, roomId, "bob speaks");
      const full = await sync(base, alice, { since: first.next_batch, filter: lazy(1), full_state: true });
      const fullMembers = membersInState(mustJoined(full, roomId));
      assert.ok(fullMembers[bob.userId] && !fullMembers[carol.userId]);
      await send(base, carol, roomId, "carol again");
      const afterFull = await sync(base, alice, { since: full.next_batch, filter: lazy() });
      assert.ok(membersInState(mustJoined(afterFull, roomId))[carol.userId], "after full_state, carol's membership is owed again");

      await send(base, bob, roomId, "bob again");
      await sync(base, alice, { since: afterFull.next_batch, filter: lazy() }); // carol's membership acknowledged
      const initial = await sync(base, alice, { filter: lazy(1) });
      assert.ok(membersInState(mustJoined(initial, roomId))[bob.userId]);
      await send(base, carol, roomId, "carol once more");
      const afterInitial = await sync(base, alice, { since: initial.next_batch, filter: lazy() });
      assert.ok(membersInState(mustJoined(afterInitial, roomId))[carol.userId], "after an initial sync, carol's membership is owed again");
    });

    it("a response the client never acknowledged (lost, then retried from the old token) hides nothing", async () => {
      const [alice, bob] = [await user("alice"), await user("bob")];
      const { roomId, token } = await setUp(alice, bob);
      await send(base, bob, roomId, "one");
      const lost = await sync(base, alice, { since: token, filter: lazy() });
      assert.ok(membersInState(mustJoined(lost, roomId))[bob.userId]);
      // The client retries from `token`; by now its timeline of one event shows only alice.
      await send(base, alice, roomId, "alice");
      const retried = await sync(base, alice, { since: token, filter: lazy(1) });
      assert.equal(membersInState(mustJoined(retried, roomId))[bob.userId], undefined);
      await send(base, bob, roomId, "two");
      const next = await sync(base, alice, { since: retried.next_batch, filter: lazy() });
      assert.ok(membersInState(mustJoined(next, roomId))[bob.userId], "the lost response never reached the client");
    });
  });
}
