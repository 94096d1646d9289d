/**
 * matrix-js-sdk 43 request methods against the room model (issue 4), no sync yet:
 * two users create a room, invite, join, exchange 100 messages, edit, react, redact, and
 * both paginate back with createMessagesRequest to the very first event; their timelines
 * must be identical and hold exactly what was sent, in order.
 */
import "./node20-polyfills.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type * as Sdk from "matrix-js-sdk";
import { registerUser, startServer, type TestServer } from "../integration/harness.js";
import { quietLogger } from "./js-sdk-support.js";


interface WireEvent {
  event_id: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  unsigned?: Record<string, unknown>;
}

/** Every event of the room, oldest first, by paging /messages backwards from the newest. */
async function fullTimeline(client: Sdk.MatrixClient, roomId: string): Promise<WireEvent[]> {
  const events: WireEvent[] = [];
  let from: string | null = null;
  for (let page = 0; page < 100; page++) {
    const res = await client.createMessagesRequest(roomId, from, 30, "b" as Sdk.Direction);
    events.push(...(res.chunk as unknown as WireEvent[]));
    if (!res.end || res.chunk.length === 0) return events.reverse();
    from = res.end;
  }
  throw new Error("pagination did not end");
}

describe("matrix-js-sdk: a conversation through the room APIs", () => {
  let server: TestServer;
  let sdk: typeof Sdk;
  let alice: Sdk.MatrixClient;
  let bob: Sdk.MatrixClient;
  let roomId: string;
  const sent: { id: string; sender: string; body: string }[] = [];

  before(async () => {
    sdk = await import("matrix-js-sdk");
    const { logger } = await import("matrix-js-sdk/lib/logger.js");
    (logger as unknown as { setLevel(level: "silent"): void }).setLevel("silent");
    server = await startServer();
    const a = await registerUser(server.baseUrl, "alice");
    const b = await registerUser(server.baseUrl, "bob");
    alice = sdk.createClient({ baseUrl: server.baseUrl, userId: a.userId, accessToken: a.accessToken, deviceId: a.deviceId, logger: quietLogger });
    bob = sdk.createClient({ baseUrl: server.baseUrl, userId: b.userId, accessToken: b.accessToken, deviceId: b.deviceId, logger: quietLogger });
  });
  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server?.close();
  });

  it("alice creates a room and invites bob; bob joins", async () => {
    const created = await alice.createRoom({ name: "Conversation", preset: sdk.Preset.PrivateChat });
    roomId = created.room_id;
    await alice.invite(roomId, bob.getUserId()!);
    const joined = await bob.joinRoom(roomId);
    assert.equal(joined.roomId, roomId);
    const members = await alice.getJoinedRoomMembers(roomId);
    assert.deepEqual(Object.keys(members.joined).sort(), [alice.getUserId(), bob.getUserId()].sort());
  });

  it("they exchange 100 messages", async () => {
    for (let i = 0; i < 100; i++) {
      const client = i % 2 === 0 ? alice : bob;
      const body = `message ${i}`;
      const res = await client.sendMessage(roomId, { msgtype: sdk.MsgType.Text, body });
      assert.match(res.event_id, /^\$/);
      sent.push({ id: res.event_id, sender: client.getUserId()!, body });
    }
  });

  it("bob edits, alice reacts, alice redacts one of her messages", async () => {
    const bobs = sent.find((m) => m.sender === bob.getUserId())!;
    await bob.sendMessage(roomId, {
      msgtype: sdk.MsgType.Text,
      body: "* edited",
      "m.new_content": { msgtype: sdk.MsgType.Text, body: "edited" },
      "m.relates_to": { rel_type: sdk.RelationType.Replace, event_id: bobs.id },
    } as never);
    await alice.sendEvent(roomId, sdk.EventType.Reaction, { "m.relates_to": { rel_type: sdk.RelationType.Annotation, event_id: bobs.id, key: "👍" } } as never);
    const alices = sent.find((m) => m.sender === alice.getUserId())!;
    await alice.redactEvent(roomId, alices.id, undefined, { reason: "oops" });
    // Someone else's event cannot be redacted by bob (power level 0 < redact 50).
    await assert.rejects(bob.redactEvent(roomId, sent[2]!.id), (e: unknown) => e instanceof sdk.MatrixError && e.errcode === "M_FORBIDDEN");
  });

  it("both paginate back to the start and see the same, complete timeline", async () => {
    const seenByAlice = await fullTimeline(alice, roomId);
    const seenByBob = await fullTimeline(bob, roomId);
    assert.deepEqual(seenByBob.map((e) => e.event_id), seenByAlice.map((e) => e.event_id));
    assert.equal(seenByAlice[0]!.type, "m.room.create");

    const messages = seenByAlice.filter((e) => e.type === "m.room.message" && !("m.new_content" in e.content) && e.unsigned?.redacted_because === undefined);
    const redacted = seenByAlice.filter((e) => e.unsigned?.redacted_because !== undefined);
    assert.equal(redacted.length, 1);
    assert.equal(redacted[0]!.event_id, sent.find((m) => m.sender === alice.getUserId())!.id);
    assert.deepEqual(redacted[0]!.content, {});
    // The 99 unredacted messages in order, each with its sender and body.
    const expected = sent.filter((m) => m.id !== redacted[0]!.event_id);
    assert.deepEqual(messages.map((e) => [e.event_id, e.sender, e.content.body]), expected.map((m) => [m.id, m.sender, m.body]));
    assert.equal(seenByAlice.filter((e) => e.type === "m.reaction").length, 1);
    assert.equal(seenByAlice.filter((e) => e.type === "m.room.redaction").length, 1);
  });

  it("relations: the edit and the reaction hang off bob's message", async () => {
    const bobs = sent.find((m) => m.sender === bob.getUserId())!;
    const edits = await alice.relations(roomId, bobs.id, sdk.RelationType.Replace, null);
    assert.equal(edits.events.length, 1);
    assert.equal(edits.events[0]!.getContent()["m.new_content"]?.body, "edited");
    const reactions = await bob.relations(roomId, bobs.id, sdk.RelationType.Annotation, sdk.EventType.Reaction);
    assert.equal(reactions.events.length, 1);
    assert.equal(reactions.events[0]!.getSender(), alice.getUserId());
  });

  it("forward pagination from the start returns the same sequence", async () => {
    const backwards = await fullTimeline(alice, roomId);
    const forwards: WireEvent[] = [];
    let from: string | null = null;
    for (let page = 0; page < 100; page++) {
      const res = await alice.createMessagesRequest(roomId, from, 25, "f" as Sdk.Direction);
      forwards.push(...(res.chunk as unknown as WireEvent[]));
      if (!res.end || res.chunk.length === 0) break;
      from = res.end;
    }
    assert.deepEqual(forwards.map((e) => e.event_id), backwards.map((e) => e.event_id));
  });
});
