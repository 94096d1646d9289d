/**
 * Restore from backup, end to end with matrix-js-sdk 43 (issue 7, design.md §3): a Sluice
 * server with bob's js-sdk client long-polling; `sluice backup` while it runs; a "lost era"
 * the client sees (messages, a topic change, a member leaving, bob leaving a room); stop the
 * server; put the backup back (the .db only; the newer -wal/-shm go; the .hwm stays); start
 * again on the same port and data directory; new events whose positions re-use positions
 * the client has already passed (so a server that clamps the token would skip them:
 * asserted), bob leaving another room. The client is never restarted. It must reach SYNCING
 * again, and then hold the server's rooms, membership and state, with every event written
 * after the restore in its timeline (live or by back-pagination) exactly once.
 *
 * Runs for `sync.staleSince: full_state` (the default) and `empty_initial`. With `error`,
 * the test shows why that is not the default: js-sdk retries the same token forever.
 * (The MSC2855 opt-in is not tested here: js-sdk does not implement it, and would not drop
 * its cache as a client that opts in promises to; clear-cache.test.ts covers it over HTTP.)
 *
 * Helpers are copied from js-sdk-sync.test.ts (loading the SDK quietly, unref'd long timers,
 * a recording fetch, a token-keeping MemoryStore, bounded waits).
 */
import "./node20-polyfills.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Sdk from "matrix-js-sdk";
import { api, registerUser, startServer, type TestServer, type TestUser } from "../integration/harness.js";
import { createRoom, joinRoom, roomEvents } from "../integration/room-helpers.js";
import { act, send, setState } from "../integration/sync-helpers.js";
import { BAD_SINCE, metric, putBackupInPlace, runCli, tokenEpoch, tokenPos } from "../integration/restore-helpers.js";
import { eventually, quietLogger, recordingFetch, loadSilencedSdk, tokenKeepingStore, unrefLongTimers, type WireCall } from "./js-sdk-support.js";

let sdk: typeof Sdk;
let restoreSetTimeout: (() => void) | undefined;

async function loadSdk(): Promise<void> {
  if (sdk) return;
  sdk = await loadSilencedSdk();
  restoreSetTimeout = unrefLongTimers();
}

after(() => restoreSetTimeout?.());

function roomOf(client: Sdk.MatrixClient, id: string): Sdk.Room {
  const room = client.getRoom(id);
  assert.ok(room, `the client has no room ${id}`);
  return room;
}

/** Every event of a room as the client's timeline set holds it, back-paginated to the room's creation. */
async function stitchedTimeline(client: Sdk.MatrixClient, id: string): Promise<Sdk.MatrixEvent[]> {
  const B = sdk.EventTimeline.BACKWARDS;
  let t = roomOf(client, id).getLiveTimeline();
  for (let page = 0; ; page++) {
    assert.ok(page < 200, "back-pagination did not reach the start of the room");
    const older = t.getNeighbouringTimeline(B);
    if (older) t = older;
    else if (t.getPaginationToken(B) !== null) await client.paginateEventTimeline(t, { backwards: true, limit: 30 });
    else break;
  }
  const events: Sdk.MatrixEvent[] = [];
  for (let cur: Sdk.EventTimeline | null = t; cur; cur = cur.getNeighbouringTimeline(sdk.EventTimeline.FORWARDS)) events.push(...cur.getEvents());
  return events;
}

/** Does the client hold this event anywhere in the room's timelines? */
function holds(client: Sdk.MatrixClient, roomId: string, eventId: string): boolean {
  return client.getRoom(roomId)?.getTimelineForEvent(eventId) != null;
}

interface World {
  server: TestServer;
  alice: TestUser;
  bobUser: TestUser;
  carol: TestUser;
  bob: Sdk.MatrixClient;
  calls: WireCall[];
  states: string[];
  rooms: { main: string; busy: string; lostLeave: string; gone: string };
  /** The token bob's client held when the server came back. */
  oldToken: string;
  /** Calls made after the restored server started. */
  callsBefore: number;
  statesBefore: number;
  afterRestore: { roomId: string; eventId: string }[];
}

