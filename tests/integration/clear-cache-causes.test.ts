/**
 * Stale `since` tokens other than a restore, and operator-forced resyncs (issue 7):
 *   - a token from another database, a future position, a stamp that differs: each answered
 *     (full_state by default, clear_cache to clients that opt in), logged and counted by cause;
 *   - `POST /_sluice/admin/v1/reset_sync` (admins only, 403 otherwise) for one device, one
 *     user, everyone; `sluice reset-sync` (the CLI, while the server runs) the same: every
 *     token issued before is stale for that scope, answered once (the new token is not stale
 *     again, even when nothing was written after a CLI reset), and others are untouched;
 *   - a long-poll parked across an admin reset is answered as stale at once (user, device)
 *     or when it ends (everyone);
 *   - resets survive a restart; the `error` and `empty_initial` answers lead to a good token.
 * After each answer, a client following it converges with the server (restore-helpers.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom, loginNewDevice, storageOf } from "./room-helpers.js";
import { assertSyncError, checkSyncBody, parked, send, sync, syncRaw, type SyncBody } from "./sync-helpers.js";
import { BAD_SINCE, CLEAR_CACHE, Follower, LogCapture, assertConverged, metric, restartServer, runCli, tokenEpoch, tokenPos } from "./restore-helpers.js";
import { decodeSyncToken, encodeSyncToken } from "../../src/streams/sync-token.js";
import { asStreamPos } from "../../src/streams/position.js";
import type { UserId } from "../../src/events/ids.js";

const RESET = "/_sluice/admin/v1/reset_sync";

/** A good token of `user` now (quiet sync). */
async function current(base: string, user: TestUser): Promise<string> {
  return (await sync(base, user, { set_presence: "offline" })).next_batch;
}

