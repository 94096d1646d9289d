/**
 * SharedWork: identical concurrent requests share one computation. The first caller with a
 * key starts it; later callers with the same key get the same promise. The computation is
 * cancelled only when every caller has cancelled (a shared long-poll keeps running while
 * anyone still waits for it; a caller without a Cancellation never cancels). The entry is
 * dropped when the work settles.
 */
import { Cancellation } from "./cancellation.js";

export class SharedWork<T> {
  private readonly running = new Map<string, { promise: Promise<T>; callers: number; cancellation: Cancellation }>();

  run(key: string, caller: Cancellation | undefined, work: (cancellation: Cancellation) => Promise<T>): Promise<T> {
    let entry = this.running.get(key);
    if (!entry) {
      const cancellation = new Cancellation();
      const promise = work(cancellation).finally(() => {
        if (this.running.get(key) === entry) this.running.delete(key);
      });
      entry = { promise, callers: 0, cancellation };
      this.running.set(key, entry);
    }
    const e = entry;
    e.callers++;
    caller?.onCancel(() => {
      if (--e.callers === 0) e.cancellation.cancel();
    });
    return e.promise;
  }

  /** Computations in flight (for tests and metrics). */
  size(): number {
    return this.running.size;
  }
}
