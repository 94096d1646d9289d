/** ReadThroughCache: loads once, serves from memory, and never caches a load that raced an invalidation. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ReadThroughCache } from "../../src/util/read-through-cache.js";

describe("ReadThroughCache", () => {
  it("loads a key once, then answers from memory until it is invalidated", async () => {
    let loads = 0;
    const cache = new ReadThroughCache<string, number>(10, async () => ++loads);
    assert.equal(cache.peek("a"), undefined);
    assert.equal(await cache.get("a"), 1);
    assert.equal(await cache.get("a"), 1);
    assert.equal(cache.peek("a"), 1);
    cache.invalidate("a");
    assert.equal(await cache.get("a"), 2);
  });

  it("a load that started before an invalidation is returned but not kept", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let value = "old";
    const cache = new ReadThroughCache<string, string>(10, async () => {
      const seen = value;
      await gate;
      return seen;
    });
    const pending = cache.get("k");
    value = "new";
    cache.invalidate("k"); // the write lands while the read is in flight
    release();
    assert.equal(await pending, "old");
    assert.equal(cache.peek("k"), undefined, "the stale value was not cached");
    assert.equal(await cache.get("k"), "new");
  });
});
