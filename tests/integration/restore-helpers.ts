/**
 * Helpers for the clear-cache / restore-from-backup tests (clear-cache*.test.ts and
 * clients/js-sdk-restore.test.ts): take a backup of a running server, put it back the way
 * docs/operations/backup-and-restore.md tells an operator to (stop, copy the .db over, drop
 * the newer -wal/-shm, never touch the .hwm, start on the same port and data directory),
 * read metrics and captured log lines, and a model client (`Follower`) that follows every
 * answer of /sync the way a careful client does and counts what it was given.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { pino, type Logger } from "pino";
import { backupSqlite } from "../../src/storage/sqlite/backup.js";
import { decodeSyncToken } from "../../src/streams/sync-token.js";
import type { UserId } from "../../src/events/ids.js";
import { startServer, type TestServer, type TestUser } from "./harness.js";
import { roomEvents, storageOf } from "./room-helpers.js";
import { messages, syncRaw, type Json, type SyncBody, type SyncEvent, type SyncParams } from "./sync-helpers.js";

/** dist/tests/integration → dist/src/cli/main.js */
const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

/** Runs `sluice <args>` on a server's data directory, as an operator would on its machine. */
export function runCli(dataDir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLUICE_")) env[k] = v;
  Object.assign(env, { SLUICE_DATA_DIR: dataDir, SLUICE_SERVER_NAME: "test.local", SLUICE_LOG_LEVEL: "silent" });
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env, cwd: dataDir, timeout: 30_000, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1;
      done({ code, stdout, stderr });
    });
  });
}

export const BAD_SINCE = "ORG.MATRIX.MSC2855_BAD_SINCE_PARAM";
export const CLEAR_CACHE = "org.matrix.msc2855.clear_cache";

export function databaseFile(dataDir: string): string {
  return join(dataDir, "sluice.db");
}

/** An online backup of a running server's database (what `sluice backup` does). */
export async function takeBackup(server: TestServer, file: string): Promise<void> {
  await backupSqlite(databaseFile(server.dataDir), file);
}

/** Puts a backup in place of a stopped server's database: the .db only; the newer -wal/-shm go; the .hwm stays. */
export function putBackupInPlace(dataDir: string, backupFile: string): void {
  const db = databaseFile(dataDir);
  rmSync(`${db}-wal`, { force: true });
  rmSync(`${db}-shm`, { force: true });
  copyFileSync(backupFile, db);
}

/** Log lines a server wrote (JSON), captured in memory. */
export class LogCapture {
  readonly lines: Json[] = [];
  readonly logger: Logger = pino({ level: "info" }, { write: (s: string) => void this.lines.push(JSON.parse(s) as Json) });
  find(msg: RegExp): Json[] {
    return this.lines.filter((l) => typeof l.msg === "string" && msg.test(l.msg));
  }
}

/**
 * Stops `server` (keeping its data), optionally puts `backupFile` back, and starts a server
 * again on the same port and data directory with `overrides`.
 */
export async function restartServer(server: TestServer, opts: { backupFile?: string; overrides?: Record<string, unknown>; log?: LogCapture } = {}): Promise<TestServer> {
  const port = Number(new URL(server.baseUrl).port);
  const dataDir = server.dataDir;
  await server.close({ keepData: true });
  if (opts.backupFile) putBackupInPlace(dataDir, opts.backupFile);
  return startServer({ ...opts.overrides, listen: { port } }, { dataDir, ...(opts.log ? { logger: opts.log.logger } : {}) });
}

/** The value of one sample of /metrics (0 when absent). `labels` as written, e.g. `cause="epoch"`. */
export async function metric(base: string, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const want = labels ? `${name}{${labels}} ` : `${name} `;
  const line = text.split("\n").find((l) => l.startsWith(want));
  return line ? Number(line.slice(want.length)) : 0;
}

export function tokenPos(token: string): number {
  return decodeSyncToken(token).pos;
}

export function tokenEpoch(token: string): string {
  return decodeSyncToken(token).epoch;
}

