/**
 * UnreadCounts' running totals against a fresh count: random interleavings of notifying
 * events (main timeline and threads, highlights, other users and rooms), receipts (m.read,
 * m.read.private, threaded, backwards) and count requests (some concurrent) on real SQLite.
 * After every step, the kept totals must say what counting from scratch says.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { openSqliteStorage } from "../../../src/storage/sqlite/index.js";
import type { Storage } from "../../../src/storage/storage.js";
import type { NewEvent } from "../../../src/storage/rows.js";
import type { Pdu } from "../../../src/events/pdu.js";
import type { UserId } from "../../../src/events/ids.js";
import type { StreamPos } from "../../../src/streams/position.js";
import { UnreadCounts } from "../../../src/push/unread-counts.js";

const T0 = 1_700_000_000_000;
const users = ["@a:t", "@b:t"] as UserId[];
const rooms = ["!r1:t", "!r2:t"];
const threads = ["main", "$t1", "$t2"];

/** A small deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function persist(s: Storage, n: number, roomId: string, actions: { userId: UserId; threadId: string; highlight: boolean }[], newRoom = false): Promise<{ eventId: string; pos: StreamPos }> {
  const eventId = `$e${n}`;
  const pdu: Pdu = {
    room_id: roomId, sender: "@sender:t", origin_server_ts: T0 + n, type: newRoom ? "m.room.create" : "m.room.message", content: {},
    prev_events: [], auth_events: [], depth: n, hashes: { sha256: "x" }, signatures: {}, ...(newRoom ? { state_key: "" } : {}),
  };
  const ev: NewEvent = {
    eventId, roomId, pdu, newRoom: newRoom ? { roomVersion: "10", creator: "@sender:t" as UserId } : null, txn: null, redaction: null, relation: null,
    summary: {}, bumps: false,
    pushActions: actions.map((a) => ({ userId: a.userId, roomId, eventId, threadId: a.threadId, notify: true, highlight: a.highlight, actions: ["notify"], ts: T0 + n })),
  };
  return { eventId, pos: await s.events.persist(ev, T0) };
}

describe("UnreadCounts running totals", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`equal a fresh count after every step (seed ${seed})`, async () => {
      const random = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const s = openSqliteStorage({ path: ":memory:" });
      try {
        const kept = new UnreadCounts(s);
        s.sequencer.onRetired((c) => kept.onChange(c));
        let n = 0;
        const events = new Map<string, { eventId: string; pos: StreamPos; threadId: string }[]>(rooms.map((r) => [r, []]));
        for (const r of rooms) await persist(s, ++n, r, [], true);
        for (let step = 0; step < 150; step++) {
          const roll = random();
          if (roll < 0.45) {
            const roomId = pick(rooms);
            const threadId = pick(threads);
            const actions = users.filter(() => random() < 0.7).map((userId) => ({ userId, threadId, highlight: random() < 0.3 }));
            const ev = await persist(s, ++n, roomId, actions);
            events.get(roomId)!.push({ ...ev, threadId });
          } else if (roll < 0.65) {
            const roomId = pick(rooms);
            const target = events.get(roomId)!.length > 0 ? pick(events.get(roomId)!) : null;
            if (target) {
              const threaded = random() < 0.4;
              await s.receipts.put({
                roomId, userId: pick(users), receiptType: random() < 0.5 ? "m.read" : "m.read.private",
                threadId: threaded ? target.threadId : "", eventId: target.eventId, eventPos: target.pos, ts: T0 + n,
              });
            }
          } else {
            // Several requests at once, as the devices of one account syncing together.
            const asked = Array.from({ length: 1 + Math.floor(random() * 3) }, () => [pick(users), pick(rooms)] as const);
            const got = await Promise.all(asked.map(([u, r]) => kept.unreadCounts(u, r)));
            for (const [i, [u, r]] of asked.entries()) {
              assert.deepEqual(got[i], await new UnreadCounts(s).unreadCounts(u, r), `seed ${seed} step ${step}: ${u} in ${r}`);
            }
          }
        }
        for (const u of users) for (const r of rooms) assert.deepEqual(await kept.unreadCounts(u, r), await new UnreadCounts(s).unreadCounts(u, r));
      } finally {
        await s.close();
      }
    });
  }
});
