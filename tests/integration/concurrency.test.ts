/**
 * Concurrent writes over real HTTP: 10 writers sending 20 messages each into one room,
 * while 20 rooms are created and written at once, all in parallel. Afterwards the stored
 * history must be whole and well-formed:
 *   - every acknowledged event id is stored, in its room, with the content sent;
 *   - stream_log positions run 1..N without a gap, and the sequencer's frontier is N;
 *   - in each room, events have strictly increasing depth and each one's prev_events is
 *     exactly the previous event (local rooms have one linear history);
 *   - each writer's sequential sends are stored in the order they were acknowledged;
 *   - a txn id sent twice at the same moment gives one event.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { ORIGIN } from "../../src/streams/position.js";
import { registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom, nextTxnId, putState, roomEvents, sendMessage, storageOf } from "./room-helpers.js";

const WRITERS = 10;
const MESSAGES_PER_WRITER = 20;
const ROOMS = 20;
const MESSAGES_PER_ROOM = 10;

interface Sent {
  eventId: string;
  roomId: string;
  content: Record<string, unknown>;
}

describe("concurrent writes", () => {
  let server: TestServer;
  let base: string;
  let owner: TestUser;
  const writers: TestUser[] = [];

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    owner = await registerUser(base, "owner");
    for (let i = 0; i < WRITERS; i++) writers.push(await registerUser(base, `writer${i}`));
  });
  after(async () => {
    await server.close();
  });

  it(`${WRITERS} writers × ${MESSAGES_PER_WRITER} messages into one room, plus ${ROOMS} rooms written at once`, async () => {
    const shared = await createRoom(base, owner, { preset: "public_chat", name: "Shared" });
    await Promise.all(writers.map((w) => joinRoom(base, w, shared)));

    const acknowledged: Sent[] = [];
    const ack = (roomId: string, content: Record<string, unknown>, res: { status: number; body: { event_id: string } }) => {
      assert.equal(res.status, 200, JSON.stringify(res.body));
      acknowledged.push({ eventId: res.body.event_id, roomId, content });
      return res.body.event_id;
    };

    /** Each writer sends its messages one after another, as a client would. */
    const perWriterOrder = new Map<string, string[]>();
    const writerWork = writers.map(async (w, i) => {
      const ids: string[] = [];
      for (let n = 0; n < MESSAGES_PER_WRITER; n++) {
        const content = { msgtype: "m.text", body: `writer ${i} message ${n}` };
        ids.push(ack(shared, content, await sendMessage(base, w, shared, content)));
      }
      perWriterOrder.set(w.userId, ids);
    });

    /** Rooms created at the same time, each filled with messages sent all at once plus a topic. */
    const roomIds: string[] = [];
    const roomWork = Array.from({ length: ROOMS }, async (_, r) => {
      const creator = writers[r % WRITERS]!;
      const roomId = await createRoom(base, creator, { preset: "public_chat", name: `Room ${r}`, topic: "parallel" });
      roomIds.push(roomId);
      await Promise.all([
        ...Array.from({ length: MESSAGES_PER_ROOM }, async (_, n) => {
          const content = { msgtype: "m.text", body: `room ${r} message ${n}` };
          ack(roomId, content, await sendMessage(base, creator, roomId, content));
        }),
        (async () => {
          const content = { topic: `topic of room ${r}` };
          ack(roomId, content, await putState(base, creator, roomId, "m.room.topic", "", content));
        })(),
      ]);
    });

    /** The same (device, txn id) sent twice at the same moment: one event, one id. */
    const duplicateWork = Array.from({ length: 5 }, async (_, d) => {
      const txnId = nextTxnId();
      const content = { msgtype: "m.text", body: `duplicate ${d}` };
      const [a, b] = await Promise.all([
        sendMessage(base, owner, shared, content, { txnId }),
        sendMessage(base, owner, shared, content, { txnId }),
      ]);
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal(a.body.event_id, b.body.event_id, "a repeated txn id answers the first event id");
      ack(shared, content, a);
    });

    await Promise.all([...writerWork, ...roomWork, ...duplicateWork]);
    assert.equal(acknowledged.length, WRITERS * MESSAGES_PER_WRITER + ROOMS * (MESSAGES_PER_ROOM + 1) + 5);

    const storage = storageOf(server);

    // Every acknowledged event is stored, in its room, with what was sent.
    for (const sent of acknowledged) {
      const row = await storage.events.get(sent.eventId);
      assert.ok(row, `event ${sent.eventId} is stored`);
      assert.equal(row.roomId, sent.roomId);
      assert.deepEqual(row.pdu.content, sent.content);
    }
    assert.equal(new Set(acknowledged.map((s) => s.eventId)).size, acknowledged.length, "no two sends share an event id");

    // Positions are gap-free from 1 to the highest, and the read frontier has reached it.
    const highest = await storage.streams.highestPosition();
    const log = await storage.streams.read(ORIGIN, highest, highest + 10);
    assert.equal(log.length, highest, "one log row per position");
    log.forEach((row, i) => assert.equal(row.pos, i + 1, `position ${i + 1} is present`));
    assert.equal(storage.sequencer.retired(), highest, "every position has retired");

    // Each room has one linear history: increasing depth, prev_events = the previous event.
    for (const roomId of [shared, ...roomIds]) {
      const events = await roomEvents(server, roomId);
      assert.equal(events[0]?.pdu.type, "m.room.create", `${roomId} starts with its create event`);
      assert.deepEqual(events[0]?.pdu.prev_events, []);
      for (let i = 1; i < events.length; i++) {
        const prev = events[i - 1]!;
        const cur = events[i]!;
        assert.ok(cur.pos > prev.pos, `${roomId}: positions increase`);
        assert.ok(cur.pdu.depth > prev.pdu.depth, `${roomId}: depth ${cur.pdu.depth} after ${prev.pdu.depth}`);
        assert.deepEqual(cur.pdu.prev_events, [prev.eventId], `${roomId}: event ${i} points at the one before it`);
      }
      const room = await storage.rooms.get(roomId);
      assert.equal(room?.lastEventId, events.at(-1)?.eventId, `${roomId}: the room's extremity is its newest event`);
      assert.equal(room?.lastDepth, events.at(-1)?.pdu.depth);
    }

    // Counts per room: nothing lost, nothing doubled.
    const sharedMessages = (await roomEvents(server, shared)).filter((e) => e.pdu.type === "m.room.message");
    assert.equal(sharedMessages.length, WRITERS * MESSAGES_PER_WRITER + 5);
    for (const roomId of roomIds) {
      const events = await roomEvents(server, roomId);
      assert.equal(events.filter((e) => e.pdu.type === "m.room.message").length, MESSAGES_PER_ROOM);
      assert.equal((await storage.rooms.summary(roomId))?.topic?.startsWith("topic of room "), true);
    }

    // A writer's sequential sends are stored in the order they were acknowledged.
    const posOf = new Map(sharedMessages.map((e) => [e.eventId, e.pos]));
    for (const [userId, ids] of perWriterOrder) {
      const positions = ids.map((id) => posOf.get(id)!);
      assert.deepEqual(positions, [...positions].sort((a, b) => a - b), `${userId}'s messages keep their order`);
    }
    const summary = await storage.rooms.summary(shared);
    assert.equal(summary?.joinedCount, WRITERS + 1);
    assert.equal(summary?.bumpPos, sharedMessages.at(-1)?.pos, "the shared room's bump position is its newest message");
  });
});
