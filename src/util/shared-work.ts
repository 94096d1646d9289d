/**
 * SharedWork: identical concurrent requests share one computation. The first caller with a
 * key starts it; later callers with the same key get the same promise. The computation's
 * AbortSignal fires only when every caller has aborted (a shared long-poll keeps running
 * while anyone still waits for it). The entry is dropped when the work settles.
 */
export class SharedWork<T> {
  private readonly running = new Map<string, { promise: Promise<T>; callers: number; controller: AbortController }>();

  run(key: string, callerSignal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    let entry = this.running.get(key);
    if (!entry) {
      const controller = new AbortController();
      const promise = work(controller.signal).finally(() => {
        if (this.running.get(key) === entry) this.running.delete(key);
      });
      entry = { promise, callers: 0, controller };
      this.running.set(key, entry);
    }
    const e = entry;
    e.callers++;
    callerSignal?.addEventListener(
      "abort",
      () => {
        if (--e.callers === 0) e.controller.abort();
      },
      { once: true },
    );
    return e.promise;
  }

  /** Computations in flight (for tests and metrics). */
  size(): number {
    return this.running.size;
  }
}
