/**
 * SyncV2Engine: GET /sync, Construct's three modes (README.md beside this file).
 *   1. check the `since` token: malformed tokens never get here (400 in request.ts); a
 *      stale one (another database or epoch, a future position, a stamp that differs, or a
 *      position before an operator's reset for this device) is answered as MSC2855 says
 *      (`answerStale`); `s0_0_<epoch>` (nothing seen, empty_initial's next_batch) is an
 *      initial sync answered as a resync;
 *   2. acknowledge to-device messages the client confirmed by sending `since`;
 *   3. choose the mode from named conditions: polylog, linear or longpoll;
 *   4. run the items, then stamp `next_batch` with the last position covered. A reset that
 *      lands while the request waits or runs still makes its answer the stale one.
 * Identical concurrent requests from one device share one computation.
 */
import type { DeviceId, UserId } from "../../events/ids.js";
import type { Notifier } from "../../notifier/notifier.js";
import type { Sequencer } from "../../streams/sequencer.js";
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import { SharedWork } from "../../util/shared-work.js";
import type { Cancellation } from "../../util/cancellation.js";
import type { Clock } from "../../util/clock.js";
import { checkSyncToken, encodeSyncToken } from "../../streams/sync-token.js";
import { BadSinceError } from "../../errors/matrix-error.js";
import { SyncV2Context, type SyncDeps } from "./context.js";
import type { SyncV2Request } from "./request.js";
import { hasContent, pruneEmpty } from "./response.js";
import { runPolylog } from "./modes/polylog.js";
import { runLinear } from "./modes/linear.js";
import { waitForNews } from "./modes/longpoll.js";
import { fillKeyCounts } from "./items/device-key-counts.js";

/** How a stale `since` is answered to clients that did not opt in to MSC2855 (config `sync.staleSince`). */
export type StaleSinceAnswer = "full_state" | "error" | "empty_initial";

/**
 * Why a token is stale: "epoch" (another database, or a restore was detected at start-up),
 * "future" (a position this database never reached), "stamp" (the row at its position is
 * another row), "reset" (issued before an operator's forced resync of this device).
 */
export type StaleCause = "epoch" | "future" | "stamp" | "reset";

export interface SyncV2Options {
  /** Ranges up to this many positions run linear; larger ones polylog (design.md §2). */
  linearMaxDelta: number;
  staleSince: StaleSinceAnswer;
}

export interface SyncEvents {
  /** A stale token is being answered (for logs and metrics). */
  staleToken?(userId: UserId, cause: StaleCause, info: { deviceId: DeviceId; answer: StaleSinceAnswer | "clear_cache" }): void;
  /** Called once per request with the requested presence (the presence module marks activity). */
  syncing?(userId: UserId, setPresence: SyncV2Request["setPresence"]): void;
  /**
   * Resolves once a token naming `pos` may leave the server: the durable high-water mark
   * (streams/high-water-mark.ts) must cover every position a client has been told about.
   */
  issuing?(pos: StreamPos): Promise<void>;
}

/** "stale": a stale token answered without running the items (clear_cache, empty_initial). */
export type Mode = "polylog" | "linear" | "longpoll" | "stale";

export class SyncV2Engine {
  private readonly shared = new SharedWork<{ body: Record<string, unknown>; mode: Mode }>();

  constructor(
    private readonly deps: SyncDeps,
    private readonly sequencer: Sequencer,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    private readonly opts: SyncV2Options,
    private readonly events: SyncEvents = {},
  ) {}

  sync(userId: UserId, deviceId: DeviceId, req: SyncV2Request, cancel?: Cancellation): Promise<{ body: Record<string, unknown>; mode: Mode }> {
    const key = JSON.stringify([userId, deviceId, req.since, req.filterKey, req.fullState, req.stateAfter, req.timeoutMs, req.setPresence, req.clearCache, req.ignoreListPos]);
    return this.shared.run(key, cancel, (c) => this.compute(userId, deviceId, req, c));
  }

