/** RecentLog: what it answers from memory, and when it says "read the table". */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RecentLog } from "../../../src/storage/sqlite/recent-log.js";
import type { StreamPos } from "../../../src/streams/position.js";

const p = (n: number) => n as StreamPos;
const row = (pos: number) => ({ pos: p(pos), kind: "event", userId: null, roomId: `!r${pos}:t`, stamp: 1000 + pos, ts: pos });

describe("RecentLog", () => {
  it("answers only for ranges starting at or after what it has held since start-up", () => {
    const log = new RecentLog(10); // rows 1..10 were in the table before this process
    for (let pos = 11; pos <= 15; pos++) log.add(row(pos));
    assert.equal(log.read(p(9), p(15), 100), null, "position 10 is only in the table");
    assert.deepEqual(log.read(p(10), p(15), 100)?.map((r) => r.pos), [11, 12, 13, 14, 15]);
    assert.deepEqual(log.read(p(12), p(14), 100)?.map((r) => r.pos), [13, 14]);
    assert.deepEqual(log.read(p(10), p(15), 2)?.map((r) => r.pos), [11, 12], "limit");
    assert.equal(log.stamp(p(13)), 1013);
    assert.equal(log.stamp(p(10)), undefined);
  });

  it("skips positions that never got a row (abandoned), as the table does", () => {
    const log = new RecentLog(0);
    log.add(row(1));
    log.add(row(3));
    assert.deepEqual(log.read(p(0), p(3), 10)?.map((r) => r.pos), [1, 3]);
  });

  it("when full, forgets the oldest and sends reads that reach below it to the table", () => {
    const log = new RecentLog(0, 3);
    for (let pos = 1; pos <= 5; pos++) log.add(row(pos));
    assert.equal(log.read(p(1), p(5), 10), null, "row 2 was forgotten");
    assert.deepEqual(log.read(p(2), p(5), 10)?.map((r) => r.pos), [3, 4, 5]);
    assert.equal(log.stamp(p(2)), undefined);
  });
});
