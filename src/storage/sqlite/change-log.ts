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
import { RecentLog } from "./recent-log.js";

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

export class ChangeLog {
  private readonly insert;
  /** The newest committed rows (recent-log.ts), for the stream store's reads. */
  readonly recent: RecentLog;

  constructor(private readonly db: Database, private readonly sequencer: Sequencer, private readonly now: () => number) {
    this.recent = new RecentLog(sequencer.allocatedUpTo());
    this.insert = db.prepare("INSERT INTO stream_log (pos, kind, user_id, room_id, stamp, ts) VALUES (?, ?, ?, ?, ?, ?)");
  }

  transaction<T>(fn: (record: Record) => T): T {
    const permits: { permit: Permit; change: ChangeSpec; stamp: number; ts: number }[] = [];
    const record: Record = (change) => {
      const permit = this.sequencer.allocate();
      const stamp = randomInt(1, 2 ** 31);
      const ts = this.now();
      permits.push({ permit, change, stamp, ts });
      this.insert.run(permit.pos, change.kind, change.userId ?? null, change.roomId ?? null, stamp, ts);
      return permit.pos;
    };
    let result: T;
    try {
      result = this.db.transaction(() => fn(record))();
    } catch (e) {
      for (const { permit } of permits.reverse()) permit.abandon();
      throw e;
    }
    for (const { permit, change, stamp, ts } of permits) {
      this.recent.add({ pos: permit.pos, kind: change.kind, userId: change.userId ?? null, roomId: change.roomId ?? null, stamp, ts });
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

}
