/**
 * What every matrix-js-sdk test here needs besides the SDK: a silent logger, bounded polling,
 * unref'd SDK timers (so the process can exit), and a fetch that records chosen calls.
 * Import "./node20-polyfills.js" before the SDK itself; this module does not load the SDK.
 */
import type * as Sdk from "matrix-js-sdk";
import type { Logger } from "matrix-js-sdk/lib/logger.js";

/** How long a test waits for something a client should see (generous: shared, noisy machines). */
export const WAIT_MS = 60_000;

/** The real setTimeout, kept before unrefLongTimers() patches the global one. */
export const realSetTimeout = globalThis.setTimeout;

/** The SDK forces its own loggers to DEBUG; a logger object passed to createClient keeps it quiet. */
export const quietLogger: Logger = { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, getChild: () => quietLogger };

/** Polls `check` until it returns a value other than undefined/false; rejects after WAIT_MS naming `what`. */
export async function eventually<T>(what: string | (() => string), check: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((r) => realSetTimeout(r, 25));
  }
}

/**
 * The SDK arms a local timeout for every request (http-api/utils.ts timeoutSignal: 80 s plus
 * the poll timeout for /sync, 15 s for keep-alive pings) and never clears it. Harmless in a
 * browser; in Node those timers keep the test process alive up to ~90 s after the last
 * request. While the SDK runs, timers of 10 s or more set by anyone but the tests (whose
 * waits use realSetTimeout) are unref'd: they still fire while the process is alive, but no
 * longer hold it open. Returns the function that puts setTimeout back.
 */
export function unrefLongTimers(): () => void {
  const real = globalThis.setTimeout;
  const patched = (...args: Parameters<typeof setTimeout>): ReturnType<typeof setTimeout> => {
    const timer = real(...args);
    const ms = args[1];
    if (typeof ms === "number" && ms >= 10_000) timer.unref();
    return timer;
  };
  globalThis.setTimeout = Object.assign(patched, real);
  return () => {
    globalThis.setTimeout = real;
  };
}

export interface WireCall {
  url: URL;
  status?: number;
  body?: Record<string, unknown>;
}

/** A fetch that records the calls whose path matches (request URL at send time, status and JSON body on arrival). */
export function recordingFetch(calls: WireCall[], paths: RegExp): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const record = paths.test(url.pathname);
    const call: WireCall = { url };
    if (record) calls.push(call);
    const res = await fetch(input, init);
    if (record) {
      call.status = res.status;
      try {
        call.body = (await res.clone().json()) as Record<string, unknown>;
      } catch {
        // an aborted long-poll: no body to record
      }
    }
    return res;
  };
}

/**
 * Loads the SDK after silencing its module-level logger: some modules bind its methods at
 * import time (event-timeline-set.ts's debuglog), and child loggers (MatrixRTC) force
 * themselves to DEBUG but inherit the root's methodFactory. Import the polyfill first.
 */
export async function loadSilencedSdk(): Promise<typeof Sdk> {
  const { logger } = await import("matrix-js-sdk/lib/logger.js");
  const root = logger as unknown as { methodFactory: () => () => void; setLevel(level: "silent"): void };
  root.methodFactory = () => () => {};
  root.setLevel("silent");
  return import("matrix-js-sdk");
}

/**
 * A MemoryStore that, like a persistent store (IndexedDBStore), hands its last sync token
 * back when the client starts again. A plain MemoryStore answers getSavedSyncToken() with
 * null, which makes a restarted SyncApi do an initial sync instead of resuming.
 */
export function tokenKeepingStore(sdk: typeof Sdk): Sdk.MemoryStore {
  const store = new sdk.MemoryStore();
  store.getSavedSyncToken = () => Promise.resolve(store.getSyncToken());
  return store;
}
