/**
 * Restore from backup, over raw HTTP, for each way of answering a stale `since` (issue 7,
 * design.md §3, MSC2855): a server with bob syncing; `sluice backup` while it runs; more
 * events (the "lost era": bob's client sees them, his token moves past the backup); stop;
 * put the backup back (the .db only); start on the same port and data; new events, whose
 * positions re-use the lost era's (a server that clamps the token would skip them: asserted).
 * Then bob's client, following what the server answers, must end with the server's rooms,
 * membership, state and history, every event written after the restore exactly once:
 *   - opt-in (`org.matrix.msc2855.clear_cache=true`): 200, no next_batch, the flag;
 *   - `sync.staleSince: full_state` (default): an initial sync of the new epoch, every room
 *     limited, the room bob left after the restore under `leave`;
 *   - `error`: 400 ORG.MATRIX.MSC2855_BAD_SINCE_PARAM (again on retry);
 *   - `empty_initial`: `{next_batch}` only, a token for position 0 that starts a resync.
 * Also: start-up detection (log line, sluice_database_behind_total), the stale-token log line
 * and metric by cause, /versions advertising org.matrix.msc2855, and that the opt-in flag is
 * ignored while the token is good.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom, roomEvents } from "./room-helpers.js";
import { act, assertSyncError, checkSyncBody, ids, send, setState, sync, syncRaw, type SyncBody } from "./sync-helpers.js";
import { BAD_SINCE, CLEAR_CACHE, Follower, LogCapture, assertConverged, databaseFile, metric, restartServer, runCli, tokenEpoch, tokenPos } from "./restore-helpers.js";

let backups = 0;

type Answer = "opt-in" | "full_state" | "error" | "empty_initial";

interface Restored {
  server: TestServer;
  log: LogCapture;
  bob: Follower;
  alice: TestUser;
  rooms: { main: string; gone: string; lostLeave: string };
  /** bob's token from the lost era: the last one his client holds. */
  oldToken: string;
  /** Events written after the restore, before bob's first sync. */
  afterRestore: string[];
  /** Lost-era events bob's client saw. */
  lost: string[];
}

/**
 * Builds the restore scenario up to the moment bob's client, holding a lost-era token, syncs
 * against the restored server. `answer` chooses the configured fallback and bob's opt-in.
 */
async function restoreScenario(answer: Answer, work: string, live: Set<TestServer>): Promise<Restored> {
  const staleSince = answer === "opt-in" ? "full_state" : answer;
  const log = new LogCapture();
  let server = await startServer({ sync: { staleSince } }, { logger: log.logger });
  live.add(server);
  const base = server.baseUrl;
  const alice = await registerUser(base, "alice");
  const bobUser = await registerUser(base, "bob");
  const main = await createRoom(base, alice, { preset: "public_chat", name: "Main" });
  const gone = await createRoom(base, alice, { preset: "public_chat", name: "Bob leaves after the restore" });
  const lostLeave = await createRoom(base, alice, { preset: "public_chat", name: "Bob leaves in the lost era" });
  for (const r of [main, gone, lostLeave]) await joinRoom(base, bobUser, r);
  for (let i = 0; i < 4; i++) await send(base, alice, main, `before ${i}`);

  const bob = new Follower(bobUser, { clearCache: answer === "opt-in", limit: 5 });
  await bob.step(base, false); // initial sync
  await bob.step(base, false);

  // The backup, with the CLI, while the server runs.
  const backupFile = join(work, `backup-${++backups}-${answer}.db`);
  const backup = await runCli(server.dataDir, ["backup", backupFile]);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(backup.stdout, /backed up .*sluice\.db to .*backup-.*\.db/);
  assert.ok(existsSync(backupFile));
  assert.ok(!existsSync(`${backupFile}.hwm`), "the high-water mark is not part of a backup");

  // The lost era: bob's client sees all of it.
  const lost: string[] = [];
  for (let i = 0; i < 12; i++) lost.push(await send(base, alice, main, `lost ${i}`));
  lost.push(await setState(base, alice, main, "m.room.topic", "", { topic: "set in the lost era" }));
  await act(base, bobUser, lostLeave, "leave");
  await bob.step(base, false);
  const oldToken = bob.token!;
  for (const id of lost) assert.ok(bob.knows(main, id), "bob's client saw the lost era");

  // Stop, put the backup back, start on the same port and data directory.
  live.delete(server);
  server = await restartServer(server, { backupFile, overrides: { sync: { staleSince } }, log });
  live.add(server);
  assert.equal(server.baseUrl, base);
  assert.equal(log.find(/DATABASE IS BEHIND/).length, 1, "the restore is detected at start-up and logged");
  assert.equal(await metric(base, "sluice_database_behind_total"), 1);

  // New events after the restore: their positions are ones bob's client has already passed.
  const afterRestore: string[] = [];
  for (let i = 0; i < 3; i++) afterRestore.push(await send(base, alice, main, `after ${i}`));
  afterRestore.push(await setState(base, alice, main, "m.room.name", "", { name: "Main, after the restore" }));
  await act(base, bobUser, gone, "leave");
  const rows = (await roomEvents(server, main)).filter((e) => afterRestore.includes(e.eventId));
  assert.equal(rows.length, afterRestore.length);
  for (const row of rows) assert.ok(row.pos <= tokenPos(oldToken), `position ${row.pos} re-used below bob's token ${tokenPos(oldToken)}: a clamping server would skip it`);
  return { server, log, bob, alice, rooms: { main, gone, lostLeave }, oldToken, afterRestore, lost };
}

