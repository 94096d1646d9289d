/**
 * RecentLog: the newest stream_log rows, kept in memory as they commit.
 *
 * Why: every incremental /sync reads the log slice after its `since` and looks up the stamps
 * of `since` and of its `next_batch`; on a live server these are nearly always among the
 * newest few positions. Served from memory, an incremental sync carrying one event skips
 * three SQLite statements (bench/README.md, "Sync").
 *
 * Correct because rows enter only after their transaction committed (a rolled-back position's
 * number may be reused, so nothing is remembered before the commit) and committed rows never
 * change. `coveredFrom` is the lowest position from which every committed row is here: rows
 * below it (older ones, or ones written before this process started) are read from the table.
 * Positions that never got a row (abandoned) are simply absent, as they are from the table.
 */
import type { UserId } from "../../events/ids.js";
import type { StreamPos } from "../../streams/position.js";
import type { StreamLogRow } from "../rows.js";

export const RECENT_LOG_ROWS = 4096;

export class RecentLog {
  private readonly rows = new Map<number, StreamLogRow>();
  private coveredFrom: number;

  /** `highest`: the highest position already in the table when the process started. */
  constructor(highest: number, private readonly capacity = RECENT_LOG_ROWS) {
    this.coveredFrom = highest + 1;
  }

  /** A committed row; rows arrive in position order (SQLite commits one transaction at a time). */
  add(row: { pos: StreamPos; kind: string; userId: string | null; roomId: string | null; stamp: number; ts: number }): void {
    this.rows.set(row.pos, { ...row, userId: row.userId as UserId | null });
    if (this.rows.size > this.capacity) {
      const oldest = this.rows.keys().next().value!;
      this.rows.delete(oldest);
      this.coveredFrom = oldest + 1;
    }
  }

  /** The stamp of a row held here; undefined when the table must say. */
  stamp(pos: StreamPos): number | undefined {
    return this.rows.get(pos)?.stamp;
  }

  /** Rows in (after, upto] in order, at most `limit`; null when some of the range may be older than what is held. */
  read(after: StreamPos, upto: StreamPos, limit: number): StreamLogRow[] | null {
    if (after + 1 < this.coveredFrom) return null;
    const out: StreamLogRow[] = [];
    for (let pos = after + 1; pos <= upto && out.length < limit; pos++) {
      const row = this.rows.get(pos);
      if (row) out.push(row);
    }
    return out;
  }
}