  private async compute(userId: UserId, deviceId: DeviceId, req: SyncV2Request, cancel: Cancellation): Promise<{ body: Record<string, unknown>; mode: Mode }> {
    this.events.syncing?.(userId, req.setPresence);
    const storage = this.deps.storage;
    const epoch = await storage.meta.epoch();
    const resetAt = await this.pastReset(userId, deviceId);
    let since: StreamPos | null = req.since?.pos ?? null;
    if (req.since) {
      const check = await checkSyncToken(req.since, { epoch, highWater: this.sequencer.retired(), stampAt: (p) => storage.streams.stampAt(p) });
      if (!check.valid) return this.answerStale(userId, deviceId, req, check.cause, epoch, cancel);
      if (since === 0 && this.sequencer.retired() > 0) {
        // "Nothing seen yet": only the empty_initial answer hands this out once the log has
        // anything in it. The initial sync it asks for is a resync (rooms limited, left rooms
        // listed), and no operator reset applies to it. (On an empty log it stays
        // incremental, so it can long-poll.)
        since = null;
        req = { ...req, since: null, resync: true };
      } else if (since !== null && since < resetAt) {
        await storage.toDevice.acknowledge(userId, deviceId, since); // same database: the client did get them
        return this.answerStale(userId, deviceId, req, "reset", epoch, cancel);
      }
    }
    if (since !== null) await storage.toDevice.acknowledge(userId, deviceId, since);
    const requestedSince = since;

    const deadline = this.clock.now() + req.timeoutMs;
    let mode: Mode;
    let ctx: SyncV2Context;
    let itemsRan = false;
    let waited = false;
    for (;;) {
      const upto = this.sequencer.retired();
      ctx = new SyncV2Context(this.deps, userId, deviceId, req, since, upto);
      itemsRan = false;
      const isInitial = since === null;
      const caughtUp = since !== null && since >= upto;
      const shouldPolylog =
        isInitial || // nothing to scan from: every room by point look-ups
        req.fullState || // the client asked for all state again
        upto - (since ?? 0) > this.opts.linearMaxDelta; // a long absence: scanning the log would cost more
      const remaining = deadline - this.clock.now();
      const shouldLongpoll =
        !shouldPolylog &&
        caughtUp && // nothing new yet
        remaining > 0 && // the client is willing to wait
        !cancel.aborted;
      if (shouldLongpoll) {
        waited = true;
        const news = await waitForNews(this.notifier, this.sequencer, { userId, deviceId }, since!, remaining, cancel.signal);
        if (news === null) {
          mode = "longpoll";
          break;
        }
        // A forced resync of this device retires a change for it: answer that at once.
        if (await this.resetAfter(userId, deviceId, requestedSince!)) return this.answerStale(userId, deviceId, req, "reset", epoch, cancel);
        continue; // something retired: run linear over it (next turn of the loop)
      }
      mode = shouldPolylog ? "polylog" : "linear";
      itemsRan = shouldPolylog || !caughtUp;
      if (shouldPolylog) await runPolylog(ctx);
      else if (!caughtUp) await runLinear(ctx, this.opts.linearMaxDelta + 1);
      // Nothing relevant in the slice and time left: move past it and wait (Construct
      // falls through from linear to longpoll the same way).
      if (mode === "linear" && !hasContent(ctx.response) && deadline - this.clock.now() > 0 && !cancel.aborted) {
        since = ctx.upto;
        continue;
      }
      break;
    }
    // A reset recorded while this request waited (the CLI's wakes nobody) still applies to it.
    // A request that did not wait took a millisecond or so: a reset landing in it is answered
    // by the client's next request, which names a position below the reset.
    if (waited && (await this.resetAfter(userId, deviceId, requestedSince!))) return this.answerStale(userId, deviceId, req, "reset", epoch, cancel);
    ctx.response.next_batch = encodeSyncToken({ pos: ctx.upto, stamp: (await this.deps.storage.streams.stampAt(ctx.upto)) ?? 0, epoch });
    if (!itemsRan) {
      // Timed out quietly, or caught up with timeout=0: no item ran, but key counts are
      // still owed to the client (an empty count reads as "no keys left": it would upload more).
      await fillKeyCounts(ctx);
    }
    await this.events.issuing?.(ctx.upto);
    return { body: pruneEmpty(ctx.response), mode };
  }

  /**
   * Has an operator forced a resync of this device after position `since` (a token naming
   * `since` was issued before the reset)? Resets take a position not yet handed out, so a
   * token naming a position at or above the reset was issued after it.
   */
  private async resetAfter(userId: UserId, deviceId: DeviceId, since: StreamPos): Promise<boolean> {
    return since < (await this.deps.storage.meta.syncResetFor(userId, deviceId));
  }

  /**
   * The newest reset position of this device; makes sure every token handed out from now on
   * names a position at or after it. A reset made by the CLI takes the next unwritten
   * position, and until something is written there every token (of an initial sync, of a
   * stale answer) would still be below it and be answered as stale once more: so write a
   * change for this user there.
   */
  private async pastReset(userId: UserId, deviceId: DeviceId): Promise<StreamPos> {
    const resetAt = await this.deps.storage.meta.syncResetFor(userId, deviceId);
    if (this.sequencer.retired() < resetAt) await this.deps.storage.streams.recordEphemeral({ kind: "sync_reset", userIds: [userId] });
    return resetAt;
  }

  /**
   * The answer to a stale token (design.md §3, MSC2855): the client's cache describes a
   * history this database does not have. Clients that opted in get MSC2855's second option;
   * everyone else the configured `sync.staleSince`. Every answer leads to a token of this
   * epoch at or after any reset, so the client is not told twice.
   */
  private async answerStale(
    userId: UserId,
    deviceId: DeviceId,
    req: SyncV2Request,
    cause: StaleCause,
    epoch: string,
    cancel: Cancellation,
  ): Promise<{ body: Record<string, unknown>; mode: Mode }> {
    const answer = req.clearCache ? "clear_cache" : this.opts.staleSince;
    this.events.staleToken?.(userId, cause, { deviceId, answer });
    await this.pastReset(userId, deviceId); // a reset may have landed while the request ran
    switch (answer) {
      case "clear_cache":
        // MSC2855 option 2: no next_batch; the client drops its state and syncs without since.
        return { body: { "org.matrix.msc2855.clear_cache": true }, mode: "stale" };
      case "error":
        throw new BadSinceError("The since token names a history this server no longer has (restored from a backup, another server, or a forced resync): drop your cache and sync without since");
      case "empty_initial":
        // Construct's answer: nothing, and a next_batch that makes the next request an initial sync.
        return { body: { next_batch: encodeSyncToken({ pos: asStreamPos(0), stamp: 0, epoch }) }, mode: "stale" };
      case "full_state":
        // An initial sync of this epoch, every room limited, left rooms listed.
        return this.compute(userId, deviceId, { ...req, since: null, resync: true }, cancel);
    }
  }

}
