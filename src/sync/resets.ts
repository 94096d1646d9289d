/**
 * Operator-forced resyncs (issue 7): "every sync token issued before now, for this device /
 * user / everyone, is stale". Used by `POST /_sluice/admin/v1/reset_sync` and, without a
 * running server's help, by `sluice reset-sync`.
 * The reset row is written FIRST at the next unwritten position P, then (on a server) a
 * change is retired at exactly P: a sync woken by it already sees the reset, and every
 * token the server hands out afterwards names a position ≥ P, so it is not stale.
 */
import type { Storage } from "../storage/storage.js";
import type { StreamPos } from "../streams/position.js";
import type { Clock } from "../util/clock.js";

export type ResetScope = { scope: "all" } | { scope: "user"; userId: string } | { scope: "device"; userId: string; deviceId: string };

export async function recordSyncReset(storage: Storage, clock: Clock, target: ResetScope, reason?: string): Promise<StreamPos> {
  const pos = await storage.meta.addSyncReset({ ...target, ts: clock.now(), ...(reason !== undefined ? { reason } : {}) });
  return pos;
}

/** On a running server: record the reset, then retire a change at its position (wakes the user's long-polls). */
export async function resetSyncOnServer(storage: Storage, clock: Clock, target: ResetScope, reason?: string): Promise<StreamPos> {
  const pos = await recordSyncReset(storage, clock, target, reason);
  const retired = await storage.streams.recordEphemeral({ kind: "sync_reset", ...(target.scope === "all" ? {} : { userIds: [target.userId] }) });
  if (retired !== pos) throw new Error(`sync reset recorded at ${pos} but its change retired at ${retired}`);
  return pos;
}
