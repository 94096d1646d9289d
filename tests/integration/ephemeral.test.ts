/**
 * Receipts, read markers, typing, presence and send-to-device over real HTTP: what each
 * endpoint stores, every refusal (bad receipt target, not a member, bad thread_id, another
 * user's typing or presence, repeated to-device txn ids, oversize messages), "*" fan-out,
 * and the position each change takes in stream_log (with the right kind).
 * Every 200 is checked against the spec's OpenAPI documents.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { pino } from "pino";
import { api, registerUser, startServer, type ApiResponse, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, createRoom, enc, joinRoom, loginNewDevice, nextTxnId, roomAction, sendMessage, storageOf } from "./room-helpers.js";
import { ManualClock } from "../../src/util/clock.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";
import type { StreamLogRow } from "../../src/storage/rows.js";

/** Log rows written while `fn` runs, and fn's result. */
async function logDuring<T>(server: TestServer, fn: () => Promise<T>): Promise<{ rows: StreamLogRow[]; result: T }> {
  const s = storageOf(server);
  const before = await s.streams.highestPosition();
  const result = await fn();
  return { rows: await s.streams.read(before, await s.streams.highestPosition(), 1000), result };
}

const kinds = (rows: readonly StreamLogRow[]) => rows.map((r) => r.kind);

async function send(base: string, user: TestUser, roomId: string, content: Record<string, unknown>): Promise<string> {
  const res = await sendMessage(base, user, roomId, content);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.event_id;
}