/** What one /sync round trip of a Follower looked like. */
export interface FollowStep {
  status: number;
  body: SyncBody & Json;
  /** The request carried a `since`. */
  sentSince: string | null;
  /** The answer told the client to drop its cache (clear_cache 200 or the 400). */
  cleared: boolean;
}

/**
 * A client that follows the server's answers the way MSC2855 and matrix-js-sdk do, over raw
 * HTTP, keeping a cache per joined room: the ordered event ids it holds and the state it
 * believes (type|state_key → event id).
 *   - 200 with next_batch: store the token; for each joined room append the timeline. If it
 *     contains events the cache holds, keep only those after the last one (a resync merges);
 *     if `limited` and nothing is known, back-paginate from prev_batch with /messages until
 *     a known event or the room's start, and insert that page run before the timeline.
 *   - 200 with `org.matrix.msc2855.clear_cache` and no next_batch, or 400 BAD_SINCE: drop
 *     the cache and the token; the next request has no since.
 * `deliveries` counts, per event id, how often an incremental answer (one that answered a
 * valid token) handed the client an event it already held: that must never happen.
 */
export class Follower {
  token: string | null = null;
  readonly timelines = new Map<string, string[]>();
  readonly state = new Map<string, Map<string, string>>();
  /** Events a plain incremental answer repeated (a bug), with the step number. */
  readonly repeats: string[] = [];
  /** Rooms per section in the latest answer that listed them. */
  readonly membership = new Map<string, "join" | "leave" | "invite">();
  steps = 0;
  log: string[] = [];

  constructor(
    readonly user: TestUser,
    readonly opts: { clearCache?: boolean; limit?: number } = {},
  ) {}

  knows(roomId: string, eventId: string): boolean {
    return this.timelines.get(roomId)?.includes(eventId) ?? false;
  }

  dropCache(): void {
    this.timelines.clear();
    this.state.clear();
    this.membership.clear();
    this.token = null;
  }

  /**
   * One /sync. `expectResync` says the test knows this request may be answered by a resync
   * (its token may be stale, or it starts over): events already held are merged silently.
   */
  async step(base: string, expectResync: boolean, extra: SyncParams = {}): Promise<FollowStep> {
    this.steps++;
    const sentSince = this.token;
    const p: SyncParams = {
      ...(sentSince !== null ? { since: sentSince } : {}),
      filter: { room: { timeline: { limit: this.opts.limit ?? 5 } } },
      timeout: 0,
      set_presence: "offline",
      ...extra,
      ...(this.opts.clearCache ? { extra: { ...extra.extra, [CLEAR_CACHE]: "true" } } : {}),
    };
    const res = await syncRaw(base, this.user, p);
    const body = res.body;
    if (res.status === 400 && body.errcode === BAD_SINCE) {
      this.log.push(`#${this.steps} 400 ${BAD_SINCE}: drop cache`);
      this.dropCache();
      return { status: 400, body, sentSince, cleared: true };
    }
    assert.equal(res.status, 200, `sync: ${JSON.stringify(body)}`);
    if (body[CLEAR_CACHE] === true) {
      assert.equal(body.next_batch, undefined, "a clear_cache answer has no next_batch");
      this.log.push(`#${this.steps} clear_cache: drop cache`);
      this.dropCache();
      return { status: 200, body, sentSince, cleared: true };
    }
    assert.equal(typeof body.next_batch, "string", JSON.stringify(body));
    const mayMerge = expectResync || sentSince === null || tokenPos(sentSince) === 0;
    for (const [roomId, room] of Object.entries(body.rooms?.join ?? {})) {
      this.membership.set(roomId, "join");
      await this.applyRoom(base, roomId, room, mayMerge);
    }
    for (const [roomId, room] of Object.entries(body.rooms?.leave ?? {})) {
      this.membership.set(roomId, "leave");
      await this.applyRoom(base, roomId, room, mayMerge);
    }
    for (const roomId of Object.keys(body.rooms?.invite ?? {})) this.membership.set(roomId, "invite");
    this.log.push(`#${this.steps} since ${sentSince ?? "-"} → ${body.next_batch} rooms ${JSON.stringify(Object.keys(body.rooms?.join ?? {}).length)}`);
    this.token = body.next_batch;
    return { status: 200, body, sentSince, cleared: false };
  }

