/**
 * Runs a SQLite transaction that may record client-visible changes in stream_log.
 * Each `record()` takes a position from the sequencer inside the transaction; after the
 * commit every permit retires (waking readers), after a rollback every permit is abandoned.
 * better-sqlite3 transactions are synchronous, so nothing else can allocate in between.
 */
import { randomInt } from "node:crypto";
import type { Database } from "better-sqlite3";
import type { Permit, Sequencer } from "../../streams/sequencer.js";
import type { StreamPos } from "../../streams/position.js";

export interface ChangeSpec {
  kind: string;
  userId?: string;
  roomId?: string;
  /** Users to wake besides room members (defaults to [userId] when userId is set). */
  userIds?: readonly string[];
  /**
   * False for a private change in a room (room account data, m.read.private): the log row
   * names the room, but only `userIds` are woken, not every member. Default true.
   */
  wakeRoom?: boolean;
  /** For membership events: the target's new membership (keeps the notifier's room map current). */
  membership?: string;
}

export type Record = (change: ChangeSpec) => StreamPos;

/**
 * Stamps of the most recently committed positions, kept in memory: every /sync checks the
 * stamp of its `since` and stamps its `next_batch`, and both are nearly always among the
 * newest positions. Filled only after a commit (an abandoned position's number may be
 * reused by another row), so an entry always equals the row in the database.
 */
const RECENT_STAMPS = 4096;

export class ChangeLog {
  private readonly insert;
  private readonly recentStamps = new Map<number, number>();

  constructor(private readonly db: Database, private readonly sequencer: Sequencer, private readonly now: () => number) {
    this.insert = db.prepare("INSERT INTO stream_log (pos, kind, user_id, room_id, stamp, ts) VALUES (?, ?, ?, ?, ?, ?)");
  }

  transaction<T>(fn: (record: Record) => T): T {
    const permits: { permit: Permit; change: ChangeSpec; stamp: number }[] = [];
    const record: Record = (change) => {
      const permit = this.sequencer.allocate();
      const stamp = randomInt(1, 2 ** 31);
      permits.push({ permit, change, stamp });
      this.insert.run(permit.pos, change.kind, change.userId ?? null, change.roomId ?? null, stamp, this.now());
      return permit.pos;
    };
    let result: T;
    try {
      result = this.db.transaction(() => fn(record))();
    } catch (e) {
      for (const { permit } of permits.reverse()) permit.abandon();
      throw e;
    }
    for (const { permit, change, stamp } of permits) {
      this.rememberStamp(permit.pos, stamp);
      const userIds = change.userIds ?? (change.userId ? [change.userId] : undefined);
      permit.retire({
        kind: change.kind,
        ...(change.roomId && change.wakeRoom !== false ? { roomId: change.roomId } : {}),
        ...(userIds ? { userIds } : {}),
        ...(change.membership !== undefined ? { membership: change.membership } : {}),
      });
    }
    return result;
  }

  /** The stamp of a recently committed position, or undefined when it is not remembered (read the row). */
  recentStamp(pos: StreamPos): number | undefined {
    return this.recentStamps.get(pos);
  }

  private rememberStamp(pos: StreamPos, stamp: number): void {
    this.recentStamps.set(pos, stamp);
    if (this.recentStamps.size > RECENT_STAMPS) this.recentStamps.delete(this.recentStamps.keys().next().value!);
  }
}
