/**
 * Notifier: wakes sync requests when a position they may care about retires.
 * In:  publish(change) from the sequencer's retired listener (positions only, never data).
 * Out: waitForChange(interest, after, signal) resolves with the first relevant change whose
 *      pos > after, or with null on timeout, abort or shutdown.
 * Contract for callers (register, then sample, then wait): register the waiter first, then
 *      re-read the sequencer's frontier, and cancel the wait if it already passed `after`.
 */
import type { StreamChange, StreamPos } from "../streams/position.js";

export interface Interest {
  readonly userId: string;
  readonly deviceId?: string;
}

export type WakeReason = "change" | "timeout" | "aborted" | "shutdown";

export interface Waiter {
  /** Resolves once; `change` is set when reason is "change". */
  readonly done: Promise<{ reason: WakeReason; change?: StreamChange }>;
  cancel(): void;
}

export interface Notifier {
  publish(change: StreamChange): void;
  waitForChange(interest: Interest, after: StreamPos, opts: { timeoutMs: number; signal?: AbortSignal }): Waiter;
  /** Tell the notifier who is in a room, so room changes reach them. */
  setRoomMembers(roomId: string, userIds: Iterable<string>): void;
  /** Wake every waiter with "shutdown" and refuse new ones (graceful stop). */
  shutdown(): void;
  /** Number of parked waiters (for metrics and tests). */
  waiting(): number;
}
