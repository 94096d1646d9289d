import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sequencer } from "../../src/streams/sequencer.js";
import { ORIGIN, asStreamPos, type StreamChange } from "../../src/streams/position.js";

/** A sequencer whose listener records what it hears and checks it never runs ahead of retired(). */
function observed(start = ORIGIN) {
  const seq = new Sequencer(start);
  const heard: StreamChange[] = [];
  seq.onRetired((c) => {
    assert.ok(c.pos <= seq.retired(), `heard ${c.pos} while retired() is ${seq.retired()}`);
    heard.push(c);
  });
  return { seq, heard, positions: () => heard.map((c) => c.pos as number) };
}

describe("Sequencer", () => {
  it("starts empty at ORIGIN", () => {
    const seq = new Sequencer(ORIGIN);
    assert.equal(seq.retired(), 0);
    assert.equal(seq.allocatedUpTo(), 0);
  });

  it("honours the start position", () => {
    const { seq, positions } = observed(asStreamPos(41));
    assert.equal(seq.retired(), 41);
    assert.equal(seq.allocatedUpTo(), 41);
    const p = seq.allocate();
    assert.equal(p.pos, 42);
    p.retire({ kind: "profile" });
    assert.equal(seq.retired(), 42);
    assert.deepEqual(positions(), [42]);
  });

  it("allocates increasing positions and retires in order", () => {
    const { seq, heard } = observed();
    const a = seq.allocate();
    const b = seq.allocate();
    assert.deepEqual([a.pos, b.pos], [1, 2]);
    assert.equal(seq.allocatedUpTo(), 2);
    assert.equal(seq.retired(), 0, "allocation alone publishes nothing");
    a.retire({ kind: "device_list", userIds: ["@a:test"] });
    assert.equal(seq.retired(), 1);
    b.retire({ kind: "event", roomId: "!r:test" });
    assert.equal(seq.retired(), 2);
    assert.deepEqual(heard, [
      { pos: 1, kind: "device_list", userIds: ["@a:test"] },
      { pos: 2, kind: "event", roomId: "!r:test" },
    ]);
  });

  it("retire without a change publishes kind 'unknown'; the permit's pos always wins", () => {
    const { seq, heard } = observed();
    seq.allocate().retire();
    const p = seq.allocate();
    p.retire({ kind: "profile", pos: asStreamPos(99) } as unknown as Omit<StreamChange, "pos">);
    assert.deepEqual(heard, [
      { pos: 1, kind: "unknown" },
      { pos: 2, kind: "profile" },
    ]);
  });

  it("out-of-order retirement holds later changes until the gap closes", () => {
    const { seq, positions } = observed();
    const p1 = seq.allocate();
    const p2 = seq.allocate();
    const p3 = seq.allocate();
    p3.retire({ kind: "k3" });
    assert.equal(seq.retired(), 0, "3 cannot be read while 1 and 2 are open");
    assert.deepEqual(positions(), []);
    p1.retire({ kind: "k1" });
    assert.equal(seq.retired(), 1);
    assert.deepEqual(positions(), [1]);
    p2.retire({ kind: "k2" });
    assert.equal(seq.retired(), 3);
    assert.deepEqual(positions(), [1, 2, 3]);
  });

  it("out-of-order retirement: listeners get each change's own kind", () => {
    const { seq, heard } = observed();
    const p = [seq.allocate(), seq.allocate(), seq.allocate(), seq.allocate()];
    p[2]!.retire({ kind: "c" });
    p[1]!.retire({ kind: "b" });
    p[3]!.retire({ kind: "d" });
    p[0]!.retire({ kind: "a" });
    assert.deepEqual(heard.map((c) => [c.pos, c.kind]), [[1, "a"], [2, "b"], [3, "c"], [4, "d"]]);
    assert.equal(seq.retired(), 4);
  });

  it("abandoning the last allocated position reuses its number", () => {
    const { seq, positions } = observed();
    const p1 = seq.allocate();
    const p2 = seq.allocate();
    p2.abandon();
    assert.equal(seq.allocatedUpTo(), 1);
    const again = seq.allocate();
    assert.equal(again.pos, 2, "position 2 is handed out again");
    p1.retire({ kind: "k" });
    again.retire({ kind: "k" });
    assert.deepEqual(positions(), [1, 2]);
    assert.equal(seq.retired(), 2);
  });

  it("abandoning several positions newest-first (a rollback) reuses them all", () => {
    const { seq, positions } = observed();
    const ps = [seq.allocate(), seq.allocate(), seq.allocate()];
    for (const p of [...ps].reverse()) p.abandon();
    assert.equal(seq.allocatedUpTo(), 0);
    assert.equal(seq.retired(), 0);
    assert.equal(seq.allocate().pos, 1);
    assert.deepEqual(positions(), []);
  });

  it("abandoning a middle position leaves a hole the frontier passes over without publishing", () => {
    const { seq, positions } = observed();
    const p1 = seq.allocate();
    const p2 = seq.allocate();
    const p3 = seq.allocate();
    p2.abandon();
    assert.equal(seq.allocatedUpTo(), 3, "a middle position is not reused");
    assert.equal(seq.retired(), 0);
    p1.retire({ kind: "k1" });
    assert.equal(seq.retired(), 2, "the frontier passes over the abandoned 2");
    assert.deepEqual(positions(), [1]);
    p3.retire({ kind: "k3" });
    assert.equal(seq.retired(), 3);
    assert.deepEqual(positions(), [1, 3]);
    assert.equal(seq.allocate().pos, 4);
  });

  it("an abandoned first position releases changes retired above it", () => {
    const { seq, positions } = observed();
    const p1 = seq.allocate();
    const p2 = seq.allocate();
    p2.retire({ kind: "k2" });
    assert.equal(seq.retired(), 0);
    p1.abandon();
    assert.equal(seq.retired(), 2);
    assert.deepEqual(positions(), [2]);
  });

  it("finishing a permit twice throws, in every combination", () => {
    const seq = new Sequencer(ORIGIN);
    const a = seq.allocate();
    a.retire({ kind: "k" });
    assert.throws(() => a.retire({ kind: "k" }), /finished twice/);
    assert.throws(() => a.abandon(), /finished twice/);

    const b = seq.allocate(); // last: abandon reuses it
    b.abandon();
    assert.throws(() => b.abandon(), /finished twice/);
    assert.throws(() => b.retire({ kind: "k" }), /finished twice/);

    const c = seq.allocate();
    const d = seq.allocate();
    c.abandon(); // middle: leaves a hole
    assert.throws(() => c.abandon(), /finished twice/);
    assert.throws(() => c.retire({ kind: "k" }), /finished twice/);
    d.retire({ kind: "k" });
    assert.equal(seq.retired(), d.pos);
  });

  it("a failed double finish does not disturb the frontier or publish again", () => {
    const { seq, positions } = observed();
    const a = seq.allocate();
    a.retire({ kind: "k" });
    assert.throws(() => a.retire({ kind: "k" }));
    assert.equal(seq.retired(), 1);
    assert.deepEqual(positions(), [1]);
  });

  it("listeners are called in registration order and can unsubscribe", () => {
    const seq = new Sequencer(ORIGIN);
    const calls: string[] = [];
    const offA = seq.onRetired((c) => calls.push(`a${c.pos}`));
    seq.onRetired((c) => calls.push(`b${c.pos}`));
    seq.allocate().retire({ kind: "k" });
    offA();
    offA(); // harmless twice
    seq.allocate().retire({ kind: "k" });
    assert.deepEqual(calls, ["a1", "b1", "b2"]);
  });

  it("a listener that unsubscribes itself does not make others miss the change", () => {
    const seq = new Sequencer(ORIGIN);
    const calls: string[] = [];
    const off = seq.onRetired(() => {
      calls.push("self");
      off();
    });
    seq.onRetired((c) => calls.push(`other${c.pos}`));
    seq.allocate().retire({ kind: "k" });
    seq.allocate().retire({ kind: "k" });
    assert.deepEqual(calls, ["self", "other1", "other2"]);
  });
});