/** Is this token good: an incremental, quiet answer (no stale answer)? */
async function isGood(base: string, user: TestUser, token: string): Promise<boolean> {
  const res = await syncRaw(base, user, { since: token, timeout: 0, set_presence: "offline", extra: { [CLEAR_CACHE]: "true" } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body[CLEAR_CACHE] !== true;
}

/** The full_state answer: a 200 of the current epoch, every joined room limited with full state. */
async function assertFullStateAnswer(body: SyncBody, rooms: string[]): Promise<void> {
  await checkSyncBody(body);
  assert.deepEqual(Object.keys(body.rooms?.join ?? {}).sort(), [...rooms].sort());
  for (const room of Object.values(body.rooms?.join ?? {})) {
    assert.equal(room.timeline.limited, true);
    assert.ok((room.state?.events ?? []).some((e) => e.type === "m.room.create"), "full state");
  }
}

describe("stale tokens: another database, the future, a different stamp", () => {
  let server: TestServer;
  let other: TestServer;
  let base: string;
  let bob: TestUser;
  let alice: TestUser;
  let roomId: string;
  const log = new LogCapture();

  before(async () => {
    server = await startServer({}, { logger: log.logger });
    other = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    roomId = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, bob, roomId);
    for (let i = 0; i < 8; i++) await send(base, alice, roomId, `m${i}`);
  });
  after(async () => {
    await server.close();
    await other.close();
  });

  const cases: { cause: string; token: (good: string) => Promise<string> }[] = [
    {
      cause: "epoch",
      // bob's token from another server (another database): a valid token there
      token: async () => current(other.baseUrl, await registerUser(other.baseUrl, `bob${Math.random().toString(36).slice(2, 8)}`)),
    },
    {
      cause: "future",
      token: async (good) => {
        const t = decodeSyncToken(good);
        return encodeSyncToken({ ...t, pos: asStreamPos(t.pos + 1000), stamp: 77 });
      },
    },
    {
      cause: "stamp",
      token: async (good) => {
        const t = decodeSyncToken(good);
        return encodeSyncToken({ ...t, stamp: t.stamp + 1 });
      },
    },
  ];

  for (const c of cases) {
    it(`${c.cause}: full_state for a client that did not opt in; it converges`, async () => {
      const before = await metric(base, "sluice_sync_stale_tokens_total", `cause="${c.cause}"`);
      const f = new Follower(bob);
      await f.step(base, false);
      f.token = await c.token(f.token!);
      const sent = await send(base, alice, roomId, `after a bad token (${c.cause})`);
      const answer = await f.step(base, true);
      await assertFullStateAnswer(answer.body, [roomId]);
      assert.equal(tokenEpoch(answer.body.next_batch), tokenEpoch(await current(base, bob)));
      assert.ok(f.knows(roomId, sent));
      assert.equal(await metric(base, "sluice_sync_stale_tokens_total", `cause="${c.cause}"`), before + 1);
      const line = log.find(/stale sync token/).at(-1)!;
      assert.deepEqual([line.cause, line.answer, line.userId, line.deviceId], [c.cause, "full_state", bob.userId, bob.deviceId]);
      await send(base, alice, roomId, "and then");
      await f.step(base, false);
      await assertConverged(server, f, c.cause);
    });

    it(`${c.cause}: clear_cache for a client that opted in; it starts over and converges`, async () => {
      const f = new Follower(bob, { clearCache: true });
      await f.step(base, false);
      f.token = await c.token(f.token!);
      const answer = await f.step(base, true);
      assert.deepEqual(answer.body, { [CLEAR_CACHE]: true });
      assert.equal(log.find(/stale sync token/).at(-1)!.answer, "clear_cache");
      const again = await f.step(base, true);
      assert.equal(again.sentSince, null);
      await assertConverged(server, f, c.cause);
    });
  }
});

describe("operator resets: POST /_sluice/admin/v1/reset_sync and sluice reset-sync", () => {
  let server: TestServer;
  let base: string;
  let admin: TestUser;
  let bob1: TestUser;
  let bob2: TestUser;
  let carol: TestUser;
  let roomId: string;
  const log = new LogCapture();

  before(async () => {
    server = await startServer({}, { logger: log.logger });
    base = server.baseUrl;
    admin = await registerUser(base, "admin");
    assert.equal(await storageOf(server).accounts.setAdmin(admin.userId as UserId, true), true);
    bob1 = await registerUser(base, "bob");
    bob2 = await loginNewDevice(base, bob1);
    carol = await registerUser(base, "carol");
    roomId = await createRoom(base, admin, { preset: "public_chat" });
    for (const u of [bob1, carol]) await joinRoom(base, u, roomId);
    for (let i = 0; i < 8; i++) await send(base, admin, roomId, `m${i}`);
  });
  after(async () => {
    await server?.close();
  });

  async function reset(body: Record<string, unknown>, as: TestUser = admin): Promise<{ status: number; body: Record<string, unknown> }> {
    return api(base, "POST", RESET, { token: as.accessToken, body });
  }

  /** Tokens of every device now, then `act`; returns which tokens went stale. */
  async function staleAfter(act: () => Promise<void>): Promise<string[]> {
    const devices = { admin, bob1, bob2, carol };
    const tokens = Object.fromEntries(await Promise.all(Object.entries(devices).map(async ([k, u]) => [k, await current(base, u)] as const)));
    await act();
    const stale: string[] = [];
    for (const [k, u] of Object.entries(devices)) if (!(await isGood(base, u, tokens[k]!))) stale.push(k);
    return stale;
  }

  it("a non-admin gets 403 M_FORBIDDEN; bad bodies are 400", async () => {
    const res = await reset({ user_id: carol.userId }, bob1);
    assert.equal(res.status, 403);
    assert.equal(res.body.errcode, "M_FORBIDDEN");
    for (const body of [{}, { all: true, user_id: carol.userId }, { device_id: "X" }, { user_id: "not a user" }]) {
      const bad = await reset(body);
      assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(bad.body)}`);
    }
    assert.equal(await isGood(base, carol, await current(base, carol)), true, "nothing was reset");
  });

  it("one device: only that device's older tokens are stale; answered once, then its new token is good", async () => {
    const before = await metric(base, "sluice_sync_stale_tokens_total", 'cause="reset"');
    const f = new Follower(bob1);
    await f.step(base, false);
    let res: { status: number; body: Record<string, unknown> } | undefined;
    const stale = await staleAfter(async () => {
      res = await reset({ user_id: bob1.userId, device_id: bob1.deviceId, reason: "repaired a room" });
    });
    assert.deepEqual(stale, ["bob1"]);
    assert.equal(res!.status, 200, JSON.stringify(res!.body));
    assert.equal(res!.body.reset, "device");
    assert.equal(typeof res!.body.position, "number");
    const answer = await f.step(base, true);
    await assertFullStateAnswer(answer.body, [roomId]);
    assert.ok(tokenPos(answer.body.next_batch) >= Number(res!.body.position));
    const again = await f.step(base, false);
    assert.equal(again.body.rooms, undefined, "the answer's token is not stale again");
    await assertConverged(server, f, "device reset");
    // isGood counted one more (staleAfter's own check of bob1's old token)
    assert.equal(await metric(base, "sluice_sync_stale_tokens_total", 'cause="reset"'), before + 2);
    const [line] = log.find(/operator forced a resync/).slice(-1);
    assert.deepEqual([line?.by, line?.scope, line?.userId, line?.deviceId, line?.reason], [admin.userId, "device", bob1.userId, bob1.deviceId, "repaired a room"]);
  });

  it("one user: every device of that user, nobody else", async () => {
    const stale = await staleAfter(async () => {
      assert.equal((await reset({ user_id: bob1.userId })).status, 200);
    });
    assert.deepEqual(stale, ["bob1", "bob2"]);
  });

  it("everyone: every device of every user", async () => {
    const stale = await staleAfter(async () => {
      const res = await reset({ all: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.reset, "all");
    });
    assert.deepEqual(stale, ["admin", "bob1", "bob2", "carol"]);
  });

  for (const [label, args, expected] of [
    ["--user", ["--user", "@carol:test.local"], ["carol"]],
    ["--user --device", ["--user", "@bob:test.local", "--device", "DEVICE2"], ["bob2"]],
    ["--all", ["--all", "--reason", "testing"], ["admin", "bob1", "bob2", "carol"]],
  ] as const) {
    it(`the CLI while the server runs (${label}): the same scopes; the answer's token is good although nothing was written since`, async () => {
      const cliArgs = args.map((a) => (a === "DEVICE2" ? bob2.deviceId : a));
      const target = { carol, bob2, admin }[expected[0] === "bob2" ? "bob2" : expected[0] === "carol" ? "carol" : "admin"];
      const f = new Follower(target);
      await f.step(base, false);
      const stale = await staleAfter(async () => {
        const run = await runCli(server.dataDir, ["reset-sync", ...cliArgs]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stdout, /resync forced for .*: sync tokens before position \d+ are stale/);
      });
      assert.deepEqual(stale, [...expected]);
      // The CLI took the next unwritten position; staleAfter's stale answers wrote one for
      // each stale user. Another reset now, with nothing after it, is the hard case:
      const run = await runCli(server.dataDir, ["reset-sync", ...cliArgs]);
      assert.equal(run.code, 0, run.stderr);
      const resetAt = Number(/position (\d+)/.exec(run.stdout)![1]);
      assert.ok(server.app.services.storage.sequencer.retired() < resetAt, "nothing was written at or after the reset");
      const answer = await f.step(base, true);
      await assertFullStateAnswer(answer.body, [roomId]);
      assert.ok(tokenPos(answer.body.next_batch) >= resetAt, "the answer's token is at or after the reset");
      assert.equal((await f.step(base, false)).body.rooms, undefined, "and it is not stale again");
      await assertConverged(server, f, `CLI ${label}`);
    });
  }

  it("the CLI refuses a missing or conflicting scope (exit 2)", async () => {
    for (const args of [[], ["--all", "--user", "@bob:test.local"], ["--device", "X"]]) {
      const run = await runCli(server.dataDir, ["reset-sync", ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stdout} ${run.stderr}`);
    }
  });

  it("an initial sync right after a CLI reset hands out a token at or after the reset: no second resync", async () => {
    const run = await runCli(server.dataDir, ["reset-sync", "--user", carol.userId]);
    assert.equal(run.code, 0, run.stderr);
    const resetAt = Number(/position (\d+)/.exec(run.stdout)![1]);
    assert.ok(server.app.services.storage.sequencer.retired() < resetAt);
    const before = await metric(base, "sluice_sync_stale_tokens_total", 'cause="reset"');
    const initial = await current(base, carol);
    assert.ok(tokenPos(initial) >= resetAt, `${initial} before the reset at ${resetAt}`);
    assert.equal(await isGood(base, carol, initial), true);
    assert.equal(await metric(base, "sluice_sync_stale_tokens_total", 'cause="reset"'), before);
  });

  it("a long-poll parked across a reset of its user is answered at once, as stale", async () => {
    const token = await current(base, carol);
    const waiting = syncRaw(base, carol, { since: token, timeout: 30_000, set_presence: "offline", extra: { [CLEAR_CACHE]: "true" } });
    await parked(server);
    const started = Date.now();
    assert.equal((await reset({ user_id: carol.userId })).status, 200);
    const res = await waiting;
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { [CLEAR_CACHE]: true });
    assert.ok(Date.now() - started < 20_000, "not held until the timeout");
  });

  it("a long-poll parked across a reset of everyone is answered as stale when it ends", async () => {
    const token = await current(base, carol);
    const waiting = syncRaw(base, carol, { since: token, timeout: 1_500, set_presence: "offline" });
    await parked(server);
    assert.equal((await reset({ all: true })).status, 200);
    const res = await waiting;
    assert.equal(res.status, 200);
    await assertFullStateAnswer(res.body, [roomId]);
  });
});

describe("operator resets: durable, and the error / empty_initial answers", () => {
  const servers = new Set<TestServer>();
  after(async () => {
    for (const s of servers) await s.close();
  });

  it("a reset survives a restart of the server", async () => {
    let server = await startServer();
    servers.add(server);
    const admin = await registerUser(server.baseUrl, "admin");
    await storageOf(server).accounts.setAdmin(admin.userId as UserId, true);
    const bob = await registerUser(server.baseUrl, "bob");
    const token = await current(server.baseUrl, bob);
    assert.equal((await api(server.baseUrl, "POST", RESET, { token: admin.accessToken, body: { user_id: bob.userId } })).status, 200);
    servers.delete(server);
    server = await restartServer(server);
    servers.add(server);
    assert.equal(await isGood(server.baseUrl, bob, token), false);
  });

  it("error: 400 ORG.MATRIX.MSC2855_BAD_SINCE_PARAM; the initial sync after it gives a good token", async () => {
    const server = await startServer({ sync: { staleSince: "error" } });
    servers.add(server);
    const bob = await registerUser(server.baseUrl, "bob");
    const token = await current(server.baseUrl, bob);
    const run = await runCli(server.dataDir, ["reset-sync", "--user", bob.userId]);
    assert.equal(run.code, 0, run.stderr);
    assertSyncError(await syncRaw(server.baseUrl, bob, { since: token }), 400, BAD_SINCE);
    const fresh = await current(server.baseUrl, bob);
    assert.equal(await isGood(server.baseUrl, bob, fresh), true);
  });

  it("empty_initial: {next_batch} for position 0; the resync it starts gives a good token", async () => {
    const server = await startServer({ sync: { staleSince: "empty_initial" } });
    servers.add(server);
    const bob = await registerUser(server.baseUrl, "bob");
    const roomId = await createRoom(server.baseUrl, bob, { name: "Bob's" });
    const token = await current(server.baseUrl, bob);
    const run = await runCli(server.dataDir, ["reset-sync", "--all"]);
    assert.equal(run.code, 0, run.stderr);
    const empty = await sync(server.baseUrl, bob, { since: token });
    assert.deepEqual(Object.keys(empty), ["next_batch"]);
    assert.equal(tokenPos(empty.next_batch), 0);
    const resync = await sync(server.baseUrl, bob, { since: empty.next_batch });
    assert.equal(resync.rooms?.join?.[roomId]?.timeline.limited, true);
    assert.equal(await isGood(server.baseUrl, bob, resync.next_batch), true);
  });
});
