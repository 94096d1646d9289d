/**
 * bench/sync.ts — the cost of GET /sync (issue 6, "Measure"). In one run, side by side:
 *   initial:     initial sync of one account in N rooms (20 events, 5 members each), for
 *                each N of --sizes; per-room time (goal: 10,000-room per-room ≤ 2× 100-room);
 *   incremental: sync from the previous next_batch carrying exactly one new event, for
 *                every N (goal: 10,000 rooms ≤ 2× 10 rooms);
 *   wake-up:     PUT /send → the parked client's /sync response, with 1 and with --parked
 *                long-polls parked on the server (the others: devices of an account in no
 *                room, which nothing wakes), p50/p99 (goal: --parked ≤ 2× 1); server RSS
 *                (/proc/<pid>/status) before and after parking them → memory per long-poll;
 *   fan-out:     --parked devices of a room member all parked, one send wakes them all:
 *                latency to each response (no goal; shows the cost of many wake-ups at once);
 *   --synapse:   the same workloads against Synapse (PyPI, SQLite) for sizes ≤ 1,000
 *                (seeding it over HTTP is slow); goal: Sluice ≥ 10× faster at 1,000 rooms.
 * Each server runs as a child process on a fresh copy of a seeded data dir (bench/lib/seed.ts,
 * cached in bench/.cache/). Prints one JSON object and writes bench/results/sync.json.
 * Every sync sends set_presence=offline (syncing itself changes nothing); repeated initial
 * syncs carry a different no-op inline filter each, so Synapse's response cache (keyed by
 * the request) cannot answer them from memory.
 * Usage: npm run build && node dist/bench/sync.js [--sizes 10,100,1000,10000] [--synapse]
 *   [--synapse-sizes 10,100,1000] [--parked 1000] [--wake-iterations 50]
 *   [--incremental-iterations 30] [--cpu-prof] [--out bench/results/sync.json]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { round } from "./lib/load.js";
import { MatrixClient, pool, socketRetries, type Json } from "./lib/matrix-client.js";
import { cachedSeed, copyForRun, type SeedInfo } from "./lib/seed.js";
import { repoRoot, startServerProcess, type BenchServer } from "./lib/server-process.js";
import { cachedSynapseSeed, copySynapseForRun, ensureSynapse, startSynapse } from "./lib/synapse.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000,10000" },
    synapse: { type: "boolean", default: false },
    "synapse-sizes": { type: "string" },
    parked: { type: "string", default: "1000" },
    "wake-iterations": { type: "string", default: "50" },
    "incremental-iterations": { type: "string", default: "30" },
    "cpu-prof": { type: "boolean", default: false },
    out: { type: "string", default: join(repoRoot, "bench", "results", "sync.json") },
  },
});
const sizes = args.sizes.split(",").map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const synapseSizes = args.synapse ? (args["synapse-sizes"]?.split(",").map(Number) ?? sizes.filter((n) => n <= 1000)).sort((a, b) => a - b) : [];
const parked = Number(args.parked);
const wakeIterations = Number(args["wake-iterations"]);
const incrementalIterations = Number(args["incremental-iterations"]);
const log = (m: string) => console.error(`[sync-bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: "sluice" | "synapse";
  seed(rooms: number): Promise<{ dir: string; info: SeedInfo; cached: boolean }>;
  /** Starts the server on a fresh copy of a seeded dir; stop() removes the copy. */
  start(seedDir: string, label: string): Promise<BenchServer>;
}

const profileDir = join(repoRoot, "bench", ".cache", "profiles");
const sluice: Target = {
  name: "sluice",
  seed: (rooms) => cachedSeed(rooms, { progress: log }),
  start: (seedDir, label) =>
    startServerProcess(
      {},
      {
        dataDir: copyForRun(seedDir, label),
        removeDataDir: true,
        startTimeoutMs: 120_000,
        ...(args["cpu-prof"] ? { nodeArgs: ["--cpu-prof", "--cpu-prof-dir", profileDir, "--cpu-prof-name", `sluice-${label}-${Date.now()}.cpuprofile`] } : {}),
      },
    ),
};
const synapse: Target = {
  name: "synapse",
  seed: (rooms) => cachedSynapseSeed(rooms, log),
  start: (seedDir, label) => startSynapse(copySynapseForRun(seedDir, label), { removeDataDir: true }),
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
function stats(samples: number[]): { n: number; p50ms: number; p99ms: number; minMs: number; maxMs: number; meanMs: number } {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50ms: round(percentile(s, 50), 3),
    p99ms: round(percentile(s, 99), 3),
    minMs: round(s[0] ?? 0, 3),
    maxMs: round(s.at(-1) ?? 0, 3),
    meanMs: round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), 3),
  };
}
const joined = (body: Json) => ((body.rooms as Json | undefined)?.join ?? {}) as Record<string, { timeline?: { events?: { content?: { body?: string } }[] } }>;
/** A no-op inline filter, different per call, so no server answers from a response cache. */
const nonceFilter = (i: number) => JSON.stringify({ presence: { not_types: [`bench.nonce.${i}.${Date.now()}`] } });