/** Everything up to the restored server running with new events written, the client untouched. */
async function restoreWorld(staleSince: "full_state" | "empty_initial" | "error", work: string, live: Set<TestServer>): Promise<World> {
  let server = await startServer({ sync: { staleSince } });
  live.add(server);
  const base = server.baseUrl;
  const alice = await registerUser(base, "alice");
  const bobUser = await registerUser(base, "bob");
  const carol = await registerUser(base, "carol");
  const main = await createRoom(base, alice, { preset: "public_chat", name: "Main", topic: "the topic the backup has" });
  const busy = await createRoom(base, alice, { preset: "public_chat", name: "Busy" });
  const lostLeave = await createRoom(base, alice, { preset: "public_chat", name: "Bob leaves in the lost era" });
  const gone = await createRoom(base, alice, { preset: "public_chat", name: "Bob leaves after the restore" });
  for (const r of [main, busy, lostLeave, gone]) await joinRoom(base, bobUser, r);
  await joinRoom(base, carol, main);
  for (let i = 0; i < 5; i++) {
    await send(base, alice, main, `before ${i}`);
    await send(base, alice, busy, `busy before ${i}`);
  }

  const calls: WireCall[] = [];
  const states: string[] = [];
  const bob = sdk.createClient({
    baseUrl: base,
    userId: bobUser.userId,
    accessToken: bobUser.accessToken,
    deviceId: bobUser.deviceId,
    logger: quietLogger,
    store: tokenKeepingStore(sdk),
    fetchFn: recordingFetch(calls, /\/sync$/),
    timelineSupport: true,
  });
  bob.on(sdk.ClientEvent.Sync, (state) => void states.push(state));
  await bob.startClient({ initialSyncLimit: 8, pollTimeout: 10_000, pendingEventOrdering: sdk.PendingEventOrdering.Detached });
  await eventually("bob's client to reach SYNCING", () => states.includes(sdk.SyncState.Syncing));

  // The backup, with the CLI, while the server runs and bob long-polls.
  const backupFile = join(work, `${staleSince}.db`);
  const backup = await runCli(server.dataDir, ["backup", backupFile]);
  assert.equal(backup.code, 0, backup.stderr);

  // The lost era, which bob's client sees.
  const lost: string[] = [];
  for (let i = 0; i < 12; i++) lost.push(await send(base, alice, main, `lost ${i}`));
  for (let i = 0; i < 20; i++) lost.push(await send(base, alice, busy, `busy lost ${i}`));
  lost.push(await setState(base, alice, main, "m.room.topic", "", { topic: "a topic only the lost era had" }));
  await act(base, carol, main, "leave");
  await act(base, bobUser, lostLeave, "leave");
  // A burst may reach bob as a limited timeline (the SDK then keeps only the newest events
  // live), so "seen" means the newest event of each room and the leave: bob's token is past
  // the whole lost era either way.
  const lastMain = lost[11]!;
  const lastBusy = lost[31]!;
  const topicEvent = lost[32]!;
  await eventually(
    "bob's client to see the lost era",
    () => holds(bob, main, topicEvent) && holds(bob, main, lastMain) && holds(bob, busy, lastBusy) && bob.getRoom(lostLeave)?.getMyMembership() === "leave",
  );
  assert.equal(roomOf(bob, main).currentState.getStateEvents("m.room.topic", "")?.getContent().topic, "a topic only the lost era had");

  // Stop (parked long-polls are answered), put the backup back, start on the same port.
  const port = Number(new URL(base).port);
  const dataDir = server.dataDir;
  const down = states.length;
  live.delete(server);
  await server.close({ keepData: true });
  await eventually("bob's client to notice the server is gone", () => states.slice(down).some((s) => s === sdk.SyncState.Reconnecting || s === sdk.SyncState.Error));
  const oldToken = bob.store.getSyncToken();
  assert.ok(oldToken);
  putBackupInPlace(dataDir, backupFile);
  const callsBefore = calls.length;
  const statesBefore = states.length;
  server = await startServer({ sync: { staleSince }, listen: { port } }, { dataDir });
  live.add(server);
  assert.equal(await metric(base, "sluice_database_behind_total"), 1, "the restore was detected");

  // New events: 3 in main (the resync's timeline reaches back to events bob holds), 12 in
  // busy (more than the timeline: a gap to back-paginate), a rename, bob leaves `gone`.
  const afterRestore: { roomId: string; eventId: string }[] = [];
  for (let i = 0; i < 3; i++) afterRestore.push({ roomId: main, eventId: await send(base, alice, main, `after ${i}`) });
  for (let i = 0; i < 12; i++) afterRestore.push({ roomId: busy, eventId: await send(base, alice, busy, `busy after ${i}`) });
  afterRestore.push({ roomId: main, eventId: await setState(base, alice, main, "m.room.name", "", { name: "Main, renamed after the restore" }) });
  await act(base, bobUser, gone, "leave");
  for (const r of [main, busy]) {
    for (const row of (await roomEvents(server, r)).filter((e) => afterRestore.some((a) => a.eventId === e.eventId))) {
      assert.ok(row.pos <= tokenPos(oldToken), `position ${row.pos} re-used below the client's token ${tokenPos(oldToken)}: a clamping server would skip it`);
    }
  }
  return { server, alice, bobUser, carol, bob, calls, states, rooms: { main, busy, lostLeave, gone }, oldToken, callsBefore, statesBefore, afterRestore };
}

