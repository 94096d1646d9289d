/**
 * scanPage: one page of events that pass a test (history visibility, a filter, an event
 * type), skipping the ones that do not, so a page holds `limit` kept events unless the
 * range ends first. Used by /messages, /context and /relations.
 *
 *   dir "b", from B:   … [p-2] [p-1] ^B        reads p-1, p-2, … ; after consuming p the
 *                                               next page starts at boundary p
 *   dir "f", from B:   B^ [B] [B+1] …          reads B, B+1, … ; after consuming p the
 *                                               next page starts at boundary p+1
 *
 * Rows are consumed in order up to the last kept one, so `next` sits just past the last
 * event returned (or past the last one looked at, when the range ran out or the scan hit
 * MAX_SCANNED). `exhausted` says nothing lies beyond `next` within the range: callers omit
 * their `end`/`next_batch` token then.
 */
import type { EventRange } from "../storage/storage.js";
import type { EventRow } from "../storage/rows.js";
import { asStreamPos, type StreamPos } from "../streams/position.js";

/** Upper bound on rows examined for one page, so a long run of hidden events cannot stall a request. */
export const MAX_SCANNED = 5000;

export interface ScanRequest {
  dir: "b" | "f";
  from: StreamPos;
  /** Null = no bound (the caller has already clamped it to what may be read). */
  to: StreamPos | null;
  limit: number;
}

export interface ScanResult {
  /** Kept events in scan order (newest first for "b"). */
  events: EventRow[];
  /** The boundary where the next page starts. */
  next: StreamPos;
  exhausted: boolean;
}

export type RangeReader = (range: EventRange) => Promise<EventRow[]>;

/**
 * `stopAt`: a row that ends the page before it is consumed, as a full page does (`next`
 * stays just past the last row consumed, `exhausted` false). Sync uses it so its timeline
 * never spans events the user may not see (their state changes would be lost to the client).
 */
export async function scanPage(read: RangeReader, req: ScanRequest, keep: (ev: EventRow) => boolean, stopAt?: (ev: EventRow) => boolean): Promise<ScanResult> {
  const events: EventRow[] = [];
  let cursor = req.from;
  let scanned = 0;
  for (;;) {
    // One row more than still needed, so a full page can tell whether anything follows.
    const batch = Math.min(Math.max(req.limit - events.length + 1, 50), 500);
    const rows = await read({ dir: req.dir, from: cursor, to: req.to, limit: batch });
    for (const row of rows) {
      if (events.length >= req.limit || stopAt?.(row)) return { events, next: cursor, exhausted: false };
      cursor = req.dir === "b" ? row.pos : asStreamPos(row.pos + 1);
      if (keep(row)) events.push(row);
    }
    scanned += rows.length;
    if (rows.length < batch) return { events, next: cursor, exhausted: true };
    if (scanned >= MAX_SCANNED) return { events, next: cursor, exhausted: false };
  }
}

/** A RangeReader over rows already in memory (any order), with EventRange's boundary rules. */
export function memoryReader(rows: readonly EventRow[]): RangeReader {
  const sorted = [...rows].sort((a, b) => a.pos - b.pos);
  return async ({ dir, from, to, limit }) => {
    if (dir === "f") {
      return sorted.filter((r) => (from === null || r.pos >= from) && (to === null || r.pos < to)).slice(0, limit);
    }
    return sorted.filter((r) => (from === null || r.pos < from) && (to === null || r.pos >= to)).reverse().slice(0, limit);
  };
}
