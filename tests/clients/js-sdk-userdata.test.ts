/**
 * matrix-js-sdk 43 request methods against per-user and ephemeral data (issue 5), no sync
 * loop: typing (sendTyping), receipts (sendReadReceipt / sendReceipt with a MatrixEvent built
 * from the server's event, threaded and unthreaded) and read markers (setRoomReadMarkers),
 * account data (setAccountData before start falls back to the raw PUT;
 * getAccountDataFromServer), room account data, tags (setRoomTag/getRoomTags/deleteRoomTag),
 * to-device (sendToDevice, one device and "*"), presence (setPresence/getPresence).
 * What the server stored is read back through app.services.
 */
import "./node20-polyfills.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type * as Sdk from "matrix-js-sdk";
import { loginNewDevice } from "../integration/room-helpers.js";
import { registerUser, startServer, type TestServer, type TestUser } from "../integration/harness.js";
import type { DeviceId, UserId } from "../../src/events/ids.js";
import { quietLogger } from "./js-sdk-support.js";


describe("matrix-js-sdk: typing, receipts, account data, tags, to-device, presence", () => {
  let server: TestServer;
  let sdk: typeof Sdk;
  let a: TestUser;
  let b: TestUser;
  let alice: Sdk.MatrixClient;
  let bob: Sdk.MatrixClient;
  let roomId: string;
  const clients: Sdk.MatrixClient[] = [];

  function clientFor(user: TestUser, opts: Partial<Sdk.ICreateClientOpts> = {}): Sdk.MatrixClient {
    const c = sdk.createClient({ baseUrl: server.baseUrl, userId: user.userId, accessToken: user.accessToken, deviceId: user.deviceId, logger: quietLogger, ...opts });
    clients.push(c);
    return c;
  }

  /** A MatrixEvent for an event the client sent (what a synced client would hold). */
  function eventOf(eventId: string, content: Record<string, unknown>, sender: string): Sdk.MatrixEvent {
    return new sdk.MatrixEvent({ event_id: eventId, room_id: roomId, type: "m.room.message", sender, content, origin_server_ts: Date.now() });
  }

  async function matrixError(p: Promise<unknown>): Promise<Sdk.MatrixError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof sdk.MatrixError, `expected a MatrixError, got ${String(err)}`);
      return err;
    }
    assert.fail("expected the request to fail");
  }

  const receipts = (user: TestUser) => server.app.services.storage.receipts.ofUser(user.userId as UserId, roomId);

  before(async () => {
    sdk = await import("matrix-js-sdk");
    const { logger } = await import("matrix-js-sdk/lib/logger.js");
    (logger as unknown as { setLevel(level: "silent"): void }).setLevel("silent");
    server = await startServer();
    a = await registerUser(server.baseUrl, "alice");
    b = await registerUser(server.baseUrl, "bob");
    alice = clientFor(a);
    bob = clientFor(b);
    roomId = (await alice.createRoom({ name: "User data", preset: sdk.Preset.PublicChat })).room_id;
    await bob.joinRoom(roomId);
  });
  after(async () => {
    for (const c of clients) c.stopClient();
    await server?.close();
  });

  it("sendTyping starts and stops typing", async () => {
    const typing = server.app.services.typing;
    await alice.sendTyping(roomId, true, 10_000);
    assert.deepEqual(typing.currentTyping(roomId), [a.userId]);
    await alice.sendTyping(roomId, false, 0);
    assert.deepEqual(typing.currentTyping(roomId), []);
    const err = await matrixError(bob.sendTyping("!nowhere:test.local", true, 1000));
    assert.equal(err.httpStatus, 403);
  });

  it("sendReadReceipt (unthreaded), sendReceipt m.read.private, and a threaded receipt", async () => {
    const body = { msgtype: "m.text", body: "hello" };
    const { event_id: first } = await alice.sendMessage(roomId, body as never);
    await bob.sendReadReceipt(eventOf(first, body, a.userId));
    let mine = await receipts(b);
    assert.deepEqual(mine.map((r) => [r.receiptType, r.threadId, r.eventId]), [["m.read", "", first]]);

    await bob.sendReceipt(eventOf(first, body, a.userId), sdk.ReceiptType.ReadPrivate);
    mine = await receipts(b);
    assert.equal(mine.find((r) => r.receiptType === "m.read.private")?.eventId, first);

    // Threaded receipts: the SDK adds thread_id itself only once started with threadSupport, so
    // the body carries it here, as that client would send it ("main", or the reply's root).
    const replyContent = { msgtype: "m.text", body: "in thread", "m.relates_to": { rel_type: "m.thread", event_id: first } };
    const { event_id: reply } = await alice.sendMessage(roomId, replyContent as never);
    const replyEvent = eventOf(reply, replyContent, a.userId);
    assert.equal(sdk.threadIdForReceipt(eventOf(first, body, a.userId)), "main");
    assert.equal(sdk.threadIdForReceipt(replyEvent), first);
    await bob.sendReceipt(eventOf(first, body, a.userId), sdk.ReceiptType.Read, { thread_id: sdk.threadIdForReceipt(eventOf(first, body, a.userId)) });
    await bob.sendReceipt(replyEvent, sdk.ReceiptType.Read, { thread_id: sdk.threadIdForReceipt(replyEvent) });
    mine = await receipts(b);
    assert.equal(mine.find((r) => r.threadId === "main")?.eventId, first);
    assert.equal(mine.find((r) => r.threadId === first)?.eventId, reply);

    const err = await matrixError(bob.sendReadReceipt(eventOf("$" + "Q".repeat(43), body, a.userId)));
    assert.equal(err.httpStatus, 404);
    assert.equal(err.errcode, "M_NOT_FOUND");
  });

  it("setRoomReadMarkers moves the read marker and the receipt", async () => {
    const body = { msgtype: "m.text", body: "marker" };
    const { event_id: ev } = await alice.sendMessage(roomId, body as never);
    await bob.setRoomReadMarkers(roomId, ev, eventOf(ev, body, a.userId));
    const marker = await server.app.services.storage.accountData.get(b.userId as UserId, roomId, "m.fully_read");
    assert.deepEqual(marker?.content, { event_id: ev });
    const mine = await receipts(b);
    assert.equal(mine.find((r) => r.receiptType === "m.read" && r.threadId === "")?.eventId, ev);
  });

  it("setAccountData (not started: raw PUT) and getAccountDataFromServer; room account data", async () => {
    assert.equal(await alice.getAccountDataFromServer("org.example.settings" as never), null, "M_NOT_FOUND reads as null");
    await alice.setAccountData("org.example.settings" as never, { theme: "dark" } as never);
    assert.deepEqual(await alice.getAccountDataFromServer("org.example.settings" as never), { theme: "dark" });
    await alice.setAccountData(sdk.EventType.Direct, { [b.userId]: [roomId] });
    assert.equal(await server.app.services.accountData.isDm(a.userId as UserId, roomId), true, "m.direct sets the DM flag");
    await alice.setRoomAccountData(roomId, "org.example.room" as never, { pinned: true } as never);
    const row = await server.app.services.storage.accountData.get(a.userId as UserId, roomId, "org.example.room");
    assert.deepEqual(row?.content, { pinned: true });
    const err = await matrixError(alice.setAccountData("m.fully_read" as never, {} as never));
    assert.equal(err.httpStatus, 405);
  });

  it("setRoomTag, getRoomTags, deleteRoomTag", async () => {
    await alice.setRoomTag(roomId, "m.favourite", { order: 0.5 });
    await alice.setRoomTag(roomId, "u.work");
    assert.deepEqual(await alice.getRoomTags(roomId), { tags: { "m.favourite": { order: 0.5 }, "u.work": {} } });
    await alice.deleteRoomTag(roomId, "m.favourite");
    assert.deepEqual(await alice.getRoomTags(roomId), { tags: { "u.work": {} } });
    const err = await matrixError(alice.setRoomTag(roomId, "u.bad", { order: 7 }));
    assert.equal(err.httpStatus, 400);
  });

  it("sendToDevice to one device and to every device with \"*\"; a repeated txn id is not delivered twice", async () => {
    const b2 = await loginNewDevice(server.baseUrl, b);
    const toDevice = server.app.services.toDevice;
    const pendingFor = (user: TestUser) => toDevice.pendingFor(user.userId as UserId, user.deviceId as DeviceId, server.app.services.storage.sequencer.retired(), 100);

    await alice.sendToDevice("org.example.one", new Map([[b.userId, new Map([[b.deviceId, { n: 1 }]])]]), "txn-one");
    assert.deepEqual((await pendingFor(b)).map((m) => [m.type, m.content]), [["org.example.one", { n: 1 }]]);
    assert.deepEqual(await pendingFor(b2), []);

    await alice.sendToDevice("org.example.all", new Map([[b.userId, new Map([["*", { n: 2 }]])]]), "txn-all");
    await alice.sendToDevice("org.example.all", new Map([[b.userId, new Map([["*", { n: 2 }]])]]), "txn-all");
    assert.deepEqual((await pendingFor(b)).map((m) => m.content), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual((await pendingFor(b2)).map((m) => m.content), [{ n: 2 }]);
  });

  it("setPresence and getPresence (own, and of a user sharing a room)", async () => {
    await alice.setPresence({ presence: sdk.SetPresence.Online, status_msg: "Around" });
    const own = await alice.getPresence(a.userId);
    assert.equal(own.presence, "online");
    assert.equal(own.status_msg, "Around");
    assert.equal(own.currently_active, true);
    const seen = await bob.getPresence(a.userId);
    assert.equal(seen.presence, "online");
    await alice.setPresence({ presence: sdk.SetPresence.Unavailable });
    assert.equal((await bob.getPresence(a.userId)).presence, "unavailable");
    const err = await matrixError(bob.getPresence("@stranger:test.local"));
    assert.equal(err.httpStatus, 403);
  });
});
