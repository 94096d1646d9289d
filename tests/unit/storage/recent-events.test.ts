/** RecentEvents: what it answers from memory (EventRange's rules), and when it says "read the table". */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecentEvents } from "../../../src/storage/sqlite/recent-events.js";
import type { EventSqlRow } from "../../../src/storage/sqlite/event-rows.js";
import type { EventRange } from "../../../src/storage/storage.js";
import { asStreamPos } from "../../../src/streams/position.js";

const row = (pos: number, room: string): EventSqlRow => ({ pos, event_id: `$e${pos}`, room_id: room, json: `{"n":${pos}}`, redacted_by: null });
const range = (dir: "b" | "f", from: number | null, to: number | null, limit = 100): EventRange => ({
  dir,
  from: from === null ? null : asStreamPos(from),
  to: to === null ? null : asStreamPos(to),
  limit,
});

/** EventRange's documented selection over one room's positions (ascending). */
function expected(all: readonly number[], r: EventRange): number[] {
  if (r.dir === "b") return all.filter((x) => (r.from === null || x < r.from) && (r.to === null || x >= r.to)).reverse().slice(0, r.limit);
  return all.filter((x) => (r.from === null || x >= r.from) && (r.to === null || x < r.to)).slice(0, r.limit);
}

describe("RecentEvents", () => {
  it("answers every range whose low end it covers as the table would, per room", () => {
    const held = new RecentEvents(10); // positions up to 10 were in the table before start-up
    const rooms = new Map<string, number[]>([["!a", []], ["!b", []]]);
    for (let pos = 11; pos <= 40; pos++) {
      if (pos % 7 === 0) continue; // a position that is not an event (or was abandoned)
      const room = pos % 3 === 0 ? "!b" : "!a";
      held.add(row(pos, room));
      rooms.get(room)!.push(pos);
    }
    const bounds = [null, ...Array.from({ length: 35 }, (_, i) => i + 8)];
    for (const [room, positions] of rooms) {
      for (const dir of ["b", "f"] as const) {
        for (const limit of [2, 100]) {
          for (const from of bounds) {
            for (const to of bounds) {
              const r = range(dir, from, to, limit);
              const low = dir === "b" ? to : from;
              const got = held.inRoom(room, r);
              if (low === null || low < 11) assert.equal(got, null, `${room} ${JSON.stringify(r)} reaches into the table`);
              else assert.deepEqual(got?.map((e) => e.pos), expected(positions, r), `${room} ${JSON.stringify(r)}`);
            }
          }
        }
      }
    }
    assert.deepEqual(held.inRoom("!none", range("b", null, 11)), []);
  });

  it("when full, forgets the oldest event and sends ranges reaching below it to the table", () => {
    const held = new RecentEvents(0, 3);
    for (let pos = 1; pos <= 5; pos++) held.add(row(pos, pos === 2 ? "!b" : "!a"));
    assert.equal(held.inRoom("!a", range("f", 2, null)), null, "position 2 was forgotten");
    assert.deepEqual(held.inRoom("!a", range("f", 3, null))?.map((e) => e.pos), [3, 4, 5]);
    assert.deepEqual(held.inRoom("!b", range("b", null, 3)), [], "the forgotten room holds nothing above it");
  });

  it("applies a redaction to a held event, and ignores one of an event it does not hold", () => {
    const held = new RecentEvents(0);
    held.add(row(1, "!a"));
    held.add(row(2, "!a"));
    held.redact("$e1", "{}", "$e2");
    held.redact("$old", "{}", "$e2");
    assert.deepEqual(held.inRoom("!a", range("f", 1, null)), [{ ...row(1, "!a"), json: "{}", redacted_by: "$e2" }, row(2, "!a")]);
  });
});
