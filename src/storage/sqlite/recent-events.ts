/**
 * RecentEvents: the newest event rows, kept in memory as they commit, per room.
 *
 * Why: an incremental /sync's timeline is the room's events after `since`, and on a live
 * server those are nearly always among the newest few thousand. Answering that page from
 * memory skips the costliest statement of an incremental sync (bench/README.md, "Sync").
 *
 * Correct for the same reasons as RecentLog: rows enter only after their transaction
 * committed, in position order (SQLite commits one transaction at a time, and only the
 * server writes events), so from `coveredFrom` up every committed event is here. The one
 * later change to a committed event, its redaction, is applied here after its commit too.
 * Rows are kept as stored (JSON text) and parsed per read, like rows from the table, so
 * no caller can change another's copy.
 */
import type { EventRange } from "../storage.js";
import type { EventSqlRow } from "./event-rows.js";

export const RECENT_EVENTS = 4096;

export class RecentEvents {
  private readonly byPos = new Map<number, EventSqlRow>();
  private readonly posById = new Map<string, number>();
  /** Each room's held positions, ascending. */
  private readonly byRoom = new Map<string, number[]>();
  private coveredFrom: number;

  /** `highest`: the highest position already in the table when the process started. */
  constructor(highest: number, private readonly capacity = RECENT_EVENTS) {
    this.coveredFrom = highest + 1;
  }

  /** A committed event; events arrive in position order. */
  add(row: EventSqlRow): void {
    this.byPos.set(row.pos, row);
    this.posById.set(row.event_id, row.pos);
    let room = this.byRoom.get(row.room_id);
    if (!room) this.byRoom.set(row.room_id, (room = []));
    room.push(row.pos);
    if (this.byPos.size > this.capacity) this.evictOldest();
  }

  /** A committed redaction of a held event (its pruned JSON and the redacting event). */
  redact(eventId: string, prunedJson: string, redactedBy: string): void {
    const pos = this.posById.get(eventId);
    const row = pos === undefined ? undefined : this.byPos.get(pos);
    if (row) this.byPos.set(row.pos, { ...row, json: prunedJson, redacted_by: redactedBy });
  }

  /**
   * The room's events in the range (EventRange's boundary rules), or null when part of the
   * range may be older than what is held (the caller reads the table then).
   */
  inRoom(roomId: string, range: EventRange): EventSqlRow[] | null {
    // The range's low end: `to` going backwards, `from` going forwards (null = unbounded).
    const low = range.dir === "b" ? range.to : range.from;
    if (low === null || low < this.coveredFrom) return null;
    const positions = this.byRoom.get(roomId) ?? [];
    const out: EventSqlRow[] = [];
    if (range.dir === "b") {
      for (let i = positions.length - 1; i >= 0 && out.length < range.limit; i--) {
        const pos = positions[i]!;
        if (pos < low) break;
        if (range.from === null || pos < range.from) out.push(this.byPos.get(pos)!);
      }
    } else {
      for (let i = 0; i < positions.length && out.length < range.limit; i++) {
        const pos = positions[i]!;
        if (range.to !== null && pos >= range.to) break;
        if (pos >= low) out.push(this.byPos.get(pos)!);
      }
    }
    return out;
  }

  private evictOldest(): void {
    const [pos, row] = this.byPos.entries().next().value!;
    this.byPos.delete(pos);
    this.posById.delete(row.event_id);
    const room = this.byRoom.get(row.room_id)!;
    room.shift(); // the globally oldest event is its room's oldest too
    if (room.length === 0) this.byRoom.delete(row.room_id);
    this.coveredFrom = pos + 1;
  }
}
