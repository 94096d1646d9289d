/**
 * /sync long-polls: a caught-up request waits and is woken by what concerns the user (a
 * message, typing, a receipt, to-device, account data, an invite) and not by what does not;
 * the wait is capped by sync.timeoutMaxMs; identical concurrent requests share one
 * computation; a client that goes away leaves no parked waiter and no running work.
 * Long-polls ask for set_presence=offline so the user's own presence writes do not wake them.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { V3, createRoom, enc, joinRoom } from "./room-helpers.js";
import { ids, mustJoined, parked, send, sync, syncRaw, checkSyncBody, waitUntil, countComputations, holdComputations, type SyncBody, type SyncParams } from "./sync-helpers.js";

describe("sync long-polls", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let counter = 0;

  const shared = () => (server.app.services.syncV2 as unknown as { shared: { size(): number } }).shared.size();
  const waiting = () => server.app.services.notifier.waiting();

  before(async () => {
    server = await startServer({ sync: { timeoutMaxMs: 20_000 } });
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    roomId = await createRoom(base, alice, { preset: "public_chat", name: "Long polls" });
    await joinRoom(base, bob, roomId);
  });
  after(async () => {
    await server.close();
  });

  /** bob's token once nothing is pending for him. */
  async function caughtUp(user: TestUser = bob): Promise<string> {
    return (await sync(base, user, { set_presence: "offline" })).next_batch;
  }

  /** Starts a long-poll, waits until it is parked, runs `trigger`, returns the response. */
  async function wokenBy(user: TestUser, since: string, trigger: () => Promise<unknown>, p: SyncParams = {}): Promise<SyncBody> {
    const before = waiting();
    const params = { since, timeout: 15_000, set_presence: "offline", ...p };
    const pending = syncRaw(base, user, params);
    await parked(server, before + 1);
    await trigger();
    const res = await pending;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await checkSyncBody(res.body, params);
    return res.body;
  }

  it("a send wakes the long-poll, which answers with the event", async () => {
    const since = await caughtUp();
    let eventId = "";
    const started = Date.now();
    const body = await wokenBy(bob, since, async () => (eventId = await send(base, alice, roomId, "wake up")));
    assert.deepEqual(ids(mustJoined(body, roomId).timeline.events), [eventId]);
    assert.ok(Date.now() - started < 10_000, "answered on the send, not at the timeout");
    assert.equal(waiting(), 0);
  });

  it("a typing change wakes it", async () => {
    const since = await caughtUp();
    const body = await wokenBy(bob, since, () => api(base, "PUT", `${V3}/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { token: alice.accessToken, body: { typing: true, timeout: 5000 } }));
    assert.deepEqual(mustJoined(body, roomId).ephemeral?.events, [{ type: "m.typing", content: { user_ids: [alice.userId] } }]);
    await api(base, "PUT", `${V3}/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { token: alice.accessToken, body: { typing: false } });
  });

  it("a receipt wakes it", async () => {
    const eventId = await send(base, bob, roomId, "read this");
    const since = await caughtUp();
    const body = await wokenBy(bob, since, () => api(base, "POST", `${V3}/rooms/${enc(roomId)}/receipt/m.read/${enc(eventId)}`, { token: alice.accessToken, body: {} }));
    const receipt = mustJoined(body, roomId).ephemeral?.events.find((e) => e.type === "m.receipt");
    assert.ok(receipt, JSON.stringify(body));
  });

  it("a to-device message wakes it", async () => {
    const since = await caughtUp();
    const body = await wokenBy(bob, since, () =>
      api(base, "PUT", `${V3}/sendToDevice/org.example.poke/${enc(`poke-${++counter}`)}`, { token: alice.accessToken, body: { messages: { [bob.userId]: { [bob.deviceId]: { hi: 1 } } } } }),
    );
    assert.deepEqual(body.to_device?.events, [{ type: "org.example.poke", sender: alice.userId, content: { hi: 1 } }]);
  });

  it("an account data change wakes it", async () => {
    const since = await caughtUp();
    const body = await wokenBy(bob, since, () => api(base, "PUT", `${V3}/user/${enc(bob.userId)}/account_data/org.example.wake`, { token: bob.accessToken, body: { w: 1 } }));
    assert.deepEqual(body.account_data?.events, [{ type: "org.example.wake", content: { w: 1 } }]);
  });

  it("an invite wakes the invitee, who has no room in common yet", async () => {
    const carol = await registerUser(base, `carol${++counter}`);
    const room = await createRoom(base, alice, { preset: "private_chat" });
    const since = await caughtUp(carol);
    const body = await wokenBy(carol, since, () => api(base, "POST", `${V3}/rooms/${enc(room)}/invite`, { token: alice.accessToken, body: { user_id: carol.userId } }));
    assert.ok(body.rooms?.invite?.[room]);
  });

  it("an event in a room the user is not in does not wake it; the next relevant one does, and both are covered by next_batch", async () => {
    const other = await createRoom(base, alice, { preset: "private_chat" });
    const since = await caughtUp();
    const pending = syncRaw(base, bob, { since, timeout: 15_000, set_presence: "offline" });
    await parked(server, 1);
    await send(base, alice, other, "not for bob");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(waiting(), 1, "still parked");
    const relevant = await send(base, alice, roomId, "for bob");
    const res = await pending;
    assert.equal(res.status, 200);
    await checkSyncBody(res.body);
    assert.deepEqual(Object.keys(res.body.rooms?.join ?? {}), [roomId]);
    assert.deepEqual(ids(mustJoined(res.body, roomId).timeline.events), [relevant]);
    const after = await sync(base, bob, { since: res.body.next_batch, set_presence: "offline" });
    assert.equal(after.rooms, undefined, "nothing left over");
  });

  it("a request that is not caught up answers at once despite a timeout", async () => {
    const since = await caughtUp();
    const e = await send(base, alice, roomId, "already there");
    const res = await sync(base, bob, { since, timeout: 15_000, set_presence: "offline" });
    assert.deepEqual(ids(mustJoined(res, roomId).timeline.events), [e]);
  });

  it("the wait is capped by sync.timeoutMaxMs", async () => {
    const capped = await startServer({ sync: { timeoutMaxMs: 200 } });
    try {
      const dan = await registerUser(capped.baseUrl, "dan");
      const since = (await sync(capped.baseUrl, dan, { set_presence: "offline" })).next_batch;
      const started = Date.now();
      const res = await sync(capped.baseUrl, dan, { since, timeout: 600_000, set_presence: "offline" });
      assert.ok(Date.now() - started < 10_000, `returned after ${Date.now() - started} ms`);
      assert.equal(res.rooms, undefined);
      assert.ok(res.device_one_time_keys_count, "a quiet answer still carries the key counts");
    } finally {
      await capped.close();
    }
  });

  it("identical concurrent requests share one computation and get the same answer", async () => {
    const since = await caughtUp();
    const computations = countComputations(server);
    try {
      const params = { since, timeout: 15_000, set_presence: "offline" };
      const a = syncRaw(base, bob, params);
      const b = syncRaw(base, bob, params);
      await waitUntil(() => computations.count() === 1 && waiting() === 1, "one parked computation");
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(waiting(), 1, "one waiter for both requests");
      assert.equal(computations.shared(), 1);
      await send(base, alice, roomId, "for both");
      const [ra, rb] = await Promise.all([a, b]);
      assert.deepEqual(ra.body, rb.body);
      assert.equal(computations.count(), 1);
      // initial syncs too: the first is held inside its computation until the second arrives
      computations.reset();
      const hold = holdComputations(server);
      try {
        const i1 = syncRaw(base, bob, { set_presence: "offline" });
        await waitUntil(() => computations.count() === 1, "the first computation");
        const i2 = syncRaw(base, bob, { set_presence: "offline" });
        await new Promise((r) => setTimeout(r, 50)); // the second request reaches the engine
        hold.release();
        const [b1, b2] = await Promise.all([i1, i2]);
        assert.deepEqual(b1.body, b2.body);
        assert.equal(computations.count(), 1);
      } finally {
        hold.restore();
      }
      // different parameters do not share
      computations.reset();
      await Promise.all([syncRaw(base, bob, { set_presence: "offline" }), syncRaw(base, bob, { set_presence: "offline", filter: { room: { timeline: { limit: 1 } } } })]);
      assert.equal(computations.count(), 2);
    } finally {
      computations.restore();
    }
  });

  it("a client that disconnects its long-poll leaves no parked waiter and no running computation", async () => {
    const since = await caughtUp();
    const controller = new AbortController();
    const pending = syncRaw(base, bob, { since, timeout: 15_000, set_presence: "offline" }, { signal: controller.signal }).catch((e: unknown) => e);
    await parked(server, 1);
    assert.equal(shared(), 1);
    controller.abort();
    assert.ok((await pending) instanceof Error);
    await waitUntil(() => waiting() === 0, "the waiter to go");
    await waitUntil(() => shared() === 0, "the computation to end");
    // a later event finds nobody to wake and the server answers normally
    await send(base, alice, roomId, "nobody waits");
    assert.equal(waiting(), 0);
    assert.ok(mustJoined(await sync(base, bob, { since, set_presence: "offline" }), roomId));
  });

  it("when one of two identical long-polls disconnects, the other still gets its answer", async () => {
    const since = await caughtUp();
    const controller = new AbortController();
    const leaving = syncRaw(base, bob, { since, timeout: 15_000, set_presence: "offline" }, { signal: controller.signal }).catch((e: unknown) => e);
    const staying = syncRaw(base, bob, { since, timeout: 15_000, set_presence: "offline" });
    await parked(server, 1);
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    await leaving;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(waiting(), 1, "the shared wait goes on for the remaining client");
    const e = await send(base, alice, roomId, "for the one who stayed");
    const res = await staying;
    assert.equal(res.status, 200);
    assert.deepEqual(ids(mustJoined(res.body, roomId).timeline.events), [e]);
  });
});
