/**
 * Property test of clear cache and reload (issue 7): a seeded PRNG interleaves, on one
 * server, messages and topic changes in two rooms, syncs of two of bob's devices (one opted
 * in to MSC2855, one not; random timeline limits), online backups, restores of a random
 * earlier backup (stop, put the .db back, start with a random `sync.staleSince`), plain
 * restarts, and operator resets (admin endpoint or the CLI's storage path; device, user or
 * everyone). Each device is a `Follower` (restore-helpers.ts): it does what the answers say
 * (drop the cache on clear_cache or the 400, back-paginate limited timelines). At random
 * check points, and at the end, each device syncs until quiet and must hold exactly the
 * server's history of each room (events only its lost eras had aside), in order, each
 * event once, and the server's state; no incremental answer may repeat an event.
 * Bounded by operation count and restore count, never by time. Seeds: CLEAR_CACHE_SEEDS
 * (comma-separated) or the defaults; the seed and the last operations are printed on failure.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom, loginNewDevice, storageOf } from "./room-helpers.js";
import { send, setState } from "./sync-helpers.js";
import { Follower, assertConverged, restartServer, takeBackup } from "./restore-helpers.js";
import { recordSyncReset } from "../../src/sync/resets.js";
import { systemClock } from "../../src/util/clock.js";
import type { UserId } from "../../src/events/ids.js";

const OPS_PER_RUN = 90;
const MAX_RESTORES = 5;
const DEFAULT_SEEDS = [7, 20, 35, 1234];
const SEEDS = process.env.CLEAR_CACHE_SEEDS ? process.env.CLEAR_CACHE_SEEDS.split(",").map(Number) : DEFAULT_SEEDS;
const ANSWERS = ["full_state", "error", "empty_initial"] as const;

/** mulberry32: small, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Device {
  f: Follower;
  /** A restore or reset happened since this device's last ordinary answer: it may be answered by a resync. */
  pending: boolean;
}

async function run(seed: number, work: string, live: Set<TestServer>): Promise<void> {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ops: string[] = [];
  let server = await startServer({ sync: { staleSince: "full_state" } });
  live.add(server);
  const base = server.baseUrl;
  try {
    const alice = await registerUser(base, "alice");
    await storageOf(server).accounts.setAdmin(alice.userId as UserId, true);
    const bob1 = await registerUser(base, "bob");
    const bob2: TestUser = await loginNewDevice(base, bob1);
    const rooms = [await createRoom(base, alice, { preset: "public_chat", name: "one" }), await createRoom(base, alice, { preset: "public_chat", name: "two" })];
    for (const r of rooms) await joinRoom(base, bob1, r);
    const devices: Device[] = [
      { f: new Follower(bob1, {}), pending: false },
      { f: new Follower(bob2, { clearCache: true }), pending: false },
    ];
    const backups: string[] = [];
    let restores = 0;
    let counter = 0;

    const step = async (d: Device, limit: number): Promise<void> => {
      const r = await d.f.step(base, d.pending, { filter: { room: { timeline: { limit } } } });
      ops.push(`   ${d.f.log.at(-1)}`);
      if (r.status === 200 && !r.cleared) d.pending = false;
    };
    const settleAndCheck = async (what: string): Promise<void> => {
      for (const d of devices) {
        // At most: a stale answer, the request it asks for, then a quiet one.
        for (let i = 0; i < 4; i++) {
          await step(d, 1 + Math.floor(rand() * 8));
          if (d.f.token !== null && !d.pending) break;
        }
        await step(d, 8);
        await assertConverged(server, d.f, `${what}, device ${d.f.user.deviceId}`);
      }
    };

    for (let op = 0; op < OPS_PER_RUN; op++) {
      // Every run restores at least twice: a backup at the start, a restore two thirds in.
      const x = op === 5 ? 0.75 : op === Math.floor((OPS_PER_RUN * 2) / 3) && restores < 2 ? 0.85 : rand();
      if (x < 0.4) {
        const r = pick(rooms);
        ops.push(`#${op} send in ${rooms.indexOf(r)}`);
        await send(base, alice, r, `m${++counter}`);
      } else if (x < 0.47) {
        const r = pick(rooms);
        ops.push(`#${op} topic in ${rooms.indexOf(r)}`);
        await setState(base, alice, r, "m.room.topic", "", { topic: `t${++counter}` });
      } else if (x < 0.72) {
        const d = pick(devices);
        const limit = 1 + Math.floor(rand() * 8);
        ops.push(`#${op} device ${devices.indexOf(d)} syncs, limit ${limit}`);
        await step(d, limit);
      } else if (x < 0.8) {
        const file = join(work, `s${seed}-b${backups.length}.db`);
        ops.push(`#${op} backup ${backups.length}`);
        await takeBackup(server, file);
        backups.push(file);
      } else if (x < 0.86 && backups.length > 0 && restores < MAX_RESTORES) {
        const i = Math.floor(rand() * backups.length);
        const staleSince = pick(ANSWERS);
        ops.push(`#${op} restore backup ${i}, staleSince ${staleSince}`);
        live.delete(server);
        server = await restartServer(server, { backupFile: backups[i]!, overrides: { sync: { staleSince } } });
        live.add(server);
        restores++;
        for (const d of devices) d.pending = true;
      } else if (x < 0.89) {
        ops.push(`#${op} restart`);
        live.delete(server);
        server = await restartServer(server, { overrides: { sync: { staleSince: pick(ANSWERS) } } });
        live.add(server);
      } else if (x < 0.95) {
        const scope = pick(["device", "user", "all"] as const);
        const viaCli = rand() < 0.5;
        ops.push(`#${op} reset ${scope} ${viaCli ? "(CLI path)" : "(admin endpoint)"}`);
        const target = scope === "all" ? { scope } : scope === "user" ? { scope, userId: bob1.userId } : { scope, userId: bob1.userId, deviceId: bob1.deviceId };
        if (viaCli) await recordSyncReset(storageOf(server), systemClock, target);
        else {
          const body = scope === "all" ? { all: true } : scope === "user" ? { user_id: bob1.userId } : { user_id: bob1.userId, device_id: bob1.deviceId };
          const res = await api(base, "POST", "/_sluice/admin/v1/reset_sync", { token: alice.accessToken, body });
          assert.equal(res.status, 200, JSON.stringify(res.body));
        }
        for (const d of devices) if (scope !== "device" || d.f.user.deviceId === bob1.deviceId) d.pending = true;
      } else {
        ops.push(`#${op} check`);
        await settleAndCheck(`check at op ${op}`);
      }
    }
    await settleAndCheck("the end");
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`seed ${seed} failed (rerun with CLEAR_CACHE_SEEDS=${seed}): ${msg}\nlast operations:\n${ops.slice(-40).join("\n")}`, { cause: err });
  }
}

describe("clear cache property: clients that follow the answers never miss nor repeat an event, across random restores and resets", () => {
  const work = mkdtempSync(join(tmpdir(), "sluice-restore-prop-"));
  const live = new Set<TestServer>();
  after(async () => {
    for (const s of live) await s.close();
    rmSync(work, { recursive: true, force: true });
  });
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${OPS_PER_RUN} random operations, at most ${MAX_RESTORES} restores`, async () => {
      await run(seed, work, live);
      for (const s of live) await s.close();
      live.clear();
    });
  }
});
