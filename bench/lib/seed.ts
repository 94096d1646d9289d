/**
 * Seeds a Sluice data dir for the sync benchmarks: one account (`bench`) in N rooms, each
 * room 20 events and 5 members (bench + o1..o4), plus an `idle` account in no room (its
 * devices park long-polls nothing wakes). Written in-process through the domain services
 * (buildServices: RoomCreator, Memberships, EventWriter) on the data dir, not over HTTP,
 * so 10,000 rooms take minutes, not hours; the benchmark then starts the real server on a
 * copy of it.
 *
 * Room shape (the same for Synapse, see synapse.ts): createRoom public_chat with a name
 * (create, creator join, power levels, join rules, history visibility, name), 4 joins,
 * then messages (alternating senders) until the room holds 20 events.
 *
 * Seeded dirs are cached under bench/.cache/ (git-ignored), keyed by room count and seed
 * version; a cached database is migrated in place to the current schema before use (the
 * migrations backfill what they add), and reruns copy it instead of seeding again.
 * CLI: node dist/bench/lib/seed.js <rooms> [--force]   (prints the cached dir)
 */
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../../src/config/load.js";
import { buildServices, openStorage, signingKeyPath } from "../../src/app.js";
import { loadOrCreateSigningKey } from "../../src/events/signing.js";
import { systemClock } from "../../src/util/clock.js";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations.js";
import type { UserId } from "../../src/events/ids.js";
import { repoRoot } from "./server-process.js";

/** Bump when the seeded shape changes, so stale caches are not reused. */
const SEED_VERSION = 1;
export const EVENTS_PER_ROOM = 20;
export const MEMBERS_PER_ROOM = 5;
export const PASSWORD = "bench-password";
export const BENCH_USER = "bench";
export const OTHER_USERS = ["o1", "o2", "o3", "o4"] as const;
export const IDLE_USER = "idle";

export interface SeedInfo {
  rooms: number;
  eventsPerRoom: number;
  membersPerRoom: number;
  serverName: string;
  users: { bench: string; others: string[]; idle: string };
  password: string;
  /** One room of the account, for sends. */
  firstRoomId: string;
  /** Schema version the seed was written with (Sluice only). */
  schemaVersion?: number;
  seedSeconds: number;
  seededAt: string;
}

export const benchConfigPath = (): string => join(repoRoot, "bench", "bench-config.yaml");
export const cacheRoot = (): string => join(repoRoot, "bench", ".cache");

function cacheDirFor(rooms: number): string {
  return join(cacheRoot(), `sluice-${rooms}r-s${SEED_VERSION}`);
}

/** Brings a cached database up to the current schema (migrations run on open), once, in place. */
async function migrateCached(dir: string): Promise<void> {
  const storage = openStorage(loadConfig({ SLUICE_CONFIG: benchConfigPath(), SLUICE_DATA_DIR: dir }));
  await storage.close();
}

/** Writes the seed into `dataDir` (which must not exist yet or be empty). */
export async function seedDataDir(dataDir: string, rooms: number, progress: (msg: string) => void = () => {}): Promise<SeedInfo> {
  const started = process.hrtime.bigint();
  const config = loadConfig({ SLUICE_CONFIG: benchConfigPath(), SLUICE_DATA_DIR: dataDir });
  const storage = openStorage(config);
  try {
    const s = buildServices(config, storage, systemClock, await loadOrCreateSigningKey(signingKeyPath(config)));
    const make = (localpart: string) => s.registration.createByAdmin(localpart, PASSWORD, false);
    const bench = await make(BENCH_USER);
    const others: UserId[] = [];
    for (const o of OTHER_USERS) others.push(await make(o));
    const idle = await make(IDLE_USER);
    const senders = [bench, ...others];
    let firstRoomId = "";
    let last = Date.now();
    for (let i = 0; i < rooms; i++) {
      const { room_id: roomId } = await s.roomCreator.create(bench, { preset: "public_chat", name: `bench room ${i}` });
      if (i === 0) firstRoomId = roomId;
      for (const o of others) await s.memberships.join(o, roomId);
      const room = await storage.rooms.get(roomId);
      for (let n = room?.lastDepth ?? 0, k = 0; n < EVENTS_PER_ROOM; n++, k++) {
        await s.writer.send({ roomId, sender: senders[k % senders.length]!, type: "m.room.message", content: { msgtype: "m.text", body: `message ${k} in room ${i}` } });
      }
      if (Date.now() - last > 5000) {
        last = Date.now();
        progress(`seeded ${i + 1}/${rooms} rooms (${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s)`);
      }
    }
    const check = await storage.rooms.get(firstRoomId);
    if (check && check.lastDepth !== EVENTS_PER_ROOM) throw new Error(`seed: room has ${check.lastDepth} events, expected ${EVENTS_PER_ROOM}`);
    return {
      rooms,
      eventsPerRoom: EVENTS_PER_ROOM,
      membersPerRoom: MEMBERS_PER_ROOM,
      serverName: config.serverName,
      users: { bench, others, idle },
      password: PASSWORD,
      firstRoomId,
      schemaVersion: MIGRATIONS.at(-1)?.version ?? 0,
      seedSeconds: Number(process.hrtime.bigint() - started) / 1e9,
      seededAt: new Date().toISOString(),
    };
  } finally {
    await storage.close();
  }
}

/** The cached seeded dir for `rooms` (seeding it first if missing) and its description. */
export async function cachedSeed(rooms: number, opts: { force?: boolean; progress?: (msg: string) => void } = {}): Promise<{ dir: string; info: SeedInfo; cached: boolean }> {
  const dir = cacheDirFor(rooms);
  const infoFile = join(dir, "seed.json");
  if (!opts.force && existsSync(infoFile)) {
    await migrateCached(dir);
    return { dir, info: JSON.parse(readFileSync(infoFile, "utf8")) as SeedInfo, cached: true };
  }
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const info = await seedDataDir(tmp, rooms, opts.progress);
  writeFileSync(join(tmp, "seed.json"), JSON.stringify(info, null, 2) + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, info, cached: false };
}

/** A throwaway copy of a cached seed for one server run (the run writes to it). */
export function copyForRun(cachedDir: string, label: string): string {
  const dir = join(tmpdir(), `sluice-bench-${label}-${process.pid}-${Date.now()}`);
  cpSync(cachedDir, dir, { recursive: true });
  return dir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const rooms = Number(process.argv[2] ?? 100);
  cachedSeed(rooms, { force: process.argv.includes("--force"), progress: (m) => console.error(m) }).then(
    ({ dir, info, cached }) => console.log(JSON.stringify({ dir, cached, seedSeconds: info.seedSeconds })),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
