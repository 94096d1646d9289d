/**
 * m.ignored_user_list (spec client-server "Ignoring Users"), as Synapse applies it
 * (synapse/visibility.py, synapse/handlers/sync.py): the non-state events of ignored users
 * are withheld from /sync timelines (initial, incremental, long-poll; in linear and polylog
 * mode) and from /messages, /context, /event and /relations; their state events still
 * arrive; their invites are not shown; typing, receipts and to-device messages are not
 * filtered. A change of the list resends nothing to incremental syncs. Every 200 is checked
 * against the spec's OpenAPI documents.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, createRoom, enc, joinRoom, sendMessage } from "./room-helpers.js";
import {
  act,
  bodies,
  checkSyncBody,
  countComputations,
  holdComputations,
  ids,
  joinedRoom,
  messages,
  mustJoined,
  parked,
  send,
  setState,
  sync,
  syncRaw,
  waitUntil,
  type SyncBody,
  type SyncEvent,
} from "./sync-helpers.js";

const V1 = "/_matrix/client/v1";

for (const linearMaxDelta of [1024, 0]) {
  describe(`sync and reads with m.ignored_user_list (linearMaxDelta ${linearMaxDelta})`, () => {
    let server: TestServer;
    let base: string;
    let alice: TestUser;
    let counter = 0;
    const fresh = (name: string) => registerUser(base, `${name}${++counter}`);

    before(async () => {
      server = await startServer({ sync: { linearMaxDelta, timeoutMaxMs: 20_000 } });
      base = server.baseUrl;
      alice = await registerUser(base, "alice");
    });
    after(async () => {
      await server.close();
    });

    async function ignore(user: TestUser, ...others: TestUser[]): Promise<void> {
      const ignored_users = Object.fromEntries(others.map((o) => [o.userId, {}]));
      const res = await api(base, "PUT", `${V3}/user/${enc(user.userId)}/account_data/m.ignored_user_list`, { token: user.accessToken, body: { ignored_users } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }

    /** A public room of alice's that bob (who will ignore carol) and carol (the ignored one) joined. */
    async function trio(opts: { ignoreNow?: boolean } = {}): Promise<{ bob: TestUser; carol: TestUser; roomId: string }> {
      const bob = await fresh("bob");
      const carol = await fresh("carol");
      // state_default 0: carol may send state events too
      const roomId = await createRoom(base, alice, { preset: "public_chat", name: "Trio", power_level_content_override: { state_default: 0 } });
      await joinRoom(base, bob, roomId);
      await joinRoom(base, carol, roomId);
      if (opts.ignoreNow !== false) await ignore(bob, carol);
      return { bob, carol, roomId };
    }

    const senders = (events: readonly SyncEvent[]) => new Set(events.map((e) => e.sender));
    const messagesOf = (events: readonly SyncEvent[], sender: string) => events.filter((e) => e.sender === sender && e.state_key === undefined);

    describe("/sync timelines", () => {
      it("initial and incremental syncs drop the ignored user's messages and keep their state events", async () => {
        const { bob, carol, roomId } = await trio();
        const hidden = await send(base, carol, roomId, "from carol");
        const shown = await send(base, alice, roomId, "from alice");
        const topic = await setState(base, carol, roomId, "m.room.topic", "", { topic: "carol's topic" });
        const initial = mustJoined(await sync(base, bob), roomId);
        assert.ok(!ids(initial.timeline.events).includes(hidden), JSON.stringify(bodies(initial)));
        assert.ok(ids(initial.timeline.events).includes(shown));
        assert.ok(ids(initial.timeline.events).includes(topic), "state events of ignored users are still sent");
        assert.deepEqual(messagesOf(initial.timeline.events, carol.userId), []);
        // carol's own membership (a state event) is there too
        assert.ok([...initial.timeline.events, ...(initial.state?.events ?? [])].some((e) => e.type === "m.room.member" && e.state_key === carol.userId));

        const since = (await sync(base, bob)).next_batch;
        const hidden2 = await send(base, carol, roomId, "carol again");
        const shown2 = await send(base, alice, roomId, "alice again");
        const flag = await setState(base, carol, roomId, "org.example.flag", "", { raised: true });
        const next = mustJoined(await sync(base, bob, { since }), roomId);
        assert.deepEqual(ids(next.timeline.events), [shown2, flag]);
        assert.ok(!ids(next.timeline.events).includes(hidden2));
        assert.equal(next.timeline.limited, false);
        // alice, who ignores no one, sees everything
        assert.ok(ids(mustJoined(await sync(base, alice, { since }), roomId).timeline.events).includes(hidden2));
      });

      it("a window made only of ignored events is empty: the room is left out, and no timeline is limited by them", async () => {
        const { bob, carol, roomId } = await trio();
        const filter = { room: { timeline: { limit: 3 } } };
        const t0 = (await sync(base, bob, { filter })).next_batch;
        for (let i = 0; i < 5; i++) await send(base, carol, roomId, `noise ${i}`);
        const quiet = await sync(base, bob, { since: t0, filter });
        assert.equal(joinedRoom(quiet, roomId), undefined, JSON.stringify(quiet.rooms));

        // one visible event below more ignored events than the limit: it is all the window holds
        const shown = await send(base, alice, roomId, "the only one");
        for (let i = 0; i < 5; i++) await send(base, carol, roomId, `more noise ${i}`);
        const room = mustJoined(await sync(base, bob, { since: quiet.next_batch, filter }), roomId);
        assert.deepEqual(ids(room.timeline.events), [shown]);
        assert.equal(room.timeline.limited, false, "the ignored events are not a gap");

        // an initial sync: the newest 3 events bob may see, carol's messages skipped; limited
        // because older visible events exist, and prev_batch leads to them without carol's
        const initial = mustJoined(await sync(base, bob, { filter }), roomId);
        assert.equal(initial.timeline.events.length, 3);
        assert.deepEqual(messagesOf(initial.timeline.events, carol.userId), []);
        assert.equal(ids(initial.timeline.events).at(-1), shown);
        assert.equal(initial.timeline.limited, true);
        const back = await messages(base, bob, roomId, { dir: "b", from: initial.timeline.prev_batch!, limit: "50" });
        assert.deepEqual(messagesOf(back.chunk, carol.userId), []);
        assert.ok(back.chunk.some((e) => e.type === "m.room.create"), "the rest of the history is reachable");
      });

      it("an invite from an ignored user is not in rooms.invite (incremental and initial); others' invites are", async () => {
        const { bob, carol } = await trio();
        const dan = await fresh("dan");
        const t0 = (await sync(base, bob)).next_batch;
        const fromCarol = await createRoom(base, carol, { preset: "private_chat" });
        await act(base, carol, fromCarol, "invite", { user_id: bob.userId });
        const fromDan = await createRoom(base, dan, { preset: "private_chat" });
        await act(base, dan, fromDan, "invite", { user_id: bob.userId });
        const next = await sync(base, bob, { since: t0 });
        assert.equal(next.rooms?.invite?.[fromCarol], undefined, JSON.stringify(next.rooms?.invite));
        assert.ok(next.rooms?.invite?.[fromDan]);
        const initial = await sync(base, bob);
        assert.equal(initial.rooms?.invite?.[fromCarol], undefined);
        assert.ok(initial.rooms?.invite?.[fromDan]);
        // the list is read when a request runs: once carol is no longer ignored, an initial sync shows her invite
        await ignore(bob);
        assert.ok((await sync(base, bob)).rooms?.invite?.[fromCarol]);
      });

      it("typing, receipts and to-device messages from an ignored user still arrive (Synapse does not filter them)", async () => {
        const { bob, carol, roomId } = await trio();
        const shown = await send(base, alice, roomId, "read me");
        const t0 = (await sync(base, bob)).next_batch;
        assert.equal((await api(base, "PUT", `${V3}/rooms/${enc(roomId)}/typing/${enc(carol.userId)}`, { token: carol.accessToken, body: { typing: true, timeout: 30_000 } })).status, 200);
        assert.equal((await api(base, "POST", `${V3}/rooms/${enc(roomId)}/receipt/m.read/${enc(shown)}`, { token: carol.accessToken, body: {} })).status, 200);
        const messages = { [bob.userId]: { [bob.deviceId]: { hello: "bob" } } };
        assert.equal((await api(base, "PUT", `${V3}/sendToDevice/org.example.ping/${enc(`ping-${++counter}`)}`, { token: carol.accessToken, body: { messages } })).status, 200);
        const next = await sync(base, bob, { since: t0 });
        const ephemeral = mustJoined(next, roomId).ephemeral?.events ?? [];
        assert.deepEqual(ephemeral.find((e) => e.type === "m.typing")?.content, { user_ids: [carol.userId] });
        const receipt = ephemeral.find((e) => e.type === "m.receipt")?.content as Record<string, Record<string, Record<string, unknown>>> | undefined;
        assert.ok(receipt?.[shown]?.["m.read"]?.[carol.userId], JSON.stringify(ephemeral));
        assert.deepEqual(next.to_device?.events, [{ type: "org.example.ping", sender: carol.userId, content: { hello: "bob" } }]);
        await api(base, "PUT", `${V3}/rooms/${enc(roomId)}/typing/${enc(carol.userId)}`, { token: carol.accessToken, body: { typing: false } });
      });

      it("changing the list resends nothing to an incremental sync (as Synapse); the next initial sync applies it", async () => {
        const { bob, carol, roomId } = await trio({ ignoreNow: false });
        const said = await send(base, carol, roomId, "before the ignore");
        const t0 = (await sync(base, bob)).next_batch;
        await ignore(bob, carol);
        const afterIgnore = await sync(base, bob, { since: t0 });
        assert.ok(afterIgnore.account_data?.events.some((e) => e.type === "m.ignored_user_list"), "the new list arrives as account data");
        assert.equal(joinedRoom(afterIgnore, roomId), undefined, "no room is re-sent or marked limited");
        assert.ok(!ids(mustJoined(await sync(base, bob), roomId).timeline.events).includes(said));
        await ignore(bob);
        const afterUnignore = await sync(base, bob, { since: afterIgnore.next_batch });
        assert.equal(joinedRoom(afterUnignore, roomId), undefined);
        assert.ok(ids(mustJoined(await sync(base, bob), roomId).timeline.events).includes(said));
      });
    });

    describe("room reads", () => {
      async function read<T>(user: TestUser, path: string, spec?: [string, string]): Promise<{ status: number; body: T & { errcode?: string } }> {
        const res = await api<T & { errcode?: string }>(base, "GET", path, { token: user.accessToken });
        if (res.status === 200 && spec) await assertMatchesSpec(spec[0], spec[1], "get", 200, res.body);
        return res;
      }

      it("/messages, /context, /event and /relations withhold the ignored user's non-state events", async () => {
        const { bob, carol, roomId } = await trio();
        const a1 = await send(base, alice, roomId, "a1");
        const c1 = await send(base, carol, roomId, "c1");
        const topic = await setState(base, carol, roomId, "m.room.topic", "", { topic: "by carol" });
        const a2 = await send(base, alice, roomId, "a2");
        const c2 = await send(base, carol, roomId, "c2");
        const a3 = await send(base, alice, roomId, "a3");
        const reaction = await sendMessage(base, carol, roomId, { "m.relates_to": { rel_type: "m.annotation", event_id: a2, key: "👍" } }, { type: "m.reaction" });
        assert.equal(reaction.status, 200);
        const aliceReaction = await sendMessage(base, alice, roomId, { "m.relates_to": { rel_type: "m.annotation", event_id: a2, key: "👀" } }, { type: "m.reaction" });

        type Chunk = { chunk: SyncEvent[]; start: string; end?: string };
        const page = await read<Chunk>(bob, `${V3}/rooms/${enc(roomId)}/messages?dir=b&limit=4`, ["message_pagination.yaml", "/rooms/{roomId}/messages"]);
        assert.equal(page.status, 200);
        assert.deepEqual(ids(page.body.chunk), [aliceReaction.body.event_id, a3, a2, topic], "a full page of what bob may see");
        const all = await read<Chunk>(bob, `${V3}/rooms/${enc(roomId)}/messages?dir=f&limit=100`, ["message_pagination.yaml", "/rooms/{roomId}/messages"]);
        assert.deepEqual(messagesOf(all.body.chunk, carol.userId), []);
        assert.ok(senders(all.body.chunk).has(carol.userId), "carol's state events (her join, the topic) remain");
        assert.ok(ids((await read<Chunk>(alice, `${V3}/rooms/${enc(roomId)}/messages?dir=f&limit=100`)).body.chunk).includes(c1), "others still see carol");

        type Context = { events_before: SyncEvent[]; event: SyncEvent; events_after: SyncEvent[]; start: string; end: string };
        const ctx = await read<Context>(bob, `${V3}/rooms/${enc(roomId)}/context/${enc(a2)}?limit=4`, ["event_context.yaml", "/rooms/{roomId}/context/{eventId}"]);
        assert.equal(ctx.status, 200, JSON.stringify(ctx.body));
        assert.deepEqual(ids(ctx.body.events_before), [topic, a1]);
        assert.deepEqual(ids(ctx.body.events_after), [a3, aliceReaction.body.event_id]);
        for (const hidden of [c1, c2, reaction.body.event_id]) {
          const c = await read(bob, `${V3}/rooms/${enc(roomId)}/context/${enc(hidden)}`);
          assert.deepEqual([c.status, c.body.errcode], [404, "M_NOT_FOUND"]);
          const e = await read(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(hidden)}`);
          assert.deepEqual([e.status, e.body.errcode], [404, "M_NOT_FOUND"]);
        }
        const state = await read<SyncEvent>(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(topic)}`, ["rooms.yaml", "/rooms/{roomId}/event/{eventId}"]);
        assert.equal(state.status, 200, "a state event of an ignored user stays readable");

        const rel = await read<{ chunk: SyncEvent[] }>(bob, `${V1}/rooms/${enc(roomId)}/relations/${enc(a2)}`, ["relations.yaml", "/rooms/{roomId}/relations/{eventId}"]);
        assert.equal(rel.status, 200);
        assert.deepEqual(ids(rel.body.chunk), [aliceReaction.body.event_id]);
        const relAlice = await read<{ chunk: SyncEvent[] }>(alice, `${V1}/rooms/${enc(roomId)}/relations/${enc(a2)}`);
        assert.equal(relAlice.body.chunk.length, 2);
      });
    });

    if (linearMaxDelta !== 0) {
      it("a long-poll is not woken by an ignored user's message; it answers the next visible one alone", async () => {
        const { bob, carol, roomId } = await trio();
        const since = (await sync(base, bob, { set_presence: "offline" })).next_batch;
        const params = { since, timeout: 15_000, set_presence: "offline" };
        let answered = false;
        const pending = syncRaw(base, bob, params).then((r) => ((answered = true), r));
        await parked(server, 1);
        await send(base, carol, roomId, "ignored noise");
        // the slice is looked at, found to hold nothing for bob, and the request parks again
        await new Promise((r) => setTimeout(r, 150));
        await waitUntil(() => server.app.services.notifier.waiting() >= 1, "the long-poll parked again");
        assert.equal(answered, false, "the ignored message did not answer the long-poll");
        const shown = await send(base, alice, roomId, "worth waking for");
        const res = await pending;
        assert.equal(res.status, 200);
        await checkSyncBody(res.body, params);
        assert.deepEqual(ids(mustJoined(res.body as SyncBody, roomId).timeline.events), [shown]);
      });

      it("an initial sync asked after the list changed does not share the computation of one asked before (as Synapse's cache key)", async () => {
        const { bob, carol, roomId } = await trio({ ignoreNow: false });
        const said = await send(base, carol, roomId, "carol speaks");
        const computations = countComputations(server);
        const hold = holdComputations(server);
        try {
          const first = syncRaw(base, bob, { set_presence: "offline" });
          await waitUntil(() => computations.count() === 1, "the first computation");
          await ignore(bob, carol);
          const second = syncRaw(base, bob, { set_presence: "offline" });
          await waitUntil(() => computations.count() === 2, "a second computation");
          hold.release();
          const [, b2] = await Promise.all([first, second]);
          assert.equal(b2.status, 200);
          await checkSyncBody(b2.body);
          assert.ok(!ids(mustJoined(b2.body as SyncBody, roomId).timeline.events).includes(said));
        } finally {
          hold.restore();
          computations.restore();
        }
      });
    }
  });
}
