/**
 * SyncV2Engine: GET /sync, Construct's three modes (README.md beside this file).
 *   1. check the `since` token (stale → answered as an initial sync: issue 7 refines this);
 *   2. acknowledge to-device messages the client confirmed by sending `since`;
 *   3. choose the mode from named conditions: polylog, linear or longpoll;
 *   4. run the items, then stamp `next_batch` with the last position covered.
 * Identical concurrent requests from one device share one computation.
 */
import type { DeviceId, UserId } from "../../events/ids.js";
import type { Notifier } from "../../notifier/notifier.js";
import type { Sequencer } from "../../streams/sequencer.js";
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import { SharedWork } from "../../util/shared-work.js";
import type { Clock } from "../../util/clock.js";
import { checkSyncToken, encodeSyncToken } from "../../streams/sync-token.js";
import { SyncV2Context, type SyncDeps } from "./context.js";
import type { SyncV2Request } from "./request.js";
import { hasContent, pruneEmpty } from "./response.js";
import { runPolylog } from "./modes/polylog.js";
import { runLinear } from "./modes/linear.js";
import { waitForNews } from "./modes/longpoll.js";

export interface SyncV2Options {
  /** Ranges up to this many positions run linear; larger ones polylog (design.md §2). */
  linearMaxDelta: number;
}

export interface SyncEvents {
  /** A stale token was answered as an initial sync (for logs and metrics). */
  staleToken?(userId: UserId, cause: string): void;
  /** Called once per request with the requested presence (the presence module marks activity). */
  syncing?(userId: UserId, setPresence: SyncV2Request["setPresence"]): void;
  /**
   * Resolves once a token naming `pos` may leave the server: the durable high-water mark
   * (streams/high-water-mark.ts) must cover every position a client has been told about.
   */
  issuing?(pos: StreamPos): Promise<void>;
}

export type Mode = "polylog" | "linear" | "longpoll";

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

  sync(userId: UserId, deviceId: DeviceId, req: SyncV2Request, signal?: AbortSignal): Promise<{ body: Record<string, unknown>; mode: Mode }> {
    const key = JSON.stringify([userId, deviceId, req.since, req.filterKey, req.fullState, req.stateAfter, req.timeoutMs, req.setPresence]);
    return this.shared.run(key, signal, (s) => this.compute(userId, deviceId, req, s));
  }

  private async compute(userId: UserId, deviceId: DeviceId, req: SyncV2Request, signal: AbortSignal): Promise<{ body: Record<string, unknown>; mode: Mode }> {
    this.events.syncing?.(userId, req.setPresence);
    const storage = this.deps.storage;
    const epoch = await storage.meta.epoch();
    let since: StreamPos | null = req.since?.pos ?? null;
    if (req.since) {
      const check = await checkSyncToken(req.since, { epoch, highWater: this.sequencer.retired(), stampAt: (p) => this.stampAt(p) });
      if (!check.valid) {
        this.events.staleToken?.(userId, check.cause);
        since = null;
        req = { ...req, since: null };
      }
    }
    if (since !== null) await storage.toDevice.acknowledge(userId, deviceId, since);

    const deadline = this.clock.now() + req.timeoutMs;
    let mode: Mode;
    let ctx: SyncV2Context;
    let itemsRan = false;
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
        !signal.aborted;
      if (shouldLongpoll) {
        const news = await waitForNews(this.notifier, this.sequencer, { userId, deviceId }, since!, remaining, signal);
        if (news === null) {
          mode = "longpoll";
          break;
        }
        continue; // something retired: run linear over it (next turn of the loop)
      }
      mode = shouldPolylog ? "polylog" : "linear";
      itemsRan = shouldPolylog || !caughtUp;
      if (shouldPolylog) await runPolylog(ctx);
      else if (!caughtUp) await runLinear(ctx, this.opts.linearMaxDelta + 1);
      // Nothing relevant in the slice and time left: move past it and wait (Construct
      // falls through from linear to longpoll the same way).
      if (mode === "linear" && !hasContent(ctx.response) && deadline - this.clock.now() > 0 && !signal.aborted) {
        since = ctx.upto;
        continue;
      }
      break;
    }
    ctx.response.next_batch = encodeSyncToken({ pos: ctx.upto, stamp: await this.stampAt(ctx.upto), epoch });
    if (!itemsRan) {
      // Timed out quietly, or caught up with timeout=0: no item ran, but key counts are
      // still owed to the client (an empty count reads as "no keys left": it would upload more).
      ctx.response.device_one_time_keys_count = await storage.keys.oneTimeKeyCounts(userId, deviceId);
      ctx.response.device_unused_fallback_key_types = await storage.keys.unusedFallbackKeyTypes(userId, deviceId);
    }
    await this.events.issuing?.(ctx.upto);
    return { body: pruneEmpty(ctx.response), mode };
  }

  private async stampAt(pos: StreamPos): Promise<number> {
    if (pos === 0) return 0;
    const [row] = await this.deps.storage.streams.read(asStreamPos(pos - 1), pos, 1);
    return row?.pos === pos ? row.stamp : 0;
  }
}
