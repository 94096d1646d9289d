/**
 * /sync rooms sections: rooms.invite (stripped state), rooms.knock, rooms.leave (leave,
 * kick, ban, rejected invite, rooms left since `since` with nothing after the leave),
 * membership changes inside the range (a join brings the full state, a leave moves the
 * room), history visibility for newly joined rooms, summary (heroes, counts) and the
 * notification counts (unread_notifications, unread_thread_notifications).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { V3, createRoom, enc, joinRoom } from "./room-helpers.js";
import {
  act,
  bodies,
  ids,
  leftRoom,
  messages,
  mustJoined,
  mustLeft,
  send,
  setState,
  stateKeys,
  sync,
  type SyncEvent,
} from "./sync-helpers.js";

describe("sync rooms sections", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let counter = 0;
  const fresh = (name: string) => registerUser(base, `${name}${++counter}`);

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
  });
  after(async () => {
    await server.close();
  });

  describe("rooms.invite", () => {
    it("an invite arrives as stripped state: create, join rules, name, the invite and the inviter's member event", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "private_chat", name: "Invite only", topic: "t" });
      const first = await sync(base, bob);
      await act(base, alice, roomId, "invite", { user_id: bob.userId });
      const next = await sync(base, bob, { since: first.next_batch });
      const invite = next.rooms?.invite?.[roomId];
      assert.ok(invite, JSON.stringify(next.rooms));
      const events = invite.invite_state.events;
      for (const e of events) assert.deepEqual(Object.keys(e).sort(), ["content", "sender", "state_key", "type"], "stripped: type, state_key, content, sender only");
      const keys = stateKeys(events as never);
      for (const k of ["m.room.create|", "m.room.join_rules|", "m.room.name|", `m.room.member|${bob.userId}`, `m.room.member|${alice.userId}`]) assert.ok(keys.includes(k), `${k} in ${keys.join()}`);
      const me = events.find((e) => e.type === "m.room.member" && e.state_key === bob.userId)!;
      assert.equal(me.content.membership, "invite");
      assert.equal(me.sender, alice.userId);
      assert.equal(next.rooms?.join?.[roomId], undefined);
      // The initial sync of the invitee shows it too.
      const initial = await sync(base, bob);
      assert.ok(initial.rooms?.invite?.[roomId]);
    });

    it("accepting the invite moves the room to rooms.join with the full state", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "private_chat", name: "Accept" });
      await act(base, alice, roomId, "invite", { user_id: bob.userId });
      const invited = await sync(base, bob);
      assert.ok(invited.rooms?.invite?.[roomId]);
      await joinRoom(base, bob, roomId);
      const joined = await sync(base, bob, { since: invited.next_batch });
      const room = mustJoined(joined, roomId);
      assert.equal(joined.rooms?.invite?.[roomId], undefined);
      const all = [...(room.state?.events ?? []), ...room.timeline.events.filter((e) => e.state_key !== undefined)];
      const keys = new Set(all.map((e) => `${e.type}|${e.state_key}`));
      for (const k of ["m.room.create|", "m.room.power_levels|", "m.room.join_rules|", "m.room.name|", `m.room.member|${alice.userId}`, `m.room.member|${bob.userId}`]) assert.ok(keys.has(k), k);
    });
  });

  describe("rooms.knock", () => {
    it("a knock arrives as knock_state stripped state", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "private_chat", name: "Knock here", initial_state: [{ type: "m.room.join_rules", state_key: "", content: { join_rule: "knock" } }] });
      const first = await sync(base, bob);
      const res = await api(base, "POST", `${V3}/knock/${enc(roomId)}`, { token: bob.accessToken, body: { reason: "let me in" } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const next = await sync(base, bob, { since: first.next_batch });
      const knock = next.rooms?.knock?.[roomId];
      assert.ok(knock, JSON.stringify(next.rooms));
      const keys = stateKeys(knock.knock_state.events as never);
      for (const k of ["m.room.create|", "m.room.join_rules|", "m.room.name|", `m.room.member|${bob.userId}`]) assert.ok(keys.includes(k), `${k} in ${keys.join()}`);
      assert.equal(knock.knock_state.events.find((e) => e.state_key === bob.userId)?.content.membership, "knock");
    });
  });

  describe("rooms.leave", () => {
    async function joinedPair(): Promise<{ bob: TestUser; roomId: string; token: string }> {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      await send(base, alice, roomId, "before");
      return { bob, roomId, token: (await sync(base, bob)).next_batch };
    }

    it("leaving: the room moves to rooms.leave, its timeline ends at the leave and nothing after it leaks", async () => {
      const { bob, roomId, token } = await joinedPair();
      const m1 = await send(base, alice, roomId, "still here");
      await act(base, bob, roomId, "leave");
      for (let i = 0; i < 3; i++) await send(base, alice, roomId, `after leave ${i}`);
      const next = await sync(base, bob, { since: token });
      assert.equal(next.rooms?.join?.[roomId], undefined);
      const room = mustLeft(next, roomId);
      const last = room.timeline.events.at(-1)!;
      assert.equal(last.type, "m.room.member");
      assert.equal(last.state_key, bob.userId);
      assert.equal(last.content.membership, "leave");
      assert.deepEqual(ids(room.timeline.events).slice(0, 1), [m1]);
      assert.ok(!bodies(room).some((b) => String(b).startsWith("after leave")));
      // the following syncs say nothing more about the room
      const later = await sync(base, bob, { since: next.next_batch });
      assert.equal(leftRoom(later, roomId), undefined);
      assert.equal(later.rooms?.join?.[roomId], undefined);
    });

    it("a kick moves the room to rooms.leave with the kick as the last event", async () => {
      const { bob, roomId, token } = await joinedPair();
      await act(base, alice, roomId, "kick", { user_id: bob.userId, reason: "out" });
      const room = mustLeft(await sync(base, bob, { since: token }), roomId);
      const last = room.timeline.events.at(-1)!;
      assert.deepEqual([last.type, last.state_key, last.content.membership, last.sender], ["m.room.member", bob.userId, "leave", alice.userId]);
    });

    it("a ban moves the room to rooms.leave with the ban as the last event", async () => {
      const { bob, roomId, token } = await joinedPair();
      await act(base, alice, roomId, "ban", { user_id: bob.userId });
      await send(base, alice, roomId, "after ban");
      const room = mustLeft(await sync(base, bob, { since: token }), roomId);
      const last = room.timeline.events.at(-1)!;
      assert.deepEqual([last.type, last.state_key, last.content.membership], ["m.room.member", bob.userId, "ban"]);
    });

    it("a rejected invite moves the room to rooms.leave", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      await act(base, alice, roomId, "invite", { user_id: bob.userId });
      const invited = await sync(base, bob);
      await act(base, bob, roomId, "leave");
      const next = await sync(base, bob, { since: invited.next_batch });
      const room = mustLeft(next, roomId);
      assert.equal(room.timeline.events.at(-1)?.content.membership, "leave");
      assert.equal(next.rooms?.invite?.[roomId], undefined);
    });

    it("a room left before `since` does not come back; an initial sync leaves it out (no include_leave)", async () => {
      const { bob, roomId } = await joinedPair();
      await act(base, bob, roomId, "leave");
      const after = await sync(base, bob);
      assert.equal(after.rooms?.leave?.[roomId], undefined);
      assert.equal(after.rooms?.join?.[roomId], undefined);
      await send(base, alice, roomId, "nobody hears");
      const next = await sync(base, bob, { since: after.next_batch });
      assert.equal(next.rooms, undefined, JSON.stringify(next.rooms));
    });

    it("an initial sync without include_leave still lists rooms the user was kicked or banned from (as Synapse); not their own leaves", async () => {
      const bob = await fresh("bob");
      const kicked = await createRoom(base, alice, { preset: "public_chat", name: "Kicked" });
      const banned = await createRoom(base, alice, { preset: "public_chat", name: "Banned" });
      const left = await createRoom(base, alice, { preset: "public_chat", name: "Left" });
      const rejected = await createRoom(base, alice, { preset: "private_chat", name: "Rejected" });
      const withdrawn = await createRoom(base, alice, { preset: "private_chat", name: "Withdrawn" });
      for (const r of [kicked, banned, left]) await joinRoom(base, bob, r);
      for (const r of [rejected, withdrawn]) await act(base, alice, r, "invite", { user_id: bob.userId });
      await send(base, alice, kicked, "before the kick");
      await act(base, alice, kicked, "kick", { user_id: bob.userId, reason: "out" });
      await send(base, alice, kicked, "after the kick");
      await act(base, alice, banned, "ban", { user_id: bob.userId });
      await act(base, bob, left, "leave");
      await act(base, bob, rejected, "leave");
      await act(base, alice, withdrawn, "kick", { user_id: bob.userId }); // the invite withdrawn: a leave bob did not send

      const initial = await sync(base, bob);
      assert.deepEqual(Object.keys(initial.rooms?.leave ?? {}).sort(), [banned, kicked, withdrawn].sort());
      assert.equal(initial.rooms?.join, undefined);
      const room = mustLeft(initial, kicked);
      const last = room.timeline.events.at(-1)!;
      assert.deepEqual([last.type, last.state_key, last.content.membership, last.sender], ["m.room.member", bob.userId, "leave", alice.userId], "the timeline ends at the kick");
      assert.ok(bodies(room).includes("before the kick"));
      assert.ok(!bodies(room).includes("after the kick"));
      const covered = stateKeys([...(room.state?.events ?? []), ...room.timeline.events.filter((e) => e.state_key !== undefined)]);
      for (const k of ["m.room.create|", "m.room.name|", `m.room.member|${alice.userId}`]) assert.ok(covered.includes(k), `${k}: the room's state, as in any initial sync`);
      assert.equal(mustLeft(initial, banned).timeline.events.at(-1)?.content.membership, "ban");
      // include_leave adds the user's own leaves
      const all = await sync(base, bob, { filter: { room: { include_leave: true } } });
      assert.deepEqual(Object.keys(all.rooms?.leave ?? {}).sort(), [banned, kicked, left, rejected, withdrawn].sort());
      // an incremental sync (full_state or not) lists a kick only in the range it happened, as any leave
      for (const full_state of [false, true]) {
        const next = await sync(base, bob, { since: initial.next_batch, full_state });
        assert.equal(next.rooms?.leave, undefined, JSON.stringify(next.rooms));
      }
      // a forgotten room is gone, kick or not
      await act(base, bob, kicked, "forget");
      assert.equal((await sync(base, bob)).rooms?.leave?.[kicked], undefined);
    });

    it("leaving with use_state_after: the left room carries state_after, never state", async () => {
      const { bob, roomId, token } = await joinedPair();
      await act(base, bob, roomId, "leave");
      const next = await sync(base, bob, { since: token, use_state_after: true });
      const room = mustLeft(next, roomId);
      assert.ok(room.state_after);
      assert.ok(stateKeys(room.state_after.events).includes(`m.room.member|${bob.userId}`), "the leave is a state change up to the end of the timeline");
    });
  });

  describe("membership changes inside the range", () => {
    it("a join gives the room's full state (state at the timeline's start), limited", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat", name: "Full state", topic: "topic" });
      for (let i = 0; i < 5; i++) await send(base, alice, roomId, `old ${i}`);
      const first = await sync(base, bob);
      await joinRoom(base, bob, roomId);
      const next = await sync(base, bob, { since: first.next_batch, filter: { room: { timeline: { limit: 2 } } } });
      const room = mustJoined(next, roomId);
      assert.equal(room.timeline.limited, true);
      const current = await api<{ type: string; state_key: string }[]>(base, "GET", `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken });
      const timelineState = room.timeline.events.filter((e) => e.state_key !== undefined);
      const covered = new Set([...(room.state?.events ?? []), ...timelineState].map((e) => `${e.type}|${e.state_key}`));
      for (const e of current.body) assert.ok(covered.has(`${e.type}|${e.state_key}`), `${e.type}|${e.state_key}`);
      // and state holds the state at the timeline's start: it does not contain bob's own join (in the timeline)
      assert.ok(!ids(room.state?.events).some((id) => ids(room.timeline.events).includes(id)));
    });

    it("a leave inside the range moves the room from join to leave in the same response", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      const first = await sync(base, bob);
      await joinRoom(base, bob, roomId);
      const said = await send(base, bob, roomId, "hello and goodbye");
      await act(base, bob, roomId, "leave");
      const next = await sync(base, bob, { since: first.next_batch });
      assert.equal(next.rooms?.join?.[roomId], undefined);
      const room = mustLeft(next, roomId);
      assert.ok(ids(room.timeline.events).includes(said));
      assert.equal(room.timeline.events.at(-1)?.content.membership, "leave");
    });
  });

  describe("rejoins and gaps in what the user may see (found by sync-property)", () => {
    const joinedOnly = [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "joined" } }];

    it("a leave and a rejoin inside one range: newly joined, with the state changed while the user was out", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat", initial_state: joinedOnly });
      await joinRoom(base, bob, roomId);
      const first = await sync(base, bob);
      const before = ids(mustJoined(first, roomId).timeline.events);
      await act(base, bob, roomId, "leave");
      const topic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "changed while bob was out" });
      await joinRoom(base, bob, roomId);
      const room = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId);
      assert.equal(room.timeline.limited, true);
      assert.ok(!ids(room.timeline.events).some((id) => before.includes(id)), "nothing the client had is sent again");
      assert.equal(room.state?.events.find((e) => e.type === "m.room.topic")?.event_id, topic, "the hidden topic change comes as state");
    });

    it("a newly joined room whose history hides state changes: state plus timeline give the current state", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" }); // shared at first: the creation events are visible
      await setState(base, alice, roomId, "m.room.history_visibility", "", { history_visibility: "joined" });
      const topic = await setState(base, alice, roomId, "m.room.topic", "", { topic: "hidden from bob" });
      const first = await sync(base, bob);
      await joinRoom(base, bob, roomId);
      const room = mustJoined(await sync(base, bob, { since: first.next_batch, filter: { room: { timeline: { limit: 20 } } } }), roomId);
      // The timeline starts at bob's join, not at the visible creation events before the hidden part.
      assert.equal(room.timeline.events[0]?.state_key, bob.userId);
      assert.equal(room.state?.events.find((e) => e.type === "m.room.topic")?.event_id, topic);
      // and prev_batch leads back to the visible events before the hidden ones
      const back = await messages(base, bob, roomId, { dir: "b", from: room.timeline.prev_batch!, limit: "50" });
      assert.ok(back.chunk.some((e) => e.type === "m.room.create"));
      assert.ok(!back.chunk.some((e) => e.event_id === topic));
    });

    it("rejoining a room left before `since`: the timeline does not repeat what the client had", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const had = await send(base, alice, roomId, "bob saw this");
      await act(base, bob, roomId, "leave");
      const left = await sync(base, bob);
      const missed = await send(base, alice, roomId, "while bob was away");
      await joinRoom(base, bob, roomId);
      const room = mustJoined(await sync(base, bob, { since: left.next_batch }), roomId);
      const got = ids(room.timeline.events);
      assert.ok(!got.includes(had), "an event from before the leave is not sent again");
      assert.ok(got.includes(missed), "history 'shared': what was said while away is visible after the rejoin");
      assert.equal(room.timeline.limited, true);
    });

    it("a rejected invite under history 'invited': the left room's timeline has what the user saw while invited", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "private_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "invited" } }] });
      await act(base, alice, roomId, "invite", { user_id: bob.userId });
      const seen = await send(base, alice, roomId, "for the invitee");
      const invited = await sync(base, bob); // the client holds the room as an invite: no timeline
      assert.ok(invited.rooms?.invite?.[roomId]);
      await act(base, bob, roomId, "leave");
      const room = mustLeft(await sync(base, bob, { since: invited.next_batch }), roomId);
      const got = ids(room.timeline.events);
      assert.ok(got.includes(seen), JSON.stringify(bodies(room)));
      assert.equal(room.timeline.events.at(-1)?.content.membership, "leave");
    });

    it("joining and leaving inside one range: the left room comes with its state and a limited timeline", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat", name: "In and out" });
      const first = await sync(base, bob);
      await joinRoom(base, bob, roomId);
      await act(base, bob, roomId, "leave");
      const room = mustLeft(await sync(base, bob, { since: first.next_batch }), roomId);
      assert.equal(room.timeline.limited, true);
      const covered = new Set([...(room.state?.events ?? []), ...room.timeline.events.filter((e) => e.state_key !== undefined)].map((e) => `${e.type}|${e.state_key}`));
      for (const k of ["m.room.create|", "m.room.name|", `m.room.member|${alice.userId}`]) assert.ok(covered.has(k), k);
    });
  });

  describe("history visibility", () => {
    it("joined: events before the join are not in the newly joined room's timeline, nor reachable by prev_batch", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "joined" } }] });
      for (let i = 0; i < 3; i++) await send(base, alice, roomId, `secret ${i}`);
      const first = await sync(base, bob);
      await joinRoom(base, bob, roomId);
      const visible = await send(base, alice, roomId, "welcome");
      for (const p of [{ since: first.next_batch }, {}]) {
        const room = mustJoined(await sync(base, bob, p), roomId);
        assert.ok(!bodies(room).some((b) => String(b).startsWith("secret")), JSON.stringify(bodies(room)));
        assert.deepEqual(bodies(room), ["welcome"]);
        assert.ok(ids(room.timeline.events).includes(visible));
        if (room.timeline.prev_batch) {
          const back = await messages(base, bob, roomId, { dir: "b", from: room.timeline.prev_batch, limit: "50" });
          assert.ok(!back.chunk.some((e) => String(e.content.body ?? "").startsWith("secret")));
        }
      }
    });

    it("shared: events before the join are visible to the newly joined member", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await send(base, alice, roomId, "history");
      const first = await sync(base, bob);
      await joinRoom(base, bob, roomId);
      const room = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId);
      assert.ok(bodies(room).includes("history"));
    });
  });

  describe("summary", () => {
    it("a room without name or alias: heroes (never the user), joined and invited counts", async () => {
      const bob = await fresh("bob");
      const carol = await fresh("carol");
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      await act(base, alice, roomId, "invite", { user_id: bob.userId });
      await joinRoom(base, bob, roomId);
      await act(base, alice, roomId, "invite", { user_id: carol.userId });
      const summary = mustJoined(await sync(base, bob), roomId).summary!;
      assert.equal(summary["m.joined_member_count"], 2);
      assert.equal(summary["m.invited_member_count"], 1);
      assert.ok(summary["m.heroes"]);
      assert.ok(!summary["m.heroes"].includes(bob.userId));
      assert.deepEqual([...summary["m.heroes"]].sort(), [alice.userId, carol.userId].sort());
    });

    it("a room with a name or a canonical alias: no heroes", async () => {
      const bob = await fresh("bob");
      const named = await createRoom(base, alice, { preset: "public_chat", name: "Named" });
      const aliased = await createRoom(base, alice, { preset: "public_chat", room_alias_name: `aliased${counter}` });
      await joinRoom(base, bob, named);
      await joinRoom(base, bob, aliased);
      const body = await sync(base, bob);
      for (const r of [named, aliased]) {
        const s = mustJoined(body, r).summary!;
        assert.equal(s["m.heroes"], undefined, r);
        assert.equal(s["m.joined_member_count"], 2);
      }
    });

    it("a member count change is in the response that carries the join", async () => {
      const bob = await fresh("bob");
      const dan = await fresh("dan");
      const roomId = await createRoom(base, alice, { preset: "public_chat", name: "Counting" });
      await joinRoom(base, bob, roomId);
      const first = await sync(base, bob);
      await joinRoom(base, dan, roomId);
      const s = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId).summary!;
      assert.equal(s["m.joined_member_count"], 3);
    });

    it("an incremental sync without membership or name changes omits the unchanged counts (the spec allows it; Synapse does the same)", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const first = await sync(base, bob);
      assert.equal(mustJoined(first, roomId).summary?.["m.joined_member_count"], 2, "initial sync: the summary");
      await send(base, alice, roomId, "just talk");
      const quietBody = await sync(base, bob, { since: first.next_batch });
      const quiet = mustJoined(quietBody, roomId);
      assert.deepEqual(bodies(quiet), ["just talk"]);
      assert.deepEqual(quiet.summary ?? {}, {}, "nothing the summary says changed");
      await act(base, alice, roomId, "invite", { user_id: (await fresh("erin")).userId });
      const s = mustJoined(await sync(base, bob, { since: quietBody.next_batch }), roomId).summary!;
      assert.equal(s["m.invited_member_count"], 1, "an invite changes the counts: the summary is back");
      assert.equal(s["m.joined_member_count"], 2);
    });
  });

  describe("notification counts", () => {
    it("unread_notifications counts messages after the read receipt; a mention highlights; a receipt resets", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const first = await sync(base, bob);
      await send(base, alice, roomId, "one");
      const mention = await send(base, alice, roomId, "hey bob", { "m.mentions": { user_ids: [bob.userId] } });
      const next = await sync(base, bob, { since: first.next_batch });
      assert.deepEqual(mustJoined(next, roomId).unread_notifications, { notification_count: 2, highlight_count: 1 });
      const r = await api(base, "POST", `${V3}/rooms/${enc(roomId)}/receipt/m.read/${enc(mention)}`, { token: bob.accessToken, body: {} });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const read = await sync(base, bob, { since: next.next_batch });
      assert.deepEqual(mustJoined(read, roomId).unread_notifications, { notification_count: 0, highlight_count: 0 }, "the receipt's response carries the new counts");
    });

    it("unread_thread_notifications (filter flag): thread counts apart from the main timeline; without the flag they fold in", async () => {
      const bob = await fresh("bob");
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const root = await send(base, alice, roomId, "root");
      await send(base, alice, roomId, "in thread 1", { "m.relates_to": { rel_type: "m.thread", event_id: root } });
      await send(base, alice, roomId, "in thread 2", { "m.relates_to": { rel_type: "m.thread", event_id: root } });
      const threaded = mustJoined(await sync(base, bob, { filter: { room: { timeline: { unread_thread_notifications: true } } } }), roomId);
      assert.deepEqual(threaded.unread_notifications, { notification_count: 1, highlight_count: 0 });
      assert.deepEqual(threaded.unread_thread_notifications, { [root]: { notification_count: 2, highlight_count: 0 } });
      const folded = mustJoined(await sync(base, bob), roomId);
      assert.deepEqual(folded.unread_notifications, { notification_count: 3, highlight_count: 0 });
      assert.equal(folded.unread_thread_notifications, undefined);
    });
  });

  it("every event in a joined room's timeline is a ClientEventWithoutRoomID with the required fields", async () => {
    const bob = await fresh("bob");
    const roomId = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, bob, roomId);
    await setState(base, alice, roomId, "m.room.topic", "", { topic: "x" });
    const room = mustJoined(await sync(base, bob), roomId);
    for (const e of [...room.timeline.events, ...(room.state?.events ?? [])] as SyncEvent[]) {
      for (const k of ["event_id", "type", "sender", "origin_server_ts", "content"]) assert.ok(k in e, `${k} in ${JSON.stringify(e)}`);
      assert.equal("room_id" in e, false);
    }
  });
});
