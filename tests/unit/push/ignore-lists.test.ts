/**
 * IgnoreLists (push/ignore-lists.ts): the cache of m.ignored_user_list that write-time push
 * evaluation reads. A list is read once and then served from memory; an "account_data" change
 * naming the user drops it (other kinds and other users do not); a read that raced a change
 * is not cached; the LRU bound holds.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IgnoreLists } from "../../../src/push/ignore-lists.js";
import type { Storage } from "../../../src/storage/storage.js";
import type { UserId } from "../../../src/events/ids.js";
import { asStreamPos } from "../../../src/streams/position.js";

const BOB = "@bob:x" as UserId;
const CAROL = "@carol:x" as UserId;

/** A Storage whose account data holds one global m.ignored_user_list per user, counting reads. */
function fakeStorage() {
  const lists = new Map<string, Record<string, unknown>>();
  let reads = 0;
  /** When set, the next read waits for this promise before answering (with what it read first). */
  let gate: Promise<void> | null = null;
  const accountData = {
    get: async (userId: UserId, roomId: string | null, type: string) => {
      reads++;
      const content = roomId === null && type === "m.ignored_user_list" ? lists.get(userId) : undefined;
      const wait = gate;
      gate = null;
      if (wait) await wait;
      return content ? { userId, roomId, type, content, pos: 1 } : null;
    },
  };
  return {
    storage: { accountData } as unknown as Storage,
    set: (userId: string, ...ignored: string[]) => lists.set(userId, { ignored_users: Object.fromEntries(ignored.map((u) => [u, {}])) }),
    reads: () => reads,
    holdNextRead: (p: Promise<void>) => (gate = p),
  };
}

const change = (kind: string, userIds: string[]) => ({ pos: asStreamPos(1), kind, userIds });

describe("IgnoreLists", () => {
  it("reads a user's list once, then answers from memory (also through cached())", async () => {
    const f = fakeStorage();
    f.set(BOB, "@alice:x");
    const lists = new IgnoreLists(f.storage);
    assert.equal(lists.cached(BOB), undefined);
    assert.equal((await lists.of(BOB)).hides({ sender: "@alice:x" }), true);
    assert.equal((await lists.of(BOB)).hides({ sender: "@alice:x", state_key: "" }), false, "state events are never withheld");
    assert.equal(lists.cached(BOB)?.has("@alice:x"), true);
    assert.equal(f.reads(), 1);
    assert.equal((await lists.of(CAROL)).has("@alice:x"), false, "no list ignores no one");
    await lists.of(CAROL);
    assert.equal(f.reads(), 2, "an empty list is cached too");
  });

  it("an account_data change naming the user drops the entry; other kinds and users do not", async () => {
    const f = fakeStorage();
    f.set(BOB, "@alice:x");
    const lists = new IgnoreLists(f.storage);
    await lists.of(BOB);
    await lists.of(CAROL);
    f.set(BOB);
    lists.onChange(change("push_rules", [BOB]));
    lists.onChange(change("account_data", [CAROL]));
    lists.onChange({ pos: asStreamPos(2), kind: "account_data" });
    assert.equal((await lists.of(BOB)).has("@alice:x"), true, "still the cached list");
    lists.onChange(change("account_data", [BOB]));
    assert.equal(lists.cached(BOB), undefined);
    assert.equal((await lists.of(BOB)).has("@alice:x"), false, "re-read after the change");
  });

  it("a read that started before a change is answered but not cached", async () => {
    const f = fakeStorage();
    f.set(BOB, "@alice:x");
    const lists = new IgnoreLists(f.storage);
    let release!: () => void;
    f.holdNextRead(new Promise<void>((resolve) => (release = resolve)));
    const racing = lists.of(BOB); // read the old list, now waiting
    f.set(BOB);
    lists.onChange(change("account_data", [BOB]));
    release();
    assert.equal((await racing).has("@alice:x"), true, "the racing reader sees what it read");
    assert.equal(lists.cached(BOB), undefined, "but it did not fill the cache");
    assert.equal((await lists.of(BOB)).has("@alice:x"), false);
  });

  it("holds at most cacheSize users", async () => {
    const f = fakeStorage();
    const lists = new IgnoreLists(f.storage, { cacheSize: 2 });
    for (const u of ["@a:x", "@b:x", "@c:x"]) await lists.of(u as UserId);
    assert.equal(lists.cached("@a:x"), undefined, "the least recently used was evicted");
    assert.ok(lists.cached("@b:x") && lists.cached("@c:x"));
  });
});
