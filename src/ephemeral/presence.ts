/**
 * Presence (PUT|GET /presence/{userId}/status) and the idle sweep.
 * In:  PUT: only the requester's own presence (403), `presence` online | unavailable |
 *      offline and an optional `status_msg` (omitting it clears it, as in Synapse).
 *      GET: the requester's own presence, or a user sharing a joined room with them; anyone
 *      else is 403 (Synapse's is_visible). A user with no presence yet reads as offline.
 * Out: one PresenceRow per user in storage, each change at a "presence" position.
 *      Setting online stamps last_active_ts; the other states keep the previous stamp
 *      (Synapse's user-level rule). The wire form (`content`) has `last_active_ago` when a
 *      stamp exists, `status_msg` when set, and `currently_active` only while online: true when
 *      the user was active within ACTIVE_WINDOW_MS (Synapse's last_active_granularity).
 * Idle: an online user inactive for `idleAfterMs` becomes unavailable on their own:
 *      `sweepIdle()` writes that change (startIdleSweep runs it on an unref'd timer), and
 *      `content` already shows unavailable before the sweep gets there.
 * bumpActivity(userId) is the sync engine's hook ("this user did something"): it makes the
 *      user online, writing only when that is news (not online, or the last stamp is older
 *      than half the active window), so a syncing user costs at most one write per 30 s.
 * Writes for one user are serialised so a sweep never overwrites a fresher bump.
 */
import { ForbiddenError } from "../errors/matrix-error.js";
import { parseUserId, type UserId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import type { Storage } from "../storage/storage.js";
import type { PresenceRow } from "../storage/rows.js";
import type { Clock } from "../util/clock.js";
import { KeyedMutex } from "../util/keyed-mutex.js";

export type PresenceState = PresenceRow["state"];
export const PRESENCE_STATES: readonly PresenceState[] = ["online", "unavailable", "offline"];

/** How long after their last activity a user counts as currently active. */
export const ACTIVE_WINDOW_MS = 60_000;
const SWEEP_BATCH = 500;

/** The spec's presence content (GET /presence/{userId}/status, m.presence in sync). */
export interface PresenceContent {
  presence: PresenceState;
  last_active_ago?: number;
  status_msg?: string;
  currently_active?: boolean;
}

export interface PresenceOptions {
  idleAfterMs: number;
  onError?: (err: unknown) => void;
}

export class Presence {
  private readonly locks = new KeyedMutex();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly storage: Storage, private readonly clock: Clock, private readonly opts: PresenceOptions) {}

  /** PUT /presence/{userId}/status. */
  async set(requester: Requester, pathUserId: string, presence: PresenceState, statusMsg: string | undefined): Promise<void> {
    if (pathUserId !== requester.userId) throw new ForbiddenError("Can only set your own presence state");
    const userId = requester.userId;
    await this.locks.run(userId, async () => {
      const now = this.clock.now();
      const previous = await this.storage.presence.get(userId);
      const online = presence === "online";
      await this.storage.presence.put({
        userId,
        state: presence,
        statusMsg: statusMsg ?? null,
        lastActiveTs: online ? now : (previous?.lastActiveTs ?? 0),
        currentlyActive: online,
      });
    });
  }

  /** GET /presence/{userId}/status. */
  async get(requester: Requester, pathUserId: string): Promise<PresenceContent> {
    const userId = parseUserId(pathUserId);
    if (userId !== requester.userId && !(await this.shareARoom(requester.userId, userId))) {
      throw new ForbiddenError("You are not allowed to see their presence.");
    }
    return this.content(await this.storage.presence.get(userId));
  }

  /** The wire form of a stored row at the current time (null = never set: offline). */
  content(row: PresenceRow | null): PresenceContent {
    if (!row) return { presence: "offline" };
    const now = this.clock.now();
    const idle = row.state === "online" && now - row.lastActiveTs >= this.opts.idleAfterMs;
    const state: PresenceState = idle ? "unavailable" : row.state;
    const out: PresenceContent = { presence: state };
    if (row.lastActiveTs > 0) out.last_active_ago = Math.max(0, now - row.lastActiveTs);
    if (row.statusMsg) out.status_msg = row.statusMsg;
    if (state === "online") out.currently_active = row.currentlyActive && now - row.lastActiveTs < ACTIVE_WINDOW_MS;
    return out;
  }

  /** The user did something: online now, written only when that changes what others see. */
  async bumpActivity(userId: UserId): Promise<void> {
    await this.locks.run(userId, async () => {
      const now = this.clock.now();
      const previous = await this.storage.presence.get(userId);
      if (previous?.state === "online" && previous.currentlyActive && now - previous.lastActiveTs < ACTIVE_WINDOW_MS / 2) return;
      await this.storage.presence.put({ userId, state: "online", statusMsg: previous?.statusMsg ?? null, lastActiveTs: now, currentlyActive: true });
    });
  }

  /**
   * The user polls /sync with set_presence=unavailable ("marked as being idle", spec): they
   * are unavailable, written only when that is news. Their last activity stamp is kept.
   */
  async markIdleFromSync(userId: UserId): Promise<void> {
    await this.locks.run(userId, async () => {
      const previous = await this.storage.presence.get(userId);
      if (previous?.state === "unavailable") return;
      await this.storage.presence.put({ userId, state: "unavailable", statusMsg: previous?.statusMsg ?? null, lastActiveTs: previous?.lastActiveTs ?? 0, currentlyActive: false });
    });
  }

  /** Marks online users inactive for idleAfterMs as unavailable; returns how many changed. */
  async sweepIdle(): Promise<number> {
    let changed = 0;
    for (;;) {
      const cutoff = this.clock.now() - this.opts.idleAfterMs;
      const batch = await this.storage.presence.onlineInactiveSince(cutoff + 1, SWEEP_BATCH);
      let progressed = false;
      for (const candidate of batch) {
        if (!(await this.markIdle(candidate.userId))) continue;
        changed += 1;
        progressed = true;
      }
      if (batch.length < SWEEP_BATCH || !progressed) return changed;
    }
  }

  /** Runs sweepIdle on an unref'd interval (a tenth of idleAfterMs, between 1 s and 60 s). */
  startIdleSweep(): void {
    if (this.sweepTimer) return;
    const every = Math.min(60_000, Math.max(1_000, Math.floor(this.opts.idleAfterMs / 10)));
    this.sweepTimer = setInterval(() => void this.sweepIdle().catch((err: unknown) => this.opts.onError?.(err)), every);
    this.sweepTimer.unref();
  }

  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** Re-reads the row under the user's lock: a bump since the query keeps them online. */
  private markIdle(userId: UserId): Promise<boolean> {
    return this.locks.run(userId, async () => {
      const row = await this.storage.presence.get(userId);
      if (row?.state !== "online" || this.clock.now() - row.lastActiveTs < this.opts.idleAfterMs) return false;
      await this.storage.presence.put({ userId, state: "unavailable", statusMsg: row.statusMsg, lastActiveTs: row.lastActiveTs, currentlyActive: false });
      return true;
    });
  }

  private async shareARoom(a: UserId, b: UserId): Promise<boolean> {
    const [mine, theirs] = await Promise.all([this.storage.rooms.roomsOfUser(a, ["join"]), this.storage.rooms.roomsOfUser(b, ["join"])]);
    const joined = new Set(mine.map((r) => r.roomId));
    return theirs.some((r) => joined.has(r.roomId));
  }
}
