/**
 * IgnoreLists: each user's global `m.ignored_user_list` (rooms/ignored-users.ts), kept in
 * memory for write-time push evaluation (recipients.ts), which must not notify a recipient of
 * a non-state event from a user they ignore (as Synapse: synapse/push/bulk_push_rule_evaluator.py
 * `_action_for_event_by_user` → synapse/visibility.py `filter_event_for_clients_with_state`,
 * whose `store.ignored_by(sender)` check denies only non-state events).
 * In:  a user id; every retired stream change (onChange, wired in app.ts).
 * Out: that user's IgnoredUsers (IgnoredUsers.NONE, shared, when they ignore no one).
 * Cost: one point read per user until evicted (LRU); then nothing, so a message to an N-member
 *      room costs no account-data reads.
 * Why the cache is safe: one process writes every account data row (storage/sqlite commits
 *      and retires in the same tick), and every write of a user's account data, whoever
 *      makes it, retires an "account_data" change naming that user; onChange drops the entry
 *      then. The change does not say which type was written, so any account data write of the
 *      user drops it (a re-read of one row). A read that raced an invalidation is not cached
 *      (generation check), so a stale list never outlives the change that replaced it.
 */
import type { UserId } from "../events/ids.js";
import { IgnoredUsers } from "../rooms/ignored-users.js";
import type { Storage } from "../storage/storage.js";
import type { StreamChange } from "../streams/position.js";
import { ReadThroughCache } from "../util/read-through-cache.js";

const ACCOUNT_DATA_CHANGE = "account_data";
const DEFAULT_CACHE_SIZE = 20_000;

export class IgnoreLists {
  private readonly cache: ReadThroughCache<string, IgnoredUsers>;

  constructor(storage: Storage, opts: { cacheSize?: number } = {}) {
    this.cache = new ReadThroughCache(opts.cacheSize ?? DEFAULT_CACHE_SIZE, (userId) => IgnoredUsers.load(storage, userId as UserId));
  }

  /** Whom `userId` ignores, as stored now (from the cache when it holds the user). */
  of(userId: UserId): Promise<IgnoredUsers> {
    return this.cache.get(userId);
  }

  /** The cached list, without waiting (the write path's fast path for large rooms). */
  cached(userId: string): IgnoredUsers | undefined {
    return this.cache.peek(userId);
  }

  /** Listener for retired stream changes: drops the lists of users whose account data changed. */
  onChange(change: StreamChange): void {
    if (change.kind !== ACCOUNT_DATA_CHANGE) return;
    for (const userId of change.userIds ?? []) this.invalidate(userId);
  }

  invalidate(userId: string): void {
    this.cache.invalidate(userId);
  }
}
