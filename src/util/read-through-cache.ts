/**
 * ReadThroughCache: values loaded per key on first use, kept in an LRU, dropped by
 * invalidate(key) when the data behind them changes.
 * A load that started before an invalidation does not fill the cache (generation check), so
 * a stale value never outlives the write that replaced it. Single process.
 */
import { LruCache } from "./lru-cache.js";

export class ReadThroughCache<K, V> {
  private readonly lru: LruCache<K, V>;
  /** Bumped on every invalidation: a load that started before one must not fill the cache. */
  private generation = 0;

  constructor(capacity: number, private readonly load: (key: K) => Promise<V>) {
    this.lru = new LruCache(capacity);
  }

  async get(key: K): Promise<V> {
    const hit = this.lru.get(key);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const value = await this.load(key);
    if (generation === this.generation) this.lru.set(key, value);
    return value;
  }

  /** The cached value, without loading (a caller's fast path that avoids an await). */
  peek(key: K): V | undefined {
    return this.lru.get(key);
  }

  invalidate(key: K): void {
    this.generation++;
    this.lru.delete(key);
  }
}
