/**
 * KeyedMutex: one async lock per key (e.g. per room). `run(key, fn)` runs fn after every
 * earlier holder of the same key has finished; different keys never wait for each other.
 * Entries are removed when their queue empties, so memory follows the number of busy keys.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Number of keys with a holder or waiters (for tests and metrics). */
  busyKeys(): number {
    return this.tails.size;
  }
}
