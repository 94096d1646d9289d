import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SentMembers, type SentMembersLimits } from "../../../src/sync/v2/sent-members.js";

const ALICE = "@alice:test";
const BOB = "@bob:test";
const R = "!room:test";

/** One sync of `device` from `since` to `upto` that sends `members` ([member, eventId]); returns what it found already known. */
function syncOnce(memory: SentMembers, device: string, since: number | null, upto: number, members: [string, string][]): string[] {
  const view = memory.open(ALICE, device, since, upto);
  const known = members.filter(([m, e]) => view.has(R, m, e)).map(([m]) => m);
  for (const [m, e] of members) view.add(R, m, e);
  return known;
}

describe("SentMembers", () => {
  it("a member event counts as known once the device syncs from the response that carried it", () => {
    const memory = new SentMembers();
    assert.deepEqual(syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]), []);
    assert.deepEqual(syncOnce(memory, "D", 5, 9, [[BOB, "$b1"]]), [BOB]);
    assert.deepEqual(syncOnce(memory, "D", 9, 12, [[BOB, "$b1"]]), [BOB], "still known later");
  });

  it("a new member event id is not known (the membership changed)", () => {
    const memory = new SentMembers();
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]);
    assert.deepEqual(syncOnce(memory, "D", 5, 9, [[BOB, "$b2"]]), []);
    assert.deepEqual(syncOnce(memory, "D", 9, 12, [[BOB, "$b2"]]), [BOB]);
    assert.deepEqual(syncOnce(memory, "D", 12, 14, [[BOB, "$b1"]]), [], "the old event is not the one the device holds now");
  });

  it("is per device and per room", () => {
    const memory = new SentMembers();
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]);
    assert.deepEqual(syncOnce(memory, "E", 5, 9, [[BOB, "$b1"]]), [], "another device");
    const view = memory.open(ALICE, "D", 5, 9);
    assert.equal(view.has("!other:test", BOB, "$b1"), false, "another room");
    assert.equal(view.has(R, BOB, "$b1"), true);
  });

  it("a lost response (never acknowledged) hides nothing", () => {
    const memory = new SentMembers();
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]); // lost: the client retries from 1
    assert.deepEqual(syncOnce(memory, "D", 1, 7, []), []);
    assert.deepEqual(syncOnce(memory, "D", 7, 9, [[BOB, "$b1"]]), [], "the response at 5 never arrived");
  });

  it("two responses ending at one position: only what both carried counts", () => {
    const memory = new SentMembers();
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"], ["@carol:test", "$c1"]]);
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]);
    assert.deepEqual(syncOnce(memory, "D", 5, 9, [[BOB, "$b1"], ["@carol:test", "$c1"]]), [BOB]);
  });

  it("a client back on an older token is sent again what it acknowledged after that token", () => {
    const memory = new SentMembers();
    syncOnce(memory, "D", 1, 5, []);
    syncOnce(memory, "D", 5, 9, [[BOB, "$b1"]]);
    syncOnce(memory, "D", 9, 12, []); // acknowledges 9
    assert.deepEqual(syncOnce(memory, "D", 5, 13, [[BOB, "$b1"]]), []);
  });

  it("an initial sync knows nothing; forget starts the device over", () => {
    const memory = new SentMembers();
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]);
    assert.deepEqual(syncOnce(memory, "D", null, 9, [[BOB, "$b1"]]), []);
    memory.forget(ALICE, "D");
    assert.deepEqual(syncOnce(memory, "D", 5, 9, [[BOB, "$b1"]]), [], "forgotten");
    assert.deepEqual(syncOnce(memory, "D", 9, 10, [[BOB, "$b1"]]), [BOB]);
  });

  it("stays within its bounds: least recently used devices and members go first", () => {
    const limits: SentMembersLimits = { devices: 2, members: 2, pending: 1 };
    const memory = new SentMembers(limits);
    const three: [string, string][] = [["@m1:test", "$1"], ["@m2:test", "$2"], ["@m3:test", "$3"]];
    syncOnce(memory, "D", 1, 5, three);
    assert.deepEqual(syncOnce(memory, "D", 5, 9, three), ["@m1:test", "@m2:test"], "a response remembers at most `members` entries");
    syncOnce(memory, "D", 9, 12, [["@m3:test", "$3"]]);
    assert.deepEqual(syncOnce(memory, "D", 12, 14, three), ["@m1:test", "@m2:test", "@m3:test"].slice(1), "@m1 evicted by @m3");
    syncOnce(memory, "E", 1, 5, []);
    syncOnce(memory, "F", 1, 5, []); // third device: D is the least recently used
    assert.deepEqual(syncOnce(memory, "D", 14, 16, three), [], "device D evicted");
  });

  it("keeps only `pending` unacknowledged responses per device", () => {
    const memory = new SentMembers({ devices: 10, members: 10, pending: 1 });
    syncOnce(memory, "D", 1, 5, [[BOB, "$b1"]]);
    syncOnce(memory, "D", 1, 7, [["@carol:test", "$c1"]]); // a concurrent request ending later pushes the first out
    assert.deepEqual(syncOnce(memory, "D", 5, 9, [[BOB, "$b1"]]), []);
  });

  it("pending responses share one bound of `members` entries", () => {
    const memory = new SentMembers({ devices: 10, members: 2, pending: 2 });
    syncOnce(memory, "D", 1, 5, [["@m1:test", "$1"]]);
    syncOnce(memory, "D", 1, 6, [["@m2:test", "$2"], ["@m3:test", "$3"]]); // room for one more only
    assert.deepEqual(syncOnce(memory, "D", 6, 9, [["@m2:test", "$2"], ["@m3:test", "$3"]]), ["@m2:test"]);
  });

  it("rejects bounds that are not positive integers", () => {
    assert.throws(() => new SentMembers({ devices: 0, members: 1, pending: 1 }), RangeError);
  });
});
