/** Cancellation and SharedWork: who may stop a shared computation, and when its signal fires. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Cancellation } from "../../src/util/cancellation.js";
import { SharedWork } from "../../src/util/shared-work.js";

describe("Cancellation", () => {
  it("a signal taken before cancel() fires with it; one taken after is already aborted", () => {
    const early = new Cancellation();
    const signal = early.signal;
    let fired = 0;
    signal.addEventListener("abort", () => fired++);
    assert.equal(signal.aborted, false);
    early.cancel();
    early.cancel();
    assert.equal(fired, 1, "fires once");
    assert.equal(early.aborted, true);
    const late = new Cancellation();
    late.cancel();
    assert.equal(late.signal.aborted, true);
  });

  it("onCancel runs each listener once, at once when already cancelled", () => {
    const c = new Cancellation();
    const heard: string[] = [];
    c.onCancel(() => heard.push("a"));
    c.onCancel(() => heard.push("b"));
    c.cancel();
    c.onCancel(() => heard.push("c"));
    c.cancel();
    assert.deepEqual(heard, ["a", "b", "c"]);
  });
});

describe("SharedWork", () => {
  /** Work that records its cancellation and settles when told to. */
  function pending() {
    let finish!: (v: string) => void;
    const seen: Cancellation[] = [];
    const work = (c: Cancellation) => {
      seen.push(c);
      return new Promise<string>((r) => (finish = r));
    };
    return { work, seen, finish: (v: string) => finish(v) };
  }

  it("callers with one key share one computation, cancelled only when every caller cancels", async () => {
    const shared = new SharedWork<string>();
    const p = pending();
    const [a, b] = [new Cancellation(), new Cancellation()];
    const first = shared.run("k", a, p.work);
    const second = shared.run("k", b, p.work);
    assert.equal(p.seen.length, 1, "one computation");
    a.cancel();
    assert.equal(p.seen[0]!.aborted, false, "b still waits");
    b.cancel();
    assert.equal(p.seen[0]!.aborted, true);
    p.finish("done");
    assert.deepEqual(await Promise.all([first, second]), ["done", "done"]);
    assert.equal(shared.size(), 0, "dropped once settled");
  });

  it("a caller without a Cancellation keeps the computation going; other keys run apart", async () => {
    const shared = new SharedWork<string>();
    const p = pending();
    const q = pending();
    const a = new Cancellation();
    void shared.run("k", a, p.work);
    void shared.run("k", undefined, p.work);
    void shared.run("other", undefined, q.work);
    assert.equal(shared.size(), 2);
    a.cancel();
    assert.equal(p.seen[0]!.aborted, false);
    p.finish("x");
    q.finish("y");
  });
});