/** Initial syncs: one cold (first after start), then `reps` warm ones; median per room. */
async function measureInitial(client: MatrixClient, rooms: number) {
  const reps = rooms >= 10_000 ? 3 : rooms >= 1000 ? 5 : rooms >= 100 ? 15 : 30;
  const one = async (i: number) => {
    const t0 = now();
    const r = await client.sync({ filter: nonceFilter(i) });
    return { ms: now() - t0, bytes: r.bytes, rooms: Object.keys(joined(r.body)).length, nextBatch: String(r.body.next_batch) };
  };
  const cold = await one(0);
  if (cold.rooms !== rooms) throw new Error(`initial sync returned ${cold.rooms} joined rooms, expected ${rooms}`);
  const warm: number[] = [];
  let nextBatch = cold.nextBatch;
  for (let i = 1; i <= reps; i++) {
    const r = await one(i);
    warm.push(r.ms);
    nextBatch = r.nextBatch;
  }
  const s = stats(warm);
  return {
    result: { reps, coldMs: round(cold.ms, 1), ...s, perRoomMs: round(s.p50ms / rooms, 4), responseBytes: cold.bytes, bytesPerRoom: Math.round(cold.bytes / rooms) },
    nextBatch,
  };
}

/** Incremental syncs each carrying exactly one new event (sent just before by another member). */
async function measureIncremental(client: MatrixClient, sender: MatrixClient, roomId: string, since: string) {
  const times: number[] = [];
  let token = since;
  let bytes = 0;
  for (let i = 0; i < incrementalIterations + 3; i++) {
    const text = `incremental ${i}`;
    await sender.send(roomId, text);
    const t0 = now();
    const r = await client.sync({ since: token });
    const ms = now() - t0;
    const events = Object.values(joined(r.body)).flatMap((room) => room.timeline?.events ?? []);
    if (events.length !== 1 || events[0]?.content?.body !== text) throw new Error(`incremental sync carried ${events.length} events, expected the one just sent`);
    token = String(r.body.next_batch);
    if (i >= 3) times.push(ms); // 3 warm-up rounds
    bytes = r.bytes;
  }
  return { ...stats(times), responseBytes: bytes };
}

/** A device looping on long-polls until aborted; counts how often the server answered it. */
function parkLoop(client: MatrixClient, since: string, signal: AbortSignal, counters: { returns: number; errors: number }): Promise<void> {
  return (async () => {
    let token = since;
    while (!signal.aborted) {
      try {
        const r = await client.sync({ since: token, timeoutMs: 90_000 }, signal);
        counters.returns++;
        token = String(r.body.next_batch);
      } catch {
        if (signal.aborted) break;
        counters.errors++; // re-park after a moment rather than end the run
        await sleep(100);
      }
    }
  })();
}

async function loginMany(server: BenchServer, user: string, password: string, n: number): Promise<MatrixClient[]> {
  const clients: MatrixClient[] = [];
  await pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async () => {
      clients.push(await MatrixClient.login(server.baseUrl, user, password));
    },
  );
  return clients;
}

/** Median of a few RSS samples, 200 ms apart. */
async function rssSample(server: BenchServer): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < 5; i++) {
    s.push(server.rssBytes());
    await sleep(200);
  }
  return s.sort((a, b) => a - b)[2]!;
}

/** PUT /send → the measured client's parked /sync answers with that event. */
async function wakeLoop(measured: MatrixClient, sender: MatrixClient, roomId: string, since: string, iterations: number) {
  const latencies: number[] = [];
  const sendLatencies: number[] = [];
  let token = since;
  let spurious = 0;
  let spuriousSample = "";
  for (let i = 0; latencies.length < iterations; i++) {
    const text = `wake ${i} ${Date.now()}`;
    const parkedSync = measured.sync({ since: token, timeoutMs: 60_000 });
    await sleep(50); // let the request reach the server and park
    const t0 = now();
    const sent = sender.send(roomId, text).then(() => now() - t0);
    const r = await parkedSync;
    const t1 = now();
    sendLatencies.push(await sent);
    token = String(r.body.next_batch);
    const got = Object.values(joined(r.body)).some((room) => room.timeline?.events?.some((e) => e.content?.body === text));
    if (!got) {
      spurious++; // woken by something else (or before the send): not a wake-up sample
      spuriousSample ||= JSON.stringify(r.body).slice(0, 400);
      if (spurious > iterations) throw new Error(`parked sync keeps answering without the sent event, e.g. ${spuriousSample}`);
      continue;
    }
    if (i >= 3) latencies.push(t1 - t0);
  }
  return { ...stats(latencies), sendResponse: stats(sendLatencies), spurious, ...(spuriousSample ? { spuriousSample } : {}) };
}

