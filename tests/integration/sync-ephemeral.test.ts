/**
 * /sync per-user and per-room side data: ephemeral typing and receipts (and the ephemeral
 * filter), room account data, to-device messages (delivered at least once, deleted once a
 * later `since` confirms them), device_lists.changed/left, device_one_time_keys_count and
 * device_unused_fallback_key_types.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { V3, createRoom, enc, joinRoom, loginNewDevice } from "./room-helpers.js";
import { TestDevice } from "./e2e-device.js";
import { act, mustJoined, send, sync, type SyncBody } from "./sync-helpers.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";

function ephemeralOf(body: SyncBody, roomId: string, type: string): Record<string, unknown>[] {
  return (body.rooms?.join?.[roomId]?.ephemeral?.events ?? []).filter((e) => e.type === type).map((e) => e.content);
}

// Twice: linear incremental syncs (the default), and polylog ones (linearMaxDelta 0), whose
// items find the same data by point look-ups instead of scanning the log.
for (const linearMaxDelta of [1024, 0]) describe(`sync ephemeral, account data, to-device and keys (linearMaxDelta ${linearMaxDelta})`, () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let counter = 0;

  before(async () => {
    server = await startServer({ sync: { linearMaxDelta } });
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    roomId = await createRoom(base, alice, { preset: "public_chat", name: "Side data" });
    await joinRoom(base, bob, roomId);
  });
  after(async () => {
    await server.close();
  });

  const typing = (u: TestUser, room: string, on: boolean) =>
    api(base, "PUT", `${V3}/rooms/${enc(room)}/typing/${enc(u.userId)}`, { token: u.accessToken, body: on ? { typing: true, timeout: 30_000 } : { typing: false } });
  const receipt = (u: TestUser, room: string, eventId: string, type = "m.read") =>
    api(base, "POST", `${V3}/rooms/${enc(room)}/receipt/${type}/${enc(eventId)}`, { token: u.accessToken, body: {} });

  describe("ephemeral", () => {
    it("typing: a start arrives as m.typing with the typers, a stop as m.typing with none", async () => {
      const first = await sync(base, bob);
      assert.equal((await typing(alice, roomId, true)).status, 200);
      const on = await sync(base, bob, { since: first.next_batch });
      assert.deepEqual(ephemeralOf(on, roomId, "m.typing"), [{ user_ids: [alice.userId] }]);
      const initial = await sync(base, bob);
      assert.deepEqual(ephemeralOf(initial, roomId, "m.typing"), [{ user_ids: [alice.userId] }], "an initial sync shows who is typing now");
      assert.equal((await typing(alice, roomId, false)).status, 200);
      const off = await sync(base, bob, { since: on.next_batch });
      assert.deepEqual(ephemeralOf(off, roomId, "m.typing"), [{ user_ids: [] }]);
    });

    it("receipts: a read receipt arrives as m.receipt {event: {m.read: {user: {ts}}}}", async () => {
      const eventId = await send(base, alice, roomId, "read me");
      const first = await sync(base, alice);
      assert.equal((await receipt(bob, roomId, eventId)).status, 200);
      const next = await sync(base, alice, { since: first.next_batch });
      const [content] = ephemeralOf(next, roomId, "m.receipt") as Record<string, Record<string, Record<string, { ts: number }>>>[];
      assert.ok(content, JSON.stringify(next.rooms));
      assert.deepEqual(Object.keys(content), [eventId]);
      assert.equal(typeof content[eventId]!["m.read"]![bob.userId]!.ts, "number");
      const initial = await sync(base, alice);
      assert.ok(ephemeralOf(initial, roomId, "m.receipt").length > 0, "current receipts in an initial sync");
    });

    it("a private receipt (m.read.private) reaches only its owner", async () => {
      const eventId = await send(base, alice, roomId, "private read");
      const aliceFirst = await sync(base, alice);
      const bobFirst = await sync(base, bob);
      assert.equal((await receipt(bob, roomId, eventId, "m.read.private")).status, 200);
      const toAlice = await sync(base, alice, { since: aliceFirst.next_batch });
      assert.deepEqual(ephemeralOf(toAlice, roomId, "m.receipt"), []);
      const toBob = await sync(base, bob, { since: bobFirst.next_batch });
      const [content] = ephemeralOf(toBob, roomId, "m.receipt") as Record<string, Record<string, unknown>>[];
      assert.ok(content?.[eventId]?.["m.read.private"]);
    });

    it("a room whose typing did not change does not come back", async () => {
      await typing(alice, roomId, true);
      const first = await sync(base, bob, { set_presence: "offline" });
      const other = await createRoom(base, alice, { preset: "private_chat" });
      await send(base, alice, other, "elsewhere");
      const next = await sync(base, bob, { since: first.next_batch, set_presence: "offline" });
      assert.equal(next.rooms, undefined, JSON.stringify(next.rooms));
      await typing(alice, roomId, false);
    });

    it("the ephemeral filter: not_types m.typing leaves typing out, types m.receipt keeps receipts", async () => {
      const first = await sync(base, bob);
      await typing(alice, roomId, true);
      const eventId = await send(base, alice, roomId, "filtered");
      await receipt(alice, roomId, eventId);
      const body = await sync(base, bob, { since: first.next_batch, filter: { room: { ephemeral: { not_types: ["m.typing"] } } } });
      assert.deepEqual(ephemeralOf(body, roomId, "m.typing"), []);
      assert.ok(ephemeralOf(body, roomId, "m.receipt").length > 0);
      const onlyReceipts = await sync(base, bob, { since: first.next_batch, filter: { room: { ephemeral: { types: ["m.receipt"] } } } });
      assert.deepEqual(ephemeralOf(onlyReceipts, roomId, "m.typing"), []);
      await typing(alice, roomId, false);
    });
  });

  describe("room account data", () => {
    it("a room account data change arrives under the room's account_data, also in an otherwise quiet room", async () => {
      const first = await sync(base, bob);
      const put = await api(base, "PUT", `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/org.example.room`, { token: bob.accessToken, body: { k: "v" } });
      assert.equal(put.status, 200);
      const next = await sync(base, bob, { since: first.next_batch });
      const room = mustJoined(next, roomId);
      assert.deepEqual(room.account_data?.events, [{ type: "org.example.room", content: { k: "v" } }]);
      assert.deepEqual(room.timeline.events, []);
      const initial = mustJoined(await sync(base, bob), roomId);
      assert.ok(initial.account_data?.events.some((e) => e.type === "org.example.room"));
    });

    it("tags arrive as m.tag room account data", async () => {
      const first = await sync(base, bob);
      const put = await api(base, "PUT", `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/tags/u.work`, { token: bob.accessToken, body: { order: 0.5 } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const room = mustJoined(await sync(base, bob, { since: first.next_batch }), roomId);
      assert.deepEqual(room.account_data?.events, [{ type: "m.tag", content: { tags: { "u.work": { order: 0.5 } } } }]);
    });

    it("the room account_data filter applies", async () => {
      const body = await sync(base, bob, { filter: { room: { account_data: { not_types: ["m.tag"] } } } });
      const types = (mustJoined(body, roomId).account_data?.events ?? []).map((e) => e.type);
      assert.ok(!types.includes("m.tag"));
      assert.ok(types.includes("org.example.room"));
    });
  });

  describe("to_device", () => {
    const sendToDevice = async (from: TestUser, to: TestUser, deviceId: string, n: number, tag: string) => {
      const messages: Record<string, Record<string, Record<string, unknown>>> = { [to.userId]: {} };
      messages[to.userId]![deviceId] = { tag, n };
      const res = await api(base, "PUT", `${V3}/sendToDevice/org.example.ping/${enc(`${tag}-${n}-${++counter}`)}`, { token: from.accessToken, body: { messages } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };

    it("delivered at least once: a repeated since redelivers, the next token deletes", async () => {
      const carol = await registerUser(base, `carol${++counter}`);
      const first = await sync(base, carol);
      await sendToDevice(alice, carol, carol.deviceId, 1, "once");
      const delivered = await sync(base, carol, { since: first.next_batch });
      assert.deepEqual(delivered.to_device?.events, [{ type: "org.example.ping", sender: alice.userId, content: { tag: "once", n: 1 } }]);
      // the client lost that answer and asks again with the same since: delivered again
      const again = await sync(base, carol, { since: first.next_batch });
      assert.deepEqual(again.to_device?.events, delivered.to_device?.events);
      // the next sync confirms: not delivered any more, and deleted from storage
      const confirmed = await sync(base, carol, { since: again.next_batch });
      assert.equal(confirmed.to_device, undefined);
      const pending = await server.app.services.storage.toDevice.pending(carol.userId as UserId, carol.deviceId as DeviceId, server.app.services.storage.sequencer.retired(), 100);
      assert.deepEqual(pending, []);
    });

    it("only the addressed device gets the message", async () => {
      const dan = await registerUser(base, `dan${++counter}`);
      const other = await loginNewDevice(base, dan);
      const t1 = (await sync(base, dan)).next_batch;
      const t2 = (await sync(base, other)).next_batch;
      await sendToDevice(alice, dan, other.deviceId, 1, "second device");
      assert.equal((await sync(base, dan, { since: t1 })).to_device, undefined);
      assert.equal((await sync(base, other, { since: t2 })).to_device?.events.length, 1);
    });

    it("more than 100 waiting messages come over several syncs, in order, none lost or repeated", async () => {
      const erin = await registerUser(base, `erin${++counter}`);
      let token = (await sync(base, erin)).next_batch;
      for (let i = 0; i < 130; i++) await sendToDevice(alice, erin, erin.deviceId, i, "bulk");
      const got: number[] = [];
      for (let round = 0; round < 5; round++) {
        const body = await sync(base, erin, { since: token });
        const events = body.to_device?.events ?? [];
        assert.ok(events.length <= 100);
        got.push(...events.map((e) => e.content.n as number));
        token = body.next_batch;
        if (events.length === 0) break;
      }
      assert.deepEqual(got, Array.from({ length: 130 }, (_, i) => i));
    });
  });

  describe("device lists and key counts", () => {
    const upload = async (u: TestUser, body: Record<string, unknown>) => {
      const res = await api<{ one_time_key_counts: Record<string, number> }>(base, "POST", `${V3}/keys/upload`, { token: u.accessToken, body });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };

    it("device_lists.changed: a room-mate's new device keys, only in incremental syncs", async () => {
      const fay = await registerUser(base, `fay${++counter}`);
      await joinRoom(base, fay, roomId);
      const first = await sync(base, bob);
      await upload(fay, { device_keys: new TestDevice(fay.userId, fay.deviceId).deviceKeys() });
      const next = await sync(base, bob, { since: first.next_batch });
      assert.ok(next.device_lists?.changed?.includes(fay.userId), JSON.stringify(next.device_lists));
      const initial = await sync(base, bob);
      assert.equal(initial.device_lists, undefined, "no device_lists on an initial sync");
    });

    it("device_lists.changed: a stranger's key change is not reported", async () => {
      const gus = await registerUser(base, `gus${++counter}`);
      const first = await sync(base, bob);
      await upload(gus, { device_keys: new TestDevice(gus.userId, gus.deviceId).deviceKeys() });
      const next = await sync(base, bob, { since: first.next_batch });
      assert.ok(!(next.device_lists?.changed ?? []).includes(gus.userId));
    });

    it("device_lists.changed: a user who newly shares a room (they join, or the requester joins theirs)", async () => {
      const hal = await registerUser(base, `hal${++counter}`);
      const ivy = await registerUser(base, `ivy${++counter}`);
      const ivysRoom = await createRoom(base, ivy, { preset: "public_chat" });
      const first = await sync(base, bob);
      await joinRoom(base, hal, roomId);
      await joinRoom(base, bob, ivysRoom);
      const next = await sync(base, bob, { since: first.next_batch });
      const changed = next.device_lists?.changed ?? [];
      assert.ok(changed.includes(hal.userId), JSON.stringify(next.device_lists));
      assert.ok(changed.includes(ivy.userId), JSON.stringify(next.device_lists));
    });

    it("device_lists.left: a user who shares no room any more (they leave, or the requester leaves theirs)", async () => {
      const jon = await registerUser(base, `jon${++counter}`);
      const kim = await registerUser(base, `kim${++counter}`);
      const kimsRoom = await createRoom(base, kim, { preset: "public_chat" });
      await joinRoom(base, jon, roomId);
      await joinRoom(base, bob, kimsRoom);
      const first = await sync(base, bob);
      await act(base, jon, roomId, "leave");
      await act(base, bob, kimsRoom, "leave");
      const next = await sync(base, bob, { since: first.next_batch });
      assert.deepEqual([...(next.device_lists?.left ?? [])].sort(), [jon.userId, kim.userId].sort());
      assert.ok(!(next.device_lists?.left ?? []).includes(alice.userId), "alice still shares a room with bob");
    });

    it("device_one_time_keys_count and device_unused_fallback_key_types follow uploads and claims", async () => {
      const lea = await registerUser(base, `lea${++counter}`);
      const device = new TestDevice(lea.userId, lea.deviceId);
      const before = await sync(base, lea);
      assert.deepEqual(before.device_one_time_keys_count, {});
      assert.deepEqual(before.device_unused_fallback_key_types, []);
      await upload(lea, { device_keys: device.deviceKeys(), one_time_keys: device.oneTimeKeys(3), fallback_keys: device.fallbackKeys() });
      const after = await sync(base, lea, { since: before.next_batch });
      assert.deepEqual(after.device_one_time_keys_count, { signed_curve25519: 3 });
      assert.deepEqual(after.device_unused_fallback_key_types, ["signed_curve25519"]);
      const claim = await api(base, "POST", `${V3}/keys/claim`, { token: alice.accessToken, body: { one_time_keys: { [lea.userId]: { [lea.deviceId]: "signed_curve25519" } } } });
      assert.equal(claim.status, 200);
      const claimed = await sync(base, lea, { since: after.next_batch });
      assert.deepEqual(claimed.device_one_time_keys_count, { signed_curve25519: 2 });
    });
  });
});