/** The client's rooms, membership and state are the server's; every post-restore event once. */
async function assertClientMatchesServer(w: World): Promise<void> {
  const base = w.server.baseUrl;
  const joined = await api<{ joined_rooms: string[] }>(base, "GET", "/_matrix/client/v3/joined_rooms", { token: w.bobUser.accessToken });
  const clientJoined = w.bob.getRooms().filter((r) => r.getMyMembership() === "join").map((r) => r.roomId);
  assert.deepEqual(clientJoined.sort(), [...joined.body.joined_rooms].sort(), "the client's joined rooms are the server's");
  assert.equal(w.bob.getRoom(w.rooms.gone)?.getMyMembership(), "leave", "the room bob left after the restore");
  assert.equal(w.bob.getRoom(w.rooms.lostLeave)?.getMyMembership(), "join", "the room bob left only in the lost era");
  for (const roomId of joined.body.joined_rooms) {
    const state = await api<{ event_id: string; type: string; state_key: string }[]>(base, "GET", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state`, { token: w.bobUser.accessToken });
    assert.equal(state.status, 200);
    const room = roomOf(w.bob, roomId);
    for (const ev of state.body) {
      assert.equal(room.currentState.getStateEvents(ev.type, ev.state_key)?.getId(), ev.event_id, `${roomId}: state ${ev.type}|${ev.state_key}`);
    }
  }
  const main = roomOf(w.bob, w.rooms.main);
  assert.equal(main.currentState.getStateEvents("m.room.topic", "")?.getContent().topic, "the topic the backup has");
  assert.equal(main.name, "Main, renamed after the restore");
  assert.deepEqual(main.getJoinedMembers().map((m) => m.userId).sort(), [w.alice.userId, w.bobUser.userId, w.carol.userId].sort(), "carol's lost-era leave is undone");
  for (const roomId of [w.rooms.main, w.rooms.busy]) {
    const ids = (await stitchedTimeline(w.bob, roomId)).map((e) => e.getId()!);
    assert.equal(new Set(ids).size, ids.length, `${roomId}: no event twice in the client's timeline`);
    for (const a of w.afterRestore.filter((x) => x.roomId === roomId)) {
      assert.equal(ids.filter((id) => id === a.eventId).length, 1, `${roomId}: ${a.eventId}, written after the restore, once in the client's timeline`);
    }
    // And in the server's order, once the lost era's events are set aside.
    const history = (await roomEvents(w.server, roomId)).map((e) => e.eventId);
    const onServer = new Set(history);
    assert.deepEqual(ids.filter((id) => onServer.has(id)), history, `${roomId}: the client's timeline is the room's history`);
  }
}

describe("matrix-js-sdk 43 rides through a restore from backup", () => {
  let work: string;
  const live = new Set<TestServer>();
  const clients: Sdk.MatrixClient[] = [];
  before(async () => {
    await loadSdk();
    work = mkdtempSync(join(tmpdir(), "sluice-jssdk-restore-"));
  });
  after(async () => {
    for (const c of clients) c.stopClient();
    for (const s of live) {
      // A spare keep-alive connection the SDK's fetch pool opened (no request on it) would
      // hold the graceful close for a minute; the clients are stopped, so drop them all.
      s.app.http.server.closeAllConnections();
      await s.close();
    }
    rmSync(work, { recursive: true, force: true });
  });

  for (const staleSince of ["full_state", "empty_initial"] as const) {
    it(`sync.staleSince: ${staleSince}: the running client reaches SYNCING again and matches the server, every new event once`, async () => {
      const w = await restoreWorld(staleSince, work, live);
      clients.push(w.bob);
      await eventually(() => `bob's client to sync again (states: ${JSON.stringify(w.states.slice(w.statesBefore))})`, () => w.states.slice(w.statesBefore).includes(sdk.SyncState.Syncing));
      // The newest of each room arrive by sync; the rest of busy's gap is back-paginated below.
      const newest = [w.rooms.main, w.rooms.busy].map((r) => w.afterRestore.filter((a) => a.roomId === r).at(-1)!);
      await eventually("bob's client to receive the newest events written after the restore, and leave `gone`", () =>
        newest.every((a) => holds(w.bob, a.roomId, a.eventId)) && w.bob.getRoom(w.rooms.gone)?.getMyMembership() === "leave",
      );

      // On the wire: the first answered /sync after the restore carried the old token and got the configured answer.
      const after = w.calls.slice(w.callsBefore).filter((c) => c.status !== undefined);
      const first = after[0]!;
      assert.equal(first.url.searchParams.get("since"), w.oldToken, "the client resumed with the token it held");
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const body = first.body as { next_batch: string; rooms?: { join?: Record<string, { timeline: { limited: boolean } }> } };
      assert.notEqual(tokenEpoch(body.next_batch), tokenEpoch(w.oldToken), "a token of the new epoch");
      if (staleSince === "full_state") {
        for (const room of Object.values(body.rooms?.join ?? {})) assert.equal(room.timeline.limited, true);
      } else {
        assert.deepEqual(Object.keys(body), ["next_batch"]);
        assert.equal(tokenPos(body.next_batch), 0);
        assert.equal(after[1]?.url.searchParams.get("since"), body.next_batch, "the next request carried it");
        assert.equal(after[1]?.status, 200);
      }
      assert.ok(after.every((c) => c.status === 200), `every /sync after the restore was answered 200: ${JSON.stringify(after.map((c) => c.status))}`);
      assert.equal(await metric(w.server.baseUrl, "sluice_sync_stale_tokens_total", 'cause="epoch"'), 1, "one stale answer, then good tokens");

      // Live again: a new message arrives at once.
      const finalId = await send(w.server.baseUrl, w.alice, w.rooms.main, "live after the restore");
      w.afterRestore.push({ roomId: w.rooms.main, eventId: finalId });
      await eventually("bob's client to see a message sent after it recovered", () => holds(w.bob, w.rooms.main, finalId));
      await assertClientMatchesServer(w);
      w.bob.stopClient();
    });
  }

  it("sync.staleSince: error strands the client: it retries the same token and never syncs again (why it is not the default)", async () => {
    const w = await restoreWorld("error", work, live);
    clients.push(w.bob);
    await eventually("two refused retries", () => w.calls.slice(w.callsBefore).filter((c) => c.status === 400).length >= 2);
    const after = w.calls.slice(w.callsBefore).filter((c) => c.status !== undefined);
    assert.ok(after.every((c) => c.status === 400 && c.body?.errcode === BAD_SINCE && c.url.searchParams.get("since") === w.oldToken), JSON.stringify(after.map((c) => [c.status, c.url.search])));
    assert.ok(!w.states.slice(w.statesBefore).includes(sdk.SyncState.Syncing));
    w.bob.stopClient();
  });
});