async function measureWake(server: BenchServer, info: SeedInfo) {
  const bench = info.users.bench;
  const measured = await MatrixClient.login(server.baseUrl, bench, info.password);
  const sender = await MatrixClient.login(server.baseUrl, info.users.others[0]!, info.password);
  const roomId = info.firstRoomId;
  let token = String((await measured.sync({})).body.next_batch);

  log(`  wake-up with 1 parked long-poll (${wakeIterations} sends)`);
  const one = await wakeLoop(measured, sender, roomId, token, wakeIterations);

  log(`  logging in ${parked - 1} devices of ${info.users.idle}`);
  const idle = await loginMany(server, info.users.idle, info.password, parked - 1);
  const idleSince = String((await idle[0]!.sync({})).body.next_batch);
  token = String((await measured.sync({ since: null })).body.next_batch);
  await sleep(1000);
  const rssBefore = await rssSample(server);
  const abort = new AbortController();
  const counters = { returns: 0, errors: 0 };
  const loops = idle.map((c) => parkLoop(c, idleSince, abort.signal, counters));
  await sleep(3000); // all requests arrive and park
  const rssAfter = await rssSample(server);
  log(`  wake-up with ${parked} parked long-polls (${wakeIterations} sends)`);
  const many = await wakeLoop(measured, sender, roomId, token, wakeIterations);
  const background = { returns: counters.returns, errors: counters.errors };
  abort.abort();
  await Promise.allSettled(loops);

  log(`  fan-out: ${parked} parked devices of ${info.users.others[1]} woken by one send`);
  const fanClients = await loginMany(server, info.users.others[1]!, info.password, parked);
  const fanLatencies: number[] = [];
  const roundMax: number[] = [];
  let fanSpurious = 0;
  const rounds = 3;
  for (let round_ = 0; round_ < rounds; round_++) {
    const since = String((await fanClients[0]!.sync({})).body.next_batch);
    const text = `fan-out ${round_} ${Date.now()}`;
    let t0 = Infinity;
    const arrivals = fanClients.map((c) =>
      c.sync({ since, timeoutMs: 60_000 }).then((r) => {
        const got = Object.values(joined(r.body)).some((room) => room.timeline?.events?.some((e) => e.content?.body === text));
        if (!got) fanSpurious++;
        return got ? now() - t0 : null;
      }),
    );
    await sleep(3000);
    t0 = now();
    await sender.send(roomId, text);
    const got = (await Promise.all(arrivals)).filter((x): x is number => x !== null);
    fanLatencies.push(...got);
    roundMax.push(Math.max(...got));
  }
  return {
    one: { parked: 1, ...one },
    many: { parked, ...many, background },
    memory: { rssBeforeBytes: rssBefore, rssAfterBytes: rssAfter, parkedAdded: parked - 1, bytesPerParkedLongPoll: Math.round((rssAfter - rssBefore) / (parked - 1)) },
    fanOut: { parked, rounds, ...stats(fanLatencies), lastResponseMs: stats(roundMax).p50ms, spurious: fanSpurious },
  };
}

async function measureAccount(target: Target, seed: { dir: string; info: SeedInfo }, withWake: boolean) {
  const { info } = seed;
  log(`${target.name}: ${info.rooms} rooms — starting server`);
  const server = await target.start(seed.dir, `${info.rooms}r`);
  try {
    const rssIdle = server.rssBytes();
    const client = await MatrixClient.login(server.baseUrl, info.users.bench, info.password);
    const sender = await MatrixClient.login(server.baseUrl, info.users.others[0]!, info.password);
    log(`${target.name}: ${info.rooms} rooms — initial sync`);
    const initial = await measureInitial(client, info.rooms);
    const rssAfterInitial = server.rssBytes();
    log(`${target.name}: ${info.rooms} rooms — incremental sync (one new event)`);
    const incremental = await measureIncremental(client, sender, info.firstRoomId, initial.nextBatch);
    const wake = withWake ? await measureWake(server, info) : undefined;
    return { rooms: info.rooms, seedSeconds: round(info.seedSeconds, 1), rssIdleBytes: rssIdle, rssAfterInitialBytes: rssAfterInitial, initial: initial.result, incremental, ...(wake ? { wake } : {}) };
  } finally {
    await server.stop();
  }
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : null);

