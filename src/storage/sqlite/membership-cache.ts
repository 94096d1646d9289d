/**
 * MembershipCache: current membership rows by (room, user), as read or written, in an LRU.
 *
 * Why: every incremental /sync asks the requester's membership in each room its range
 * touched; a point read costs more there than the rest of the room's work (bench/README.md,
 * "Sync").
 *
 * Correct because only EventStore.persist writes room_memberships, and it puts the new row
 * here after its transaction commits (never before: a rolled-back membership must not be
 * seen). "No membership" is remembered too, which is safe for the same reason: a row can
 * only appear through persist. Rows are frozen: every caller shares them.
 */
import type { MembershipRow } from "../rows.js";
import { LruCache } from "../../util/lru-cache.js";
import { pairKey } from "../../util/pair-key.js";

export const MEMBERSHIP_CACHE_SIZE = 100_000;

export class MembershipCache {
  private readonly lru: LruCache<string, MembershipRow | null>;

  constructor(capacity = MEMBERSHIP_CACHE_SIZE) {
    this.lru = new LruCache(capacity);
  }

  /** The cached answer (null: known not to be a member), or undefined when unknown. */
  get(roomId: string, userId: string): MembershipRow | null | undefined {
    return this.lru.get(pairKey(roomId, userId));
  }

  set(roomId: string, userId: string, row: MembershipRow | null): void {
    this.lru.set(pairKey(roomId, userId), row && Object.freeze(row));
  }
}
