/**
 * Sequencer: hands out stream positions for writes and tracks the read frontier.
 * In:  allocate() inside a storage transaction; then permit.retire(change) after commit,
 *      or permit.abandon() after a rollback.
 * Out: retired() = highest P such that every position <= P has retired or been abandoned;
 *      onRetired listeners receive retired changes in position order, once each.
 * Invariants: positions are unique and increasing; retired() never goes backwards; a listener
 *      never hears of a position above retired(), so a woken reader can always read it.
 * Concurrency: single process. With SQLite every transaction is synchronous, so permits
 *      usually retire in order; out-of-order retirement (async backends) is handled by
 *      holding later changes until the gap below them closes.
 */
import { asStreamPos, type StreamChange, type StreamPos } from "./position.js";

export interface Permit {
  readonly pos: StreamPos;
  /** The write committed: publish `change` (without its pos; the permit's pos is used). */
  retire(change?: Omit<StreamChange, "pos">): void;
  /** The write rolled back. The last position handed out is reused, so the log stays gap-free. */
  abandon(): void;
}

export type RetiredListener = (change: StreamChange) => void;

export class Sequencer {
  private allocated: number;
  private frontier: number;
  /** Positions finished above the frontier, waiting for a gap below them to close. */
  private readonly pending = new Map<number, StreamChange | null>();
  private readonly listeners: RetiredListener[] = [];

  /** `start` is the highest position already durable in storage. */
  constructor(start: StreamPos) {
    this.allocated = start;
    this.frontier = start;
  }

  /** Highest position every reader may see. */
  retired(): StreamPos {
    return this.frontier as StreamPos;
  }

  /** Highest position handed out so far (retired or not). */
  allocatedUpTo(): StreamPos {
    return this.allocated as StreamPos;
  }

  onRetired(listener: RetiredListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  allocate(): Permit {
    const pos = asStreamPos(++this.allocated);
    let done = false;
    const finish = (change: StreamChange | null) => {
      if (done) throw new Error(`position ${pos} finished twice`);
      done = true;
      this.finish(pos, change);
    };
    return {
      pos,
      retire: (change) => finish({ kind: "unknown", ...change, pos }),
      abandon: () => {
        if (done) throw new Error(`position ${pos} finished twice`);
        // Reuse the number when nothing was allocated after it: keeps SQLite's log gap-free.
        if (this.allocated === pos) {
          done = true;
          this.allocated--;
          return;
        }
        finish(null);
      },
    };
  }

  private finish(pos: StreamPos, change: StreamChange | null): void {
    this.pending.set(pos, change);
    while (this.pending.has(this.frontier + 1)) {
      const next = this.frontier + 1;
      const c = this.pending.get(next)!;
      this.pending.delete(next);
      this.frontier = next;
      if (c) for (const l of [...this.listeners]) l(c);
    }
  }
}
