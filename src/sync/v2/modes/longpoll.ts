/**
 * longpoll: the client has seen everything. Register the waiter first, then re-read the
 * frontier: a change that retired in between is not missed (the race tuwunel's watch.rs
 * documents). Wake on a change, on timeout, on client disconnect or on shutdown.
 * Returns the new frontier to run linear over, or null when the wait ended without news.
 */
import type { Notifier } from "../../../notifier/notifier.js";
import type { Sequencer } from "../../../streams/sequencer.js";
import type { StreamPos } from "../../../streams/position.js";

export async function waitForNews(
  notifier: Notifier,
  sequencer: Sequencer,
  interest: { userId: string; deviceId: string },
  since: StreamPos,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<StreamPos | null> {
  const waiter = notifier.waitForChange(interest, since, { timeoutMs, ...(signal ? { signal } : {}) });
  if (sequencer.retired() > since) {
    waiter.cancel();
    return sequencer.retired();
  }
  const woke = await waiter.done;
  return woke.reason === "change" ? sequencer.retired() : null;
}