  private async applyRoom(base: string, roomId: string, room: { timeline: { events: SyncEvent[]; limited?: boolean; prev_batch?: string }; state?: { events: SyncEvent[] } }, mayMerge: boolean): Promise<void> {
    const held = this.timelines.get(roomId) ?? [];
    const heldSet = new Set(held);
    let fresh = room.timeline.events;
    const lastKnown = fresh.map((e) => heldSet.has(e.event_id)).lastIndexOf(true);
    if (lastKnown >= 0) {
      if (!mayMerge) this.repeats.push(...fresh.slice(0, lastKnown + 1).filter((e) => heldSet.has(e.event_id)).map((e) => `#${this.steps} ${roomId} ${e.event_id}`));
      fresh = fresh.slice(lastKnown + 1);
    } else if (room.timeline.limited && room.timeline.prev_batch) {
      // The gap: page backwards until something known, or the start of the room.
      const gap: SyncEvent[] = [];
      let from: string | undefined = room.timeline.prev_batch;
      for (let page = 0; from !== undefined; page++) {
        assert.ok(page < 500, "back-pagination never ended");
        const res = await messages(base, this.user, roomId, { dir: "b", from, limit: "20" });
        let stop = false;
        for (const e of res.chunk) {
          if (heldSet.has(e.event_id)) {
            stop = true;
            break;
          }
          gap.push(e);
        }
        if (stop || res.chunk.length === 0) break;
        from = res.end;
      }
      fresh = [...gap.reverse(), ...fresh];
    }
    this.timelines.set(roomId, [...held, ...fresh.map((e) => e.event_id)]);
    const state = this.state.get(roomId) ?? new Map<string, string>();
    for (const e of [...(room.state?.events ?? []), ...room.timeline.events]) {
      if (e.state_key !== undefined) state.set(`${e.type}|${e.state_key}`, e.event_id);
    }
    this.state.set(roomId, state);
  }
}

/**
 * The follower's view equals the server's: every room the user is joined to is joined in
 * the client; its timeline, less the events the server no longer has (the lost era), is the
 * room's whole history in order, each event once; its state agrees on every entry the server
 * has; rooms the user left are not shown as joined; no incremental answer repeated an event.
 */
export async function assertConverged(server: TestServer, f: Follower, what: string): Promise<void> {
  const storage = storageOf(server);
  const context = (): string => `${what}\n${f.log.slice(-12).join("\n")}`;
  assert.deepEqual(f.repeats, [], `an incremental answer repeated events: ${context()}`);
  for (const m of await storage.rooms.roomsOfUser(f.user.userId as UserId)) {
    if (m.membership !== "join") {
      assert.notEqual(f.membership.get(m.roomId), "join", `${m.roomId}: the user is ${m.membership} but the client shows it joined: ${context()}`);
      continue;
    }
    assert.equal(f.membership.get(m.roomId), "join", `${m.roomId}: joined on the server: ${context()}`);
    const history = (await roomEvents(server, m.roomId)).map((e) => e.eventId);
    const onServer = new Set(history);
    const held = f.timelines.get(m.roomId) ?? [];
    assert.equal(new Set(held).size, held.length, `${m.roomId}: an event twice in the client's timeline: ${context()}`);
    assert.deepEqual(held.filter((id) => onServer.has(id)), history, `${m.roomId}: the client's timeline is the room's history: ${context()}`);
    const state = f.state.get(m.roomId) ?? new Map<string, string>();
    for (const row of await storage.rooms.currentState(m.roomId)) {
      const key = `${row.pdu.type}|${String(row.pdu.state_key)}`;
      assert.equal(state.get(key), row.eventId, `${m.roomId}: state ${key}: ${context()}`);
    }
  }
}