async function main(): Promise<void> {
  const load0 = loadavg();
  const synapseVersion = args.synapse ? ensureSynapse(log) : null;
  const git = (a: string[]) => execFileSync("git", a, { cwd: repoRoot, encoding: "utf8" }).trim();
  if (args["cpu-prof"]) mkdirSync(profileDir, { recursive: true });

  // Seed (or find cached) everything first, so no seeding runs while measuring.
  const seeds: { target: Target; seed: { dir: string; info: SeedInfo; cached: boolean } }[] = [];
  for (const n of sizes) {
    log(`sluice: seed ${n} rooms`);
    seeds.push({ target: sluice, seed: await sluice.seed(n) });
    if (synapseSizes.includes(n)) {
      log(`synapse: seed ${n} rooms (over HTTP)`);
      seeds.push({ target: synapse, seed: await synapse.seed(n) });
    }
  }

  const results: Record<string, Record<string, Awaited<ReturnType<typeof measureAccount>>>> = { sluice: {}, synapse: {} };
  for (const { target, seed } of seeds) {
    const withWake = seed.info.rooms === sizes[0];
    results[target.name]![String(seed.info.rooms)] = await measureAccount(target, seed, withWake);
  }

  const sl = results.sluice!;
  const sy = results.synapse!;
  const smallest = sl[String(sizes[0])];
  const r = {
    initialPerRoom10000vs100: ratio(sl["10000"]?.initial.perRoomMs, sl["100"]?.initial.perRoomMs),
    incremental10000vs10: ratio(sl["10000"]?.incremental.p50ms, sl["10"]?.incremental.p50ms),
    wakeP50ParkedVs1: ratio(smallest?.wake?.many.p50ms, smallest?.wake?.one.p50ms),
    wakeP99ParkedVs1: ratio(smallest?.wake?.many.p99ms, smallest?.wake?.one.p99ms),
  };
  const vsSynapse: Record<string, { initial: number | null; incremental: number | null }> = {};
  for (const n of synapseSizes) vsSynapse[String(n)] = { initial: ratio(sy[String(n)]?.initial.p50ms, sl[String(n)]?.initial.p50ms), incremental: ratio(sy[String(n)]?.incremental.p50ms, sl[String(n)]?.incremental.p50ms) };
  const goal = (name: string, value: number | null, target: string, met: (v: number) => boolean) => ({ name, value, target, met: value === null ? null : met(value) });
  const result = {
    bench: "sync",
    date: new Date().toISOString(),
    machine: { nproc: availableParallelism(), memoryGiB: round(totalmem() / 2 ** 30, 1), loadavgStart: load0.map((x) => round(x, 2)), loadavgEnd: loadavg().map((x) => round(x, 2)) },
    node: process.version,
    synapse: synapseVersion,
    git: { commit: git(["rev-parse", "--short", "HEAD"]), dirtyFiles: git(["status", "--porcelain"]).split("\n").filter(Boolean).length },
    shape: { eventsPerRoom: 20, membersPerRoom: 5, timeline: "server default limit", presence: "set_presence=offline" },
    options: { sizes, synapseSizes, parked, wakeIterations, incrementalIterations, cpuProf: args["cpu-prof"] },
    results,
    socketRetries: socketRetries.count,
    ratios: { sluice: r, synapseOverSluice: vsSynapse },
    goals: [
      goal("initial sync per room: 10,000 rooms vs 100 rooms", r.initialPerRoom10000vs100, "<= 2", (v) => v <= 2),
      goal("incremental sync (one event): 10,000 rooms vs 10 rooms", r.incremental10000vs10, "<= 2", (v) => v <= 2),
      goal(`wake-up p50: ${parked} parked vs 1`, r.wakeP50ParkedVs1, "<= 2", (v) => v <= 2),
      goal(`wake-up p99: ${parked} parked vs 1`, r.wakeP99ParkedVs1, "<= 2", (v) => v <= 2),
      goal("initial sync at 1,000 rooms: Synapse time / Sluice time", vsSynapse["1000"]?.initial ?? null, ">= 10", (v) => v >= 10),
      goal("incremental sync at 1,000 rooms: Synapse time / Sluice time", vsSynapse["1000"]?.incremental ?? null, ">= 10", (v) => v >= 10),
    ],
  };
  console.log(JSON.stringify(result, null, 2));
  const out = resolve(args.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
  log(`wrote ${out}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
