/**
 * GET /sync basics: the shape of an initial and an incremental sync, /r0, timeout=0,
 * full_state, global account data (with m.push_rules), presence and set_presence.
 * Every 200 is validated against sync.yaml (sync-helpers.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { V3, createRoom, enc, joinRoom, loginNewDevice, sendMessage } from "./room-helpers.js";
import { bodies, ids, mustJoined, send, setState, stateKeys, sync, type SyncBody } from "./sync-helpers.js";
import type { UserId } from "../../src/events/ids.js";

/** Counts notifier.waitForChange calls (a parked long-poll) while `fn` runs. */
async function countWaits<T>(server: TestServer, fn: () => Promise<T>): Promise<{ result: T; waits: number }> {
  const notifier = server.app.services.notifier;
  const original = notifier.waitForChange.bind(notifier);
  let waits = 0;
  notifier.waitForChange = (...args) => {
    waits++;
    return original(...args);
  };
  try {
    return { result: await fn(), waits };
  } finally {
    notifier.waitForChange = original;
  }
}

describe("sync basics", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    carol = await registerUser(base, "carol");
    roomId = await createRoom(base, alice, { preset: "public_chat", name: "Basics" });
    await joinRoom(base, bob, roomId);
    for (let i = 0; i < 12; i++) await send(base, alice, roomId, `m${i}`);
  });
  after(async () => {
    await server.close();
  });

  it("initial sync: the room with its newest events, full state at the timeline's start, limited with prev_batch", async () => {
    const body = await sync(base, bob);
    const room = mustJoined(body, roomId);
    assert.deepEqual(bodies(room), ["m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10", "m11"], "default limit is 10");
    assert.equal(room.timeline.limited, true);
    assert.equal(typeof room.timeline.prev_batch, "string");
    // state + timeline state covers the current state; state itself holds no timeline event.
    const current = await api<{ type: string; state_key: string }[]>(base, "GET", `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken });
    const expected = current.body.map((e) => `${e.type}|${e.state_key}`).sort();
    assert.deepEqual(stateKeys(room.state?.events), expected);
    assert.equal(ids(room.state?.events).filter((id) => ids(room.timeline.events).includes(id)).length, 0);
    for (const e of room.timeline.events) assert.equal(e.room_id, undefined, "ClientEventWithoutRoomID");
    assert.deepEqual(room.summary?.["m.joined_member_count"], 2);
    assert.deepEqual(room.unread_notifications, { notification_count: 12, highlight_count: 0 });
    assert.ok(body.device_one_time_keys_count && Array.isArray(body.device_unused_fallback_key_types), "key counts are always sent");
  });

  it("incremental sync without a gap: exactly the new events, limited false, empty state", async () => {
    const first = await sync(base, bob);
    const e1 = await send(base, alice, roomId, "after-1");
    const e2 = await send(base, bob, roomId, "after-2");
    const next = await sync(base, bob, { since: first.next_batch });
    const room = mustJoined(next, roomId);
    assert.deepEqual(ids(room.timeline.events), [e1, e2]);
    assert.equal(room.timeline.limited, false);
    assert.deepEqual(room.state?.events ?? [], []);
  });

  it("a quiet incremental sync carries no rooms and a next_batch that continues from the same place", async () => {
    const first = await sync(base, bob, { set_presence: "offline" });
    const quiet = await sync(base, bob, { since: first.next_batch, set_presence: "offline" });
    assert.equal(quiet.rooms, undefined, JSON.stringify(quiet));
    const e = await send(base, alice, roomId, "later");
    const after = await sync(base, bob, { since: quiet.next_batch, set_presence: "offline" });
    assert.deepEqual(ids(mustJoined(after, roomId).timeline.events), [e]);
  });

  it("/r0/sync answers like /v3/sync", async () => {
    const body = await sync(base, bob, { r0: true });
    assert.ok(mustJoined(body, roomId).timeline.events.length > 0);
  });

  it("timeout=0 (and no timeout) answers at once, parking no long-poll", async () => {
    const first = await sync(base, bob);
    const { waits } = await countWaits(server, async () => {
      await sync(base, bob, { since: first.next_batch, timeout: 0 });
      await sync(base, bob, { since: first.next_batch });
    });
    assert.equal(waits, 0);
  });

  it("full_state=true with since: every room's full state, the timeline still bounded by since, and no wait despite timeout", async () => {
    const first = await sync(base, bob);
    const { result, waits } = await countWaits(server, () => sync(base, bob, { since: first.next_batch, full_state: true, timeout: 60_000 }));
    assert.equal(waits, 0, "full_state ignores timeout");
    const room = mustJoined(result, roomId);
    assert.deepEqual(room.timeline.events, [], "nothing new since `since`");
    const current = await api<{ type: string; state_key: string }[]>(base, "GET", `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken });
    assert.deepEqual(stateKeys(room.state?.events), current.body.map((e) => `${e.type}|${e.state_key}`).sort());
    // and with a new event: it is the timeline, state is the state before it
    const e = await send(base, alice, roomId, "with full state");
    const withEvent = mustJoined(await sync(base, bob, { since: first.next_batch, full_state: true }), roomId);
    assert.deepEqual(ids(withEvent.timeline.events), [e]);
    assert.equal(withEvent.state?.events.length, current.body.length);
  });

  describe("global account data", () => {
    it("an initial sync carries every global entry and m.push_rules", async () => {
      await api(base, "PUT", `${V3}/user/${enc(carol.userId)}/account_data/org.example.one`, { token: carol.accessToken, body: { n: 1 } });
      const body = await sync(base, carol);
      const types = (body.account_data?.events ?? []).map((e) => e.type);
      assert.ok(types.includes("org.example.one"), types.join());
      const rules = body.account_data?.events.find((e) => e.type === "m.push_rules");
      assert.ok(rules, "m.push_rules in the initial sync");
      assert.ok(typeof (rules.content as { global?: unknown }).global === "object");
    });

    it("an incremental sync carries the entries changed since, and m.push_rules only when the rules changed", async () => {
      const first = await sync(base, carol);
      await api(base, "PUT", `${V3}/user/${enc(carol.userId)}/account_data/org.example.two`, { token: carol.accessToken, body: { n: 2 } });
      const next = await sync(base, carol, { since: first.next_batch });
      assert.deepEqual(next.account_data?.events, [{ type: "org.example.two", content: { n: 2 } }]);

      const rule = await api(base, "PUT", `${V3}/pushrules/global/content/mine`, { token: carol.accessToken, body: { pattern: "carrots", actions: ["notify"] } });
      assert.equal(rule.status, 200, JSON.stringify(rule.body));
      const withRules = await sync(base, carol, { since: next.next_batch });
      const pushRules = withRules.account_data?.events.find((e) => e.type === "m.push_rules");
      assert.ok(pushRules, JSON.stringify(withRules));
      const content = (pushRules.content as { global: { content: { rule_id: string }[] } }).global.content;
      assert.ok(content.some((r) => r.rule_id === "mine"));
    });

    it("the filter's account_data types apply to global account data", async () => {
      await api(base, "PUT", `${V3}/user/${enc(carol.userId)}/account_data/org.example.three`, { token: carol.accessToken, body: { n: 3 } });
      const body = await sync(base, carol, { filter: { account_data: { types: ["org.example.three"] } } });
      assert.deepEqual((body.account_data?.events ?? []).map((e) => e.type), ["org.example.three"]);
      const none = await sync(base, carol, { filter: { account_data: { not_types: ["*"] } } });
      assert.equal(none.account_data, undefined);
    });
  });

  describe("presence", () => {
    it("a room-mate's presence change reaches the incremental sync; a stranger's does not", async () => {
      const first = await sync(base, bob, { set_presence: "offline" });
      const put = (u: TestUser, status: string) => api(base, "PUT", `${V3}/presence/${enc(u.userId)}/status`, { token: u.accessToken, body: { presence: "online", status_msg: status } });
      assert.equal((await put(alice, "busy")).status, 200);
      assert.equal((await put(carol, "stranger")).status, 200);
      const next = await sync(base, bob, { since: first.next_batch, set_presence: "offline" });
      const events = next.presence?.events ?? [];
      const fromAlice = events.filter((e) => e.sender === alice.userId);
      assert.equal(fromAlice.length, 1, JSON.stringify(events));
      assert.equal(fromAlice[0]!.type, "m.presence");
      assert.equal(fromAlice[0]!.content.status_msg, "busy");
      assert.ok(!events.some((e) => e.sender === carol.userId), "carol shares no room with bob");
    });

    it("the presence filter can exclude m.presence", async () => {
      const body = await sync(base, bob, { filter: { presence: { not_types: ["m.presence"] } }, set_presence: "offline" });
      assert.equal(body.presence, undefined);
    });
  });

  describe("set_presence", () => {
    const presenceOf = async (u: TestUser) => (await server.app.services.storage.presence.get(u.userId as UserId))?.state ?? null;
    const settle = () => new Promise((r) => setTimeout(r, 50)); // the presence write runs beside the sync

    it("default (online): polling marks the user online", async () => {
      const dave = await registerUser(base, "dave-online");
      await sync(base, dave);
      await settle();
      assert.equal(await presenceOf(dave), "online");
    });

    it("offline: polling does not mark the user online", async () => {
      const erin = await registerUser(base, "erin-offline");
      await sync(base, erin, { set_presence: "offline" });
      await settle();
      assert.equal(await presenceOf(erin), null);
    });

    it("unavailable: polling marks the user idle, not online", async () => {
      const fred = await registerUser(base, "fred-idle");
      await sync(base, fred, { set_presence: "unavailable" });
      await settle();
      assert.equal(await presenceOf(fred), "unavailable");
    });
  });

  it("several syncs in a row from each next_batch never repeat an event", async () => {
    let token = (await sync(base, bob)).next_batch;
    const seen: string[] = [];
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      sent.push(await send(base, alice, roomId, `loop ${i}`));
      const body: SyncBody = await sync(base, bob, { since: token });
      seen.push(...ids(mustJoined(body, roomId).timeline.events));
      token = body.next_batch;
    }
    assert.deepEqual(seen, sent);
  });

  it("unsigned.transaction_id is on the sending device's own events, and only there", async () => {
    const first = await sync(base, bob);
    const otherDevice = await loginNewDevice(base, bob);
    const otherFirst = await sync(base, otherDevice);
    const aliceFirst = await sync(base, alice);
    const sent = await sendMessage(base, bob, roomId, { msgtype: "m.text", body: "with a txn id" }, { txnId: "bob-txn-1" });
    assert.equal(sent.status, 200);
    const mine = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId).timeline.events.find((e) => e.event_id === sent.body.event_id);
    assert.equal(mine?.unsigned?.transaction_id, "bob-txn-1");
    const onOther = mustJoined(await sync(base, otherDevice, { since: otherFirst.next_batch }), roomId).timeline.events.find((e) => e.event_id === sent.body.event_id);
    assert.ok(onOther);
    assert.equal(onOther.unsigned?.transaction_id, undefined, "another device of the same user");
    const onAlice = mustJoined(await sync(base, alice, { since: aliceFirst.next_batch }), roomId).timeline.events.find((e) => e.event_id === sent.body.event_id);
    assert.equal(onAlice?.unsigned?.transaction_id, undefined, "another user");
  });

  it("a state change in an incremental sync is in the timeline with prev_content", async () => {
    await setState(base, alice, roomId, "m.room.topic", "", { topic: "old topic" });
    const first = await sync(base, bob);
    const id = await setState(base, alice, roomId, "m.room.topic", "", { topic: "new topic" });
    const room = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId);
    const ev = room.timeline.events.find((e) => e.event_id === id);
    assert.ok(ev);
    assert.equal(ev.state_key, "");
    assert.deepEqual(ev.unsigned?.prev_content, { topic: "old topic" });
    assert.deepEqual(room.state?.events ?? [], []);
  });
});