/** Every event written after the restore is in bob's timeline exactly once. */
function assertEachOnce(s: Restored, extra: string[] = []): void {
  const held = s.bob.timelines.get(s.rooms.main) ?? [];
  for (const id of [...s.afterRestore, ...extra]) assert.equal(held.filter((x) => x === id).length, 1, `${id} once in bob's timeline: ${s.bob.log.join("\n")}`);
}

/** After the answer has been followed: more writes, incremental syncs, and full convergence. */
async function finish(s: Restored, what: string): Promise<void> {
  const base = s.server.baseUrl;
  const more = [await send(base, s.alice, s.rooms.main, "later 1"), await send(base, s.alice, s.rooms.lostLeave, "later 2")];
  const step = await s.bob.step(base, false);
  assert.equal(step.status, 200);
  const epoch = tokenEpoch(step.body.next_batch);
  assert.notEqual(epoch, tokenEpoch(s.oldToken), "the client now holds a token of the new epoch");
  assertEachOnce(s, [more[0]!]);
  assert.ok(s.bob.knows(s.rooms.lostLeave, more[1]!));
  const quiet = await s.bob.step(base, false);
  assert.equal(quiet.body.rooms, undefined, `the client is caught up: ${JSON.stringify(quiet.body.rooms)}`);
  await assertConverged(s.server, s.bob, what);
  // Logged and counted once, by cause.
  assert.equal(await metric(base, "sluice_sync_stale_tokens_total", 'cause="epoch"'), 1);
  const lines = s.log.find(/stale sync token/);
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!.cause, "epoch");
  assert.equal(lines[0]!.userId, s.bob.user.userId);
  assert.equal(lines[0]!.deviceId, s.bob.user.deviceId);
}

