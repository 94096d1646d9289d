import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { LocalNotifier } from "../../src/notifier/local-notifier.js";
import { asStreamPos, type StreamChange } from "../../src/streams/position.js";

const LONG = 60_000;
const pos = (n: number) => asStreamPos(n);
const change = (n: number, extra: Partial<StreamChange> = {}): StreamChange => ({ pos: pos(n), kind: "k", ...extra });

/** Resolves to "pending" if `p` has not settled after the current macrotask queue drains. */
async function settledOrPending<T>(p: Promise<T>): Promise<T | "pending"> {
  return Promise.race([p, new Promise<"pending">((r) => setImmediate(() => r("pending")))]);
}

describe("LocalNotifier", () => {
  it("wakes a waiter named in userIds with the change", async () => {
    const n = new LocalNotifier();
    const w = n.waitForChange({ userId: "@a:test" }, pos(5), { timeoutMs: LONG });
    const c = change(6, { kind: "device_list", userIds: ["@a:test"] });
    n.publish(c);
    assert.deepEqual(await w.done, { reason: "change", change: c });
    assert.equal(n.waiting(), 0);
  });

  it("does not wake users not named by the change", async () => {
    const n = new LocalNotifier();
    const wa = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    const wb = n.waitForChange({ userId: "@b:test" }, pos(0), { timeoutMs: LONG });
    n.publish(change(1, { userIds: ["@b:test"] }));
    assert.equal((await wb.done).reason, "change");
    assert.equal(await settledOrPending(wa.done), "pending");
    assert.equal(n.waiting(), 1);
    wa.cancel();
    await wa.done;
  });

  it("wakes every waiter of a user, and each user of a multi-user change", async () => {
    const n = new LocalNotifier();
    const w1 = n.waitForChange({ userId: "@a:test", deviceId: "D1" }, pos(0), { timeoutMs: LONG });
    const w2 = n.waitForChange({ userId: "@a:test", deviceId: "D2" }, pos(0), { timeoutMs: LONG });
    const w3 = n.waitForChange({ userId: "@b:test" }, pos(0), { timeoutMs: LONG });
    assert.equal(n.waiting(), 3);
    n.publish(change(1, { userIds: ["@a:test", "@b:test"] }));
    for (const w of [w1, w2, w3]) assert.equal((await w.done).reason, "change");
    assert.equal(n.waiting(), 0);
  });

  it("wakes room members via setRoomMembers, and stops after they are removed", async () => {
    const n = new LocalNotifier();
    n.setRoomMembers("!r:test", ["@a:test", "@b:test"]);
    const wa = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    const wc = n.waitForChange({ userId: "@c:test" }, pos(0), { timeoutMs: LONG });
    const c = change(1, { kind: "event", roomId: "!r:test" });
    n.publish(c);
    assert.deepEqual(await wa.done, { reason: "change", change: c });
    assert.equal(await settledOrPending(wc.done), "pending", "non-members are not woken");

    n.setRoomMembers("!r:test", ["@b:test"]);
    const wa2 = n.waitForChange({ userId: "@a:test" }, pos(1), { timeoutMs: LONG });
    n.publish(change(2, { roomId: "!r:test" }));
    assert.equal(await settledOrPending(wa2.done), "pending", "a user who left is not woken");

    n.setRoomMembers("!r:test", []);
    const wb = n.waitForChange({ userId: "@b:test" }, pos(2), { timeoutMs: LONG });
    n.publish(change(3, { roomId: "!r:test" }));
    assert.equal(await settledOrPending(wb.done), "pending", "an emptied room wakes nobody");

    n.publish(change(4, { roomId: "!other:test", userIds: ["@c:test", "@a:test", "@b:test"] }));
    for (const w of [wc, wa2, wb]) assert.equal((await w.done).change?.pos, 4);
  });

  it("a room change that also names a member wakes that member once", async () => {
    const n = new LocalNotifier();
    n.setRoomMembers("!r:test", ["@a:test"]);
    const w = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    n.publish(change(1, { roomId: "!r:test", userIds: ["@a:test"] }));
    assert.equal((await w.done).change?.pos, 1);
    assert.equal(n.waiting(), 0);
  });

  it("does not wake for positions at or below `after`", async () => {
    const n = new LocalNotifier();
    const w = n.waitForChange({ userId: "@a:test" }, pos(10), { timeoutMs: LONG });
    n.publish(change(9, { userIds: ["@a:test"] }));
    n.publish(change(10, { userIds: ["@a:test"] }));
    assert.equal(await settledOrPending(w.done), "pending");
    assert.equal(n.waiting(), 1);
    n.publish(change(11, { userIds: ["@a:test"] }));
    assert.equal((await w.done).change?.pos, 11);
  });

  it("resolves only once, with the first change", async () => {
    const n = new LocalNotifier();
    const w = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    n.publish(change(1, { userIds: ["@a:test"] }));
    n.publish(change(2, { userIds: ["@a:test"] }));
    n.shutdown();
    assert.deepEqual(await w.done, { reason: "change", change: change(1, { userIds: ["@a:test"] }) });
  });

  it("times out with 'timeout' and unparks the waiter", async () => {
    const n = new LocalNotifier();
    const started = Date.now();
    const w = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: 20 });
    assert.equal(n.waiting(), 1);
    assert.deepEqual(await w.done, { reason: "timeout" });
    assert.ok(Date.now() - started >= 15, "did not resolve long before the timeout");
    assert.equal(n.waiting(), 0);
    n.publish(change(1, { userIds: ["@a:test"] })); // no effect on a finished waiter
    assert.deepEqual(await w.done, { reason: "timeout" });
  });

  it("a zero or negative timeout resolves 'timeout' promptly", async () => {
    const n = new LocalNotifier();
    assert.equal((await n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: 0 }).done).reason, "timeout");
    assert.equal((await n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: -5 }).done).reason, "timeout");
    assert.equal(n.waiting(), 0);
  });

  it("an AbortSignal resolves 'aborted', before or during the wait", async () => {
    const n = new LocalNotifier();
    const ac = new AbortController();
    const w = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG, signal: ac.signal });
    assert.equal(await settledOrPending(w.done), "pending");
    ac.abort();
    assert.deepEqual(await w.done, { reason: "aborted" });
    assert.equal(n.waiting(), 0);

    const pre = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG, signal: ac.signal });
    assert.deepEqual(await pre.done, { reason: "aborted" }, "an already-aborted signal resolves at once");
    assert.equal(n.waiting(), 0, "an already-aborted wait is never parked");
  });

  it("a change wins over a later abort", async () => {
    const n = new LocalNotifier();
    const ac = new AbortController();
    const w = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG, signal: ac.signal });
    n.publish(change(1, { userIds: ["@a:test"] }));
    ac.abort();
    assert.equal((await w.done).reason, "change");
  });

  it("cancel resolves 'aborted' and removes the waiter", async () => {
    const n = new LocalNotifier();
    const w1 = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    const w2 = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    assert.equal(n.waiting(), 2);
    w1.cancel();
    assert.equal(n.waiting(), 1);
    assert.deepEqual(await w1.done, { reason: "aborted" });
    w1.cancel(); // harmless twice
    assert.equal(n.waiting(), 1);
    n.publish(change(1, { userIds: ["@a:test"] }));
    assert.equal((await w2.done).reason, "change", "the other waiter is still parked and woken");
    assert.deepEqual(await w1.done, { reason: "aborted" });
  });

  it("waiting() counts parked waiters across users", async () => {
    const n = new LocalNotifier();
    assert.equal(n.waiting(), 0);
    const ws = ["@a:test", "@a:test", "@b:test", "@c:test"].map((u) => n.waitForChange({ userId: u }, pos(0), { timeoutMs: LONG }));
    assert.equal(n.waiting(), 4);
    n.publish(change(1, { userIds: ["@a:test"] }));
    assert.equal(n.waiting(), 2);
    ws[2]!.cancel();
    assert.equal(n.waiting(), 1);
    ws[3]!.cancel();
    assert.equal(n.waiting(), 0);
    await Promise.all(ws.map((w) => w.done));
  });

  it("shutdown wakes everyone with 'shutdown'; later waits resolve 'shutdown' at once", async () => {
    const n = new LocalNotifier();
    const ws = [n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG }), n.waitForChange({ userId: "@b:test" }, pos(3), { timeoutMs: LONG })];
    n.shutdown();
    for (const w of ws) assert.deepEqual(await w.done, { reason: "shutdown" });
    assert.equal(n.waiting(), 0);
    const late = n.waitForChange({ userId: "@a:test" }, pos(0), { timeoutMs: LONG });
    assert.equal(n.waiting(), 0, "nothing is parked after shutdown");
    assert.deepEqual(await settledOrPending(late.done), { reason: "shutdown" });
    late.cancel();
    n.publish(change(1, { userIds: ["@a:test"] }));
    assert.deepEqual(await late.done, { reason: "shutdown" });
  });
});