function expectError(res: ApiResponse, status: number, errcode: string, what = ""): void {
  assert.equal(res.status, status, `${what} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errcode, errcode, what);
}

describe("receipts, read markers, typing, presence, to-device", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let roomId: string;
  const logLines: Record<string, unknown>[] = [];

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split("\n")) if (line.trim()) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    server = await startServer({}, { logger: pino({ level: "info" }, sink) });
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    carol = await registerUser(base, "carol");
    roomId = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, bob, roomId);
  });
  after(async () => {
    await server.close();
  });

  const receiptPath = (room: string, type: string, eventId: string) => `${V3}/rooms/${enc(room)}/receipt/${enc(type)}/${enc(eventId)}`;
  const postReceipt = (user: TestUser, room: string, type: string, eventId: string, body: unknown = {}) => api(base, "POST", receiptPath(room, type, eventId), { token: user.accessToken, body });
  const receiptsOf = (user: TestUser, room: string) => storageOf(server).receipts.ofUser(user.userId as UserId, room);

  describe("POST /receipt", () => {
    it("m.read is stored as an unthreaded receipt at a receipt position of the room", async () => {
      const ev = await send(base, alice, roomId, { msgtype: "m.text", body: "read me" });
      const { rows, result } = await logDuring(server, () => postReceipt(bob, roomId, "m.read", ev));
      assert.equal(result.status, 200, JSON.stringify(result.body));
      await assertMatchesSpec("receipts.yaml", "/rooms/{roomId}/receipt/{receiptType}/{eventId}", "post", 200, result.body);
      assert.deepEqual(rows.map((r) => [r.kind, r.roomId, r.userId]), [["receipt", roomId, bob.userId]]);
      const mine = await receiptsOf(bob, roomId);
      const read = mine.find((r) => r.receiptType === "m.read" && r.threadId === "");
      assert.equal(read?.eventId, ev);
    });

    it("m.read.private is its own receipt", async () => {
      const ev = await send(base, alice, roomId, { msgtype: "m.text", body: "private" });
      const res = await postReceipt(bob, roomId, "m.read.private", ev);
      assert.equal(res.status, 200);
      const mine = await receiptsOf(bob, roomId);
      assert.equal(mine.find((r) => r.receiptType === "m.read.private")?.eventId, ev);
    });

    it("receipts only move forward: an older event changes nothing and takes no position", async () => {
      const older = await send(base, alice, roomId, { msgtype: "m.text", body: "older" });
      const newer = await send(base, alice, roomId, { msgtype: "m.text", body: "newer" });
      assert.equal((await postReceipt(bob, roomId, "m.read", newer)).status, 200);
      const { rows, result } = await logDuring(server, () => postReceipt(bob, roomId, "m.read", older));
      assert.equal(result.status, 200);
      assert.deepEqual(rows, []);
      const mine = await receiptsOf(bob, roomId);
      assert.equal(mine.find((r) => r.receiptType === "m.read" && r.threadId === "")?.eventId, newer);
    });

    it("bad targets: unknown event 404, event of another room 404, malformed ids 400, unknown type 400", async () => {
      const otherRoom = await createRoom(base, bob);
      const elsewhere = await send(base, bob, otherRoom, { msgtype: "m.text", body: "elsewhere" });
      const ev = await send(base, alice, roomId, { msgtype: "m.text", body: "x" });
      expectError(await postReceipt(bob, roomId, "m.read", "$" + "A".repeat(43)), 404, "M_NOT_FOUND", "unknown event");
      expectError(await postReceipt(bob, roomId, "m.read", elsewhere), 404, "M_NOT_FOUND", "event of another room");
      expectError(await postReceipt(bob, roomId, "m.read", "not-an-event"), 400, "M_INVALID_PARAM", "malformed event id");
      expectError(await postReceipt(bob, "not-a-room", "m.read", ev), 400, "M_INVALID_PARAM", "malformed room id");
      expectError(await postReceipt(bob, roomId, "m.unknown", ev), 400, "M_INVALID_PARAM", "unknown receipt type");
    });

    it("not a member (never joined, or left) is 403", async () => {
      const ev = await send(base, alice, roomId, { msgtype: "m.text", body: "members only" });
      expectError(await postReceipt(carol, roomId, "m.read", ev), 403, "M_FORBIDDEN", "never joined");
      const room = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, carol, room);
      const ev2 = await send(base, alice, room, { msgtype: "m.text", body: "then left" });
      assert.equal((await roomAction(base, carol, room, "leave")).status, 200);
      expectError(await postReceipt(carol, room, "m.read", ev2), 403, "M_FORBIDDEN", "left");
    });

    it("an event the user may not see (history before their join, visibility joined) is 403", async () => {
      const room = await createRoom(base, alice, { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "joined" } }] });
      const hidden = await send(base, alice, room, { msgtype: "m.text", body: "before carol" });
      await joinRoom(base, carol, room);
      const seen = await send(base, alice, room, { msgtype: "m.text", body: "after carol" });
      expectError(await postReceipt(carol, room, "m.read", hidden), 403, "M_FORBIDDEN");
      assert.equal((await postReceipt(carol, room, "m.read", seen)).status, 200);
    });

    describe("threads", () => {
      let root: string;
      let reply: string;
      let reaction: string;
      let plain: string;

      before(async () => {
        root = await send(base, alice, roomId, { msgtype: "m.text", body: "thread root" });
        reply = await send(base, bob, roomId, { msgtype: "m.text", body: "in thread", "m.relates_to": { rel_type: "m.thread", event_id: root } });
        const res = await sendMessage(base, alice, roomId, { "m.relates_to": { rel_type: "m.annotation", event_id: reply, key: "👍" } }, { type: "m.reaction" });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        reaction = res.body.event_id;
        plain = await send(base, alice, roomId, { msgtype: "m.text", body: "main timeline" });
      });

      it("thread_id main fits a main-timeline event and the thread root", async () => {
        assert.equal((await postReceipt(bob, roomId, "m.read", plain, { thread_id: "main" })).status, 200);
        assert.equal((await postReceipt(carol, roomId, "m.read", root, { thread_id: "main" })).status, 403, "carol is not a member");
        const mine = await receiptsOf(bob, roomId);
        assert.equal(mine.find((r) => r.threadId === "main")?.eventId, plain);
      });

      it("a thread root's id fits the root, its replies and what relates to them", async () => {
        for (const ev of [root, reply, reaction]) {
          const res = await postReceipt(alice, roomId, "m.read", ev, { thread_id: root });
          assert.equal(res.status, 200, `${ev}: ${JSON.stringify(res.body)}`);
        }
        const mine = await receiptsOf(alice, roomId);
        assert.equal(mine.find((r) => r.threadId === root)?.eventId, reaction);
      });

      it("a thread_id that does not fit, is empty, is not a string, or comes with m.fully_read: 400 M_INVALID_PARAM", async () => {
        expectError(await postReceipt(bob, roomId, "m.read", reply, { thread_id: "main" }), 400, "M_INVALID_PARAM", "reply on main");
        expectError(await postReceipt(bob, roomId, "m.read", reaction, { thread_id: "main" }), 400, "M_INVALID_PARAM", "reaction to a reply on main");
        expectError(await postReceipt(bob, roomId, "m.read", plain, { thread_id: root }), 400, "M_INVALID_PARAM", "unrelated event in thread");
        expectError(await postReceipt(bob, roomId, "m.read", plain, { thread_id: plain }), 400, "M_INVALID_PARAM", "not a thread root");
        expectError(await postReceipt(bob, roomId, "m.read", plain, { thread_id: "" }), 400, "M_INVALID_PARAM", "empty");
        expectError(await postReceipt(bob, roomId, "m.read", plain, { thread_id: 5 }), 400, "M_INVALID_PARAM", "number");
        expectError(await postReceipt(bob, roomId, "m.fully_read", plain, { thread_id: "main" }), 400, "M_INVALID_PARAM", "fully_read");
      });
    });
  });

  describe("read markers", () => {
    const fullyRead = async (user: TestUser, room: string) => {
      const row = await storageOf(server).accountData.get(user.userId as UserId, room, "m.fully_read");
      return row?.content ?? null;
    };
    const markers = (user: TestUser, room: string, body: Record<string, unknown>) => api(base, "POST", `${V3}/rooms/${enc(room)}/read_markers`, { token: user.accessToken, body });

    it("POST /read_markers sets m.fully_read (room account data) and the receipts", async () => {
      const a = await send(base, alice, roomId, { msgtype: "m.text", body: "a" });
      const b = await send(base, alice, roomId, { msgtype: "m.text", body: "b" });
      const { rows, result } = await logDuring(server, () => markers(bob, roomId, { "m.fully_read": a, "m.read": b, "m.read.private": b }));
      assert.equal(result.status, 200, JSON.stringify(result.body));
      await assertMatchesSpec("read_markers.yaml", "/rooms/{roomId}/read_markers", "post", 200, result.body);
      assert.deepEqual(await fullyRead(bob, roomId), { event_id: a });
      assert.deepEqual(kinds(rows).sort(), ["account_data", "receipt", "receipt"]);
      const mine = await receiptsOf(bob, roomId);
      assert.equal(mine.find((r) => r.receiptType === "m.read" && r.threadId === "")?.eventId, b);
      assert.equal(mine.find((r) => r.receiptType === "m.read.private")?.eventId, b);
      const got = await api(base, "GET", `${V3}/user/${enc(bob.userId)}/rooms/${enc(roomId)}/account_data/m.fully_read`, { token: bob.accessToken });
      assert.deepEqual(got.body, { event_id: a }, "clients read the marker as room account data");
    });

    it("the read marker only moves forward", async () => {
      const a = await send(base, alice, roomId, { msgtype: "m.text", body: "first" });
      const b = await send(base, alice, roomId, { msgtype: "m.text", body: "second" });
      assert.equal((await markers(bob, roomId, { "m.fully_read": b })).status, 200);
      const { rows } = await logDuring(server, () => markers(bob, roomId, { "m.fully_read": a }));
      assert.deepEqual(rows, []);
      assert.deepEqual(await fullyRead(bob, roomId), { event_id: b });
    });

    it("POST /receipt/m.fully_read moves the marker (not a receipt)", async () => {
      const ev = await send(base, alice, roomId, { msgtype: "m.text", body: "via receipt" });
      const { rows, result } = await logDuring(server, () => postReceipt(bob, roomId, "m.fully_read", ev));
      assert.equal(result.status, 200);
      assert.deepEqual(kinds(rows), ["account_data"]);
      assert.deepEqual(await fullyRead(bob, roomId), { event_id: ev });
      assert.equal((await receiptsOf(bob, roomId)).some((r) => r.receiptType === "m.fully_read"), false);
    });

    it("a bad target refuses the whole request: nothing is written", async () => {
      const ev = await send(base, alice, roomId, { msgtype: "m.text", body: "good" });
      const { rows, result } = await logDuring(server, () => markers(bob, roomId, { "m.fully_read": ev, "m.read": "$" + "B".repeat(43) }));
      expectError(result, 404, "M_NOT_FOUND");
      assert.deepEqual(rows, []);
      expectError(await markers(carol, roomId, { "m.fully_read": ev }), 403, "M_FORBIDDEN", "not a member");
      expectError(await markers(bob, roomId, { "m.read": 5 }), 400, "M_BAD_JSON", "not a string");
    });

    it("an empty body is a no-op", async () => {
      const { rows, result } = await logDuring(server, () => markers(bob, roomId, {}));
      assert.equal(result.status, 200);
      assert.deepEqual(rows, []);
    });
  });

  describe("typing", () => {
    const typingPath = (room: string, user: TestUser | string) => `${V3}/rooms/${enc(room)}/typing/${enc(typeof user === "string" ? user : user.userId)}`;

    it("start and stop each take a typing position of the room; currentTyping follows", async () => {
      const typing = server.app.services.typing;
      const start = await logDuring(server, () => api(base, "PUT", typingPath(roomId, alice), { token: alice.accessToken, body: { typing: true, timeout: 30_000 } }));
      assert.equal(start.result.status, 200, JSON.stringify(start.result.body));
      await assertMatchesSpec("typing.yaml", "/rooms/{roomId}/typing/{userId}", "put", 200, start.result.body);
      assert.deepEqual(start.rows.map((r) => [r.kind, r.roomId]), [["typing", roomId]]);
      assert.deepEqual(typing.currentTyping(roomId), [alice.userId]);

      const repeat = await logDuring(server, () => api(base, "PUT", typingPath(roomId, alice), { token: alice.accessToken, body: { typing: true, timeout: 30_000 } }));
      assert.deepEqual(repeat.rows, [], "still typing: no new position");

      const stop = await logDuring(server, () => api(base, "PUT", typingPath(roomId, alice), { token: alice.accessToken, body: { typing: false } }));
      assert.equal(stop.result.status, 200);
      assert.deepEqual(stop.rows.map((r) => [r.kind, r.roomId]), [["typing", roomId]]);
      assert.deepEqual(typing.currentTyping(roomId), []);
    });

    it("another user's typing is 403; a non-member's is 403; a malformed body is 400", async () => {
      expectError(await api(base, "PUT", typingPath(roomId, bob), { token: alice.accessToken, body: { typing: true } }), 403, "M_FORBIDDEN", "other user");
      expectError(await api(base, "PUT", typingPath(roomId, carol), { token: carol.accessToken, body: { typing: true } }), 403, "M_FORBIDDEN", "not joined");
      expectError(await api(base, "PUT", typingPath(roomId, alice), { token: alice.accessToken, body: { timeout: 5 } }), 400, "M_BAD_JSON", "no typing");
      expectError(await api(base, "PUT", typingPath(roomId, alice), { token: alice.accessToken, body: { typing: "yes" } }), 400, "M_BAD_JSON", "typing not a boolean");
      expectError(await api(base, "PUT", typingPath("not-a-room", alice), { token: alice.accessToken, body: { typing: true } }), 400, "M_INVALID_PARAM", "bad room id");
      assert.deepEqual(server.app.services.typing.currentTyping(roomId), []);
    });
  });

  describe("presence", () => {
    const presencePath = (user: TestUser | string) => `${V3}/presence/${enc(typeof user === "string" ? user : user.userId)}/status`;

    it("PUT your own presence; GET answers it in the spec's shape; one presence position", async () => {
      const { rows, result } = await logDuring(server, () => api(base, "PUT", presencePath(alice), { token: alice.accessToken, body: { presence: "online", status_msg: "Working" } }));
      assert.equal(result.status, 200, JSON.stringify(result.body));
      await assertMatchesSpec("presence.yaml", "/presence/{userId}/status", "put", 200, result.body);
      assert.deepEqual(rows.map((r) => [r.kind, r.userId]), [["presence", alice.userId]]);
      const got = await api<Record<string, unknown>>(base, "GET", presencePath(alice), { token: alice.accessToken });
      assert.equal(got.status, 200);
      await assertMatchesSpec("presence.yaml", "/presence/{userId}/status", "get", 200, got.body);
      assert.equal(got.body.presence, "online");
      assert.equal(got.body.status_msg, "Working");
      assert.equal(got.body.currently_active, true);
      assert.equal(typeof got.body.last_active_ago, "number");
    });

    it("users sharing a room see each other's presence; others get 403", async () => {
      const fromBob = await api(base, "GET", presencePath(alice), { token: bob.accessToken });
      assert.equal(fromBob.status, 200, "bob shares a room with alice");
      await assertMatchesSpec("presence.yaml", "/presence/{userId}/status", "get", 200, fromBob.body);
      const loner = await registerUser(base, "loner");
      expectError(await api(base, "GET", presencePath(alice), { token: loner.accessToken }), 403, "M_FORBIDDEN", "no shared room");
      expectError(await api(base, "GET", presencePath("@nobody:test.local"), { token: loner.accessToken }), 403, "M_FORBIDDEN", "unknown user");
      const never = await api(base, "GET", presencePath(loner), { token: loner.accessToken });
      assert.deepEqual(never.body, { presence: "offline" }, "your own presence, never set");
      const room = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, loner, room);
      assert.equal((await api(base, "GET", presencePath(alice), { token: loner.accessToken })).status, 200, "once they share a room");
      assert.equal((await roomAction(base, loner, room, "leave")).status, 200);
      expectError(await api(base, "GET", presencePath(alice), { token: loner.accessToken }), 403, "M_FORBIDDEN", "after leaving");
    });

    it("refusals: another user's presence 403; bad state, unknown keys or non-string status_msg 400", async () => {
      expectError(await api(base, "PUT", presencePath(bob), { token: alice.accessToken, body: { presence: "online" } }), 403, "M_FORBIDDEN");
      expectError(await api(base, "PUT", presencePath(alice), { token: alice.accessToken, body: { presence: "busy" } }), 400, "M_BAD_JSON");
      expectError(await api(base, "PUT", presencePath(alice), { token: alice.accessToken, body: { presence: "online", extra: 1 } }), 400, "M_BAD_JSON");
      expectError(await api(base, "PUT", presencePath(alice), { token: alice.accessToken, body: { presence: "online", status_msg: 5 } }), 400, "M_BAD_JSON");
      expectError(await api(base, "PUT", presencePath(alice), { token: alice.accessToken, body: {} }), 400, "M_BAD_JSON");
    });
  });

  describe("PUT /sendToDevice", () => {
    const toDevicePath = (type: string, txnId: string) => `${V3}/sendToDevice/${enc(type)}/${enc(txnId)}`;
    const pending = (user: TestUser) => server.app.services.toDevice.pendingFor(user.userId as UserId, user.deviceId as DeviceId, storageOf(server).sequencer.retired(), 100);

    it('"*" reaches every device of the user; one to_device position; the content arrives intact', async () => {
      const dave = await registerUser(base, "dave");
      const dave2 = await loginNewDevice(base, dave);
      const txn = nextTxnId();
      const { rows, result } = await logDuring(server, () =>
        api(base, "PUT", toDevicePath("org.example.ping", txn), { token: alice.accessToken, body: { messages: { [dave.userId]: { "*": { n: 1, f: 1.5 } } } } }),
      );
      assert.equal(result.status, 200, JSON.stringify(result.body));
      await assertMatchesSpec("to_device.yaml", "/sendToDevice/{eventType}/{txnId}", "put", 200, result.body);
      assert.deepEqual(rows.map((r) => [r.kind, r.userId]), [["to_device", alice.userId]]);
      for (const device of [dave, dave2]) {
        const got = await pending(device);
        assert.deepEqual(
          got.map((m) => ({ sender: m.sender, type: m.type, content: m.content })),
          [{ sender: alice.userId, type: "org.example.ping", content: { n: 1, f: 1.5 } }],
          device.deviceId,
        );
      }
      await server.app.services.toDevice.acknowledge(dave.userId as UserId, dave.deviceId as DeviceId, rows[0]!.pos);
      assert.deepEqual(await pending(dave), []);
      assert.equal((await pending(dave2)).length, 1, "acknowledging is per device");
    });

    it("a repeated txn id queues nothing and takes no position", async () => {
      const erin = await registerUser(base, "erin");
      const txn = nextTxnId();
      const body = { messages: { [erin.userId]: { [erin.deviceId]: { n: 1 } } } };
      assert.equal((await api(base, "PUT", toDevicePath("m.test", txn), { token: alice.accessToken, body })).status, 200);
      const { rows, result } = await logDuring(server, () => api(base, "PUT", toDevicePath("m.test", txn), { token: alice.accessToken, body: { messages: { [erin.userId]: { [erin.deviceId]: { n: 2 } } } } }));
      assert.equal(result.status, 200, "a repeat succeeds");
      assert.deepEqual(rows, []);
      assert.deepEqual((await pending(erin)).map((m) => m.content), [{ n: 1 }]);
      const otherType = await api(base, "PUT", toDevicePath("m.other", txn), { token: alice.accessToken, body });
      assert.equal(otherType.status, 200);
      assert.equal((await pending(erin)).length, 1, "the txn id is per sender device, whatever the type");
    });

    it("unknown devices and users are ignored; remote users are skipped with a log line", async () => {
      const frank = await registerUser(base, "frank");
      logLines.length = 0;
      const { rows, result } = await logDuring(server, () =>
        api(base, "PUT", toDevicePath("m.test", nextTxnId()), {
          token: alice.accessToken,
          body: { messages: { [frank.userId]: { NOSUCHDEVICE: { n: 1 } }, "@ghost:test.local": { "*": { n: 2 } }, "@remote:elsewhere.example": { "*": { n: 3 } }, "not-a-user": { X: {} } } },
        }),
      );
      assert.equal(result.status, 200, JSON.stringify(result.body));
      assert.deepEqual(rows, [], "nothing was queued, so no position");
      assert.deepEqual(await pending(frank), []);
      const line = logLines.find((l) => Array.isArray(l.remoteUsers));
      assert.deepEqual(line?.remoteUsers, ["@remote:elsewhere.example"]);
    });

    it("a message over 64 KiB is 413 M_TOO_LARGE and nothing is queued; malformed bodies are 400", async () => {
      const gina = await registerUser(base, "gina");
      const big = { messages: { [gina.userId]: { [gina.deviceId]: { small: 1 } }, [bob.userId]: { "*": { blob: "x".repeat(70_000) } } } };
      expectError(await api(base, "PUT", toDevicePath("m.test", nextTxnId()), { token: alice.accessToken, body: big }), 413, "M_TOO_LARGE");
      assert.deepEqual(await pending(gina), []);
      expectError(await api(base, "PUT", toDevicePath("m.test", nextTxnId()), { token: alice.accessToken, body: {} }), 400, "M_BAD_JSON", "no messages");
      expectError(await api(base, "PUT", toDevicePath("m.test", nextTxnId()), { token: alice.accessToken, body: { messages: { [gina.userId]: { D: "text" } } } }), 400, "M_BAD_JSON", "content not an object");
    });
  });
});

describe("presence: idle users become unavailable on their own", () => {
  it("after presence.idleAfterMs without activity, the sweep writes unavailable at a presence position", async () => {
    const clock = new ManualClock(Date.now());
    const server = await startServer({ presence: { idleAfterMs: 60_000 } }, { clock });
    try {
      const base = server.baseUrl;
      const user = await registerUser(base, "idler");
      const path = `${V3}/presence/${enc(user.userId)}/status`;
      assert.equal((await api(base, "PUT", path, { token: user.accessToken, body: { presence: "online" } })).status, 200);
      clock.advance(59_000);
      assert.equal(await server.app.services.presence.sweepIdle(), 0);
      clock.advance(1_000);
      const { rows, result } = await logDuring(server, () => server.app.services.presence.sweepIdle());
      assert.equal(result, 1);
      assert.deepEqual(rows.map((r) => [r.kind, r.userId]), [["presence", user.userId]]);
      const got = await api<Record<string, unknown>>(base, "GET", path, { token: user.accessToken });
      await assertMatchesSpec("presence.yaml", "/presence/{userId}/status", "get", 200, got.body);
      assert.deepEqual(got.body, { presence: "unavailable", last_active_ago: 60_000 });
      await server.app.services.presence.bumpActivity(user.userId as UserId);
      const back = await api<Record<string, unknown>>(base, "GET", path, { token: user.accessToken });
      assert.equal(back.body.presence, "online", "activity brings them back");
    } finally {
      await server.close();
    }
  });
});