describe("clear cache and reload: a restore from backup, over HTTP", () => {
  let work: string;
  /** Every server a scenario left running, closed at the end even when an assertion failed midway. */
  const servers = new Set<TestServer>();
  before(() => {
    work = mkdtempSync(join(tmpdir(), "sluice-restore-"));
  });
  after(async () => {
    for (const s of servers) await s.close();
    servers.clear();
    rmSync(work, { recursive: true, force: true });
  });

  it("opt-in (org.matrix.msc2855.clear_cache=true): 200 without next_batch, then a fresh initial sync", async () => {
    const s = await restoreScenario("opt-in", work, servers);
    const first = await s.bob.step(s.server.baseUrl, true);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, { [CLEAR_CACHE]: true }, "nothing but the flag");
    assert.ok(first.cleared);
    assert.equal(s.bob.token, null);
    const initial = await s.bob.step(s.server.baseUrl, true);
    assert.equal(initial.sentSince, null, "the next request has no since");
    await checkSyncBody(initial.body);
    assert.equal(s.log.find(/stale sync token/)[0]!.answer, "clear_cache");
    await finish(s, "opt-in");
  });

  it("full_state (the default): an initial sync of the new epoch, every room limited, left rooms listed", async () => {
    const s = await restoreScenario("full_state", work, servers);
    const first = await s.bob.step(s.server.baseUrl, true);
    assert.equal(first.status, 200);
    const body = first.body as SyncBody;
    await checkSyncBody(body);
    assert.notEqual(tokenEpoch(body.next_batch), tokenEpoch(s.oldToken), "a next_batch of the new epoch");
    const joined = body.rooms?.join ?? {};
    assert.deepEqual(Object.keys(joined).sort(), [s.rooms.main, s.rooms.lostLeave].sort(), "bob's rooms as the restored server knows them");
    for (const [roomId, room] of Object.entries(joined)) {
      assert.equal(room.timeline.limited, true, `${roomId} is limited`);
      assert.ok(room.timeline.prev_batch);
      const types = (room.state?.events ?? []).map((e) => e.type);
      assert.ok(types.includes("m.room.create"), `${roomId}: full state`);
    }
    assert.ok(body.rooms?.leave?.[s.rooms.gone], "the room bob left after the restore is under leave");
    assert.equal(body.rooms?.leave?.[s.rooms.gone]?.timeline.limited, true);
    assert.deepEqual(ids(joined[s.rooms.main]!.timeline.events).slice(-4), s.afterRestore, "the newest events are the ones written after the restore");
    assert.equal(s.log.find(/stale sync token/)[0]!.answer, "full_state");
    // the room bob left in the lost era is joined again, as the restored server says
    assert.equal(s.bob.membership.get(s.rooms.lostLeave), "join");
    await finish(s, "full_state");
  });

  it("error: 400 ORG.MATRIX.MSC2855_BAD_SINCE_PARAM, on every retry; a client that drops its cache recovers", async () => {
    const s = await restoreScenario("error", work, servers);
    for (let i = 0; i < 2; i++) {
      const res = await syncRaw(s.server.baseUrl, s.bob.user, { since: s.oldToken, timeout: 0 });
      assertSyncError(res, 400, BAD_SINCE);
      assert.match(String(res.body.error), /without since/);
    }
    assert.equal(await metric(s.server.baseUrl, "sluice_sync_stale_tokens_total", 'cause="epoch"'), 2, "each retry is counted");
    const first = await s.bob.step(s.server.baseUrl, true);
    assert.equal(first.status, 400);
    assert.equal(s.bob.token, null);
    await s.bob.step(s.server.baseUrl, true);
    // finish() expects one stale answer: the two retries above were extra
    const lines = s.log.find(/stale sync token/);
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.answer === "error" && l.cause === "epoch"));
    s.log.lines.length = 0;
    const base = s.server.baseUrl;
    const more = await send(base, s.alice, s.rooms.main, "later");
    await s.bob.step(base, false);
    assertEachOnce(s, [more]);
    await assertConverged(s.server, s.bob, "error");
  });

  it("empty_initial: {next_batch} only, a token for position 0 of the new epoch; the next request is a resync", async () => {
    const s = await restoreScenario("empty_initial", work, servers);
    const first = await s.bob.step(s.server.baseUrl, true);
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.body), ["next_batch"]);
    await checkSyncBody(first.body as SyncBody);
    assert.equal(tokenPos(first.body.next_batch), 0);
    assert.notEqual(tokenEpoch(first.body.next_batch), tokenEpoch(s.oldToken));
    const second = await s.bob.step(s.server.baseUrl, true);
    assert.equal(second.sentSince, first.body.next_batch);
    const body = second.body as SyncBody;
    await checkSyncBody(body);
    assert.ok(tokenPos(body.next_batch) > 0);
    for (const room of Object.values(body.rooms?.join ?? {})) assert.equal(room.timeline.limited, true);
    assert.ok(body.rooms?.leave?.[s.rooms.gone], "left rooms listed in the resync");
    assert.equal(s.log.find(/stale sync token/)[0]!.answer, "empty_initial");
    await finish(s, "empty_initial");
  });

  it("the database-behind log line names both positions and the new epoch; the .hwm file follows the new epoch", async () => {
    const s = await restoreScenario("full_state", work, servers);
    const [line] = s.log.find(/DATABASE IS BEHIND/);
    assert.ok(line);
    assert.equal(line.level, 50, "logged as an error");
    assert.ok(Number(line.recorded) >= tokenPos(s.oldToken));
    assert.ok(Number(line.database) < Number(line.recorded));
    const hwm = JSON.parse(readFileSync(`${databaseFile(s.server.dataDir)}.hwm`, "utf8")) as { epoch: string };
    assert.equal(hwm.epoch, line.newEpoch);
    const fresh = await sync(s.server.baseUrl, s.bob.user);
    assert.equal(tokenEpoch(fresh.next_batch), line.newEpoch);
  });
});

describe("clear cache: the opt-in, /versions", () => {
  let server: TestServer;
  let bob: TestUser;
  before(async () => {
    server = await startServer();
    bob = await registerUser(server.baseUrl, "bob");
  });
  after(async () => {
    await server.close();
  });

  it("/versions advertises org.matrix.msc2855", async () => {
    const res = await api<{ unstable_features: Record<string, boolean> }>(server.baseUrl, "GET", "/_matrix/client/versions");
    assert.equal(res.body.unstable_features["org.matrix.msc2855"], true);
  });

  it("the opt-in changes nothing while the token is good", async () => {
    const first = await sync(server.baseUrl, bob, { extra: { [CLEAR_CACHE]: "true" } });
    const next = await sync(server.baseUrl, bob, { since: first.next_batch, extra: { [CLEAR_CACHE]: "true" } });
    assert.equal(typeof next.next_batch, "string");
    assert.equal((next as unknown as Record<string, unknown>)[CLEAR_CACHE], undefined);
  });

  it("a malformed opt-in value is 400 M_INVALID_PARAM", async () => {
    assertSyncError(await syncRaw(server.baseUrl, bob, { extra: { [CLEAR_CACHE]: "yes" } }), 400, "M_INVALID_PARAM");
  });

  it("a malformed token stays 400 M_INVALID_PARAM, even with the opt-in", async () => {
    assertSyncError(await syncRaw(server.baseUrl, bob, { since: "garbage", extra: { [CLEAR_CACHE]: "true" } }), 400, "M_INVALID_PARAM");
  });
});
