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
 *   burst:       --burst-devices devices of the account sync at once, each carrying the one
 *                new event: time and server CPU per sync when the server is busy (throughput);
 *   floor:       after each incremental sync's pause, a bare GET /versions on the same server,
 *                and once a round a bare node:http server (bench/lib/floor-server.ts): what one
 *                request costs here before any homeserver work;
 *   --synapse-pg: the same against Synapse on PostgreSQL (the machine's Debian cluster);
 *   --synapse:   the same workloads against Synapse (PyPI, SQLite) for sizes ≤ 1,000
 *                (seeding it over HTTP is slow); goal: Sluice ≥ 10× faster at 1,000 rooms.
 * Every server (one per account size and implementation) runs at once as a child process
 * on a fresh copy of a seeded data dir (bench/lib/seed.ts, bench/lib/synapse.ts; cached in
 * bench/.cache/), and the initial and incremental syncs are interleaved across them, so a
 * change in the machine's load hits every figure alike. Besides wall time, each sync's
 * server CPU time (all threads, /proc/<pid>/task/x/schedstat) is recorded: on a shared
 * 2-core machine it is the steadier figure. Prints one JSON object and writes
 * bench/results/sync.json.
 * Every sync sends set_presence=offline (syncing itself changes nothing); each initial
 * sync carries a different no-op inline filter, so Synapse's response cache (keyed by the
 * request, kept 2 minutes) cannot answer it from memory.
 * Usage: npm run build && node dist/bench/sync.js [--sizes 10,100,1000,10000] [--synapse]
 *   [--synapse-sizes 10,100,1000] [--synapse-pg] [--synapse-pg-sizes …] [--parked 1000] [--wake-iterations 200]
 *   [--incremental-iterations 30] [--burst-devices 16] [--burst-rounds 20] [--cpu-prof]
 *   [--out bench/results/sync.json]
 */
import { execFileSync } from "node:child_process";
import { setMaxListeners } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { round } from "./lib/load.js";
import { MatrixClient, pool, socketRetries, type Json } from "./lib/matrix-client.js";
import { httpRequest } from "./lib/http.js";
import { startFloorServer, type FloorServer } from "./lib/floor-server.js";
import { cachedSeed, copyForRun, type SeedInfo } from "./lib/seed.js";
import { repoRoot, startServerProcess, type BenchServer } from "./lib/server-process.js";
import { cachedSynapseSeed, copySynapseForRun, ensurePostgres, ensureSynapse, startSynapse } from "./lib/synapse.js";

const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000,10000" },
    synapse: { type: "boolean", default: false },
    "synapse-sizes": { type: "string" },
    "synapse-pg": { type: "boolean", default: false },
    "synapse-pg-sizes": { type: "string" },
    parked: { type: "string", default: "1000" },
    "wake-iterations": { type: "string", default: "200" },
    "incremental-iterations": { type: "string", default: "30" },
    "burst-devices": { type: "string", default: "16" },
    "burst-rounds": { type: "string", default: "20" },
    "cpu-prof": { type: "boolean", default: false },
    out: { type: "string", default: join(repoRoot, "bench", "results", "sync.json") },
  },
});
const sizes = args.sizes.split(",").map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const synapseSizes = args.synapse ? (args["synapse-sizes"]?.split(",").map(Number) ?? sizes.filter((n) => n <= 1000)).sort((a, b) => a - b) : [];
const synapsePgSizes = args["synapse-pg"] ? (args["synapse-pg-sizes"]?.split(",").map(Number) ?? synapseSizes).sort((a, b) => a - b) : [];
const parked = Number(args.parked);
const wakeIterations = Number(args["wake-iterations"]);
const incrementalIterations = Number(args["incremental-iterations"]);
const burstDevices = Number(args["burst-devices"]);
const burstRounds = Number(args["burst-rounds"]);
const log = (m: string) => console.error(`[sync-bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: "sluice" | "synapse" | "synapse-pg";
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
const synapsePg: Target = {
  name: "synapse-pg",
  seed: (rooms) => cachedSynapseSeed(rooms, log, "postgres"),
  start: (seedDir, label) => startSynapse(copySynapseForRun(seedDir, `pg-${label}`), { removeDataDir: true }),
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
let nonce = 0;
const nonceFilter = (i: number) => JSON.stringify({ presence: { not_types: [`bench.nonce.${i}.${Date.now()}.${nonce++}`] } });
/** The current next_batch for a device, from an initial sync no response cache can answer. */
const currentToken = async (client: MatrixClient) => String((await client.sync({ filter: nonceFilter(-1) })).body.next_batch);

/** One account on one running server, and what was measured on it. */
interface Account {
  target: Target;
  info: SeedInfo;
  server: BenchServer;
  client: MatrixClient;
  sender: MatrixClient;
  rssIdleBytes: number;
  reps: number;
  cold?: { ms: number; bytes: number };
  warm: number[];
  /** Server CPU ms used during each warm initial sync. */
  warmCpu: number[];
  token: string;
  incremental: number[];
  incrementalCpu: number[];
  incrementalBytes: number;
  /** GET /versions after the same pause as each incremental sync: this server's request floor. */
  bare: number[];
  bareCpu: number[];
  /** Incremental syncs of burstDevices devices at once, per sync (batch time / devices). */
  burstWall: number[];
  burstCpu: number[];
}

const initialReps = (rooms: number) => (rooms >= 10_000 ? 3 : rooms >= 1000 ? 6 : rooms >= 100 ? 15 : 30);
const ROUNDS = 3;

/** One initial sync (a fresh no-op filter each time, so nothing answers from a cache). */
async function initialSync(a: Account): Promise<{ ms: number; cpuMs: number; bytes: number; rooms: number; nextBatch: string }> {
  const c0 = a.server.cpuMs();
  const t0 = now();
  const r = await a.client.sync({ filter: nonceFilter(a.warm.length) });
  const ms = now() - t0;
  const cpuMs = a.server.cpuMs() - c0;
  return { ms, cpuMs, bytes: r.bytes, rooms: Object.keys(joined(r.body)).length, nextBatch: String(r.body.next_batch) };
}

/**
 * Initial syncs, interleaved across all accounts (every server runs at once) in ROUNDS
 * rounds, so a change in the machine's load hits every size alike: first one cold sync per
 * account, then its warm repetitions spread over the rounds.
 */
async function measureInitialAll(accounts: Account[]): Promise<void> {
  for (const a of accounts) {
    const r = await initialSync(a);
    if (r.rooms !== a.info.rooms) throw new Error(`${a.target.name}: initial sync returned ${r.rooms} joined rooms, expected ${a.info.rooms}`);
    a.cold = { ms: r.ms, bytes: r.bytes };
    a.token = r.nextBatch;
  }
  for (let round_ = 0; round_ < ROUNDS; round_++) {
    log(`initial sync round ${round_ + 1}/${ROUNDS}`);
    for (const a of accounts) {
      const n = Math.ceil(a.reps / ROUNDS);
      for (let i = 0; i < n && a.warm.length < a.reps; i++) {
        const r = await initialSync(a);
        a.warm.push(r.ms);
        a.warmCpu.push(r.cpuMs);
        a.token = r.nextBatch;
      }
    }
  }
}

/** Wall and server CPU time of one call. */
async function timed<T>(cpuMs: () => number, f: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const c0 = cpuMs();
  const t0 = now();
  const value = await f();
  const ms = now() - t0;
  return { ms, cpuMs: cpuMs() - c0, value };
}

/**
 * Incremental syncs each carrying exactly one new event (sent just before by another
 * member), interleaved across accounts. After each, the same pause and a bare GET /versions
 * on the same server (its request floor); once a round, the same on a bare node:http server
 * (the machine's floor).
 */
async function measureIncrementalAll(accounts: Account[], floor: FloorServer, floorSamples: { ms: number[]; cpuMs: number[] }): Promise<void> {
  for (let i = 0; i < incrementalIterations + 3; i++) {
    await sleep(50);
    const f = await timed(floor.cpuMs, () => httpRequest(floor.url));
    if (i >= 3) {
      floorSamples.ms.push(f.ms);
      floorSamples.cpuMs.push(f.cpuMs);
    }
    for (const a of accounts) {
      await sleep(50);
      const b = await timed(a.server.cpuMs, () => httpRequest(`${a.server.baseUrl}/_matrix/client/versions`));
      if (!b.value.ok) throw new Error(`${a.target.name}: GET /versions ${b.value.status}`);
      if (i >= 3) {
        a.bare.push(b.ms);
        a.bareCpu.push(b.cpuMs);
      }
      const text = `incremental ${i}`;
      await a.sender.send(a.info.firstRoomId, text);
      await sleep(50); // let work the send started in the background finish (it is not the sync's)
      const c0 = a.server.cpuMs();
      const t0 = now();
      const r = await a.client.sync({ since: a.token });
      const ms = now() - t0;
      const cpuMs = a.server.cpuMs() - c0;
      const events = Object.values(joined(r.body)).flatMap((room) => room.timeline?.events ?? []);
      if (events.length !== 1 || events[0]?.content?.body !== text) throw new Error(`${a.target.name}: incremental sync carried ${events.length} events, expected the one just sent`);
      a.token = String(r.body.next_batch);
      if (i >= 3) {
        a.incremental.push(ms); // after 3 warm-up rounds
        a.incrementalCpu.push(cpuMs);
      }
      a.incrementalBytes = r.bytes;
    }
  }
}

/**
 * Throughput of incremental syncs: burstDevices devices of the account, each holding a token
 * from just before one new event, sync at once; the batch's wall and server CPU time divided
 * by the number of syncs is the cost of one. Unlike the one-at-a-time syncs above (each after
 * a pause, so each meets a cold CPU and pays the full cost of an HTTP request on this machine),
 * this measures the work a server does per incremental sync when it is busy.
 */
async function measureBurstAll(accounts: Account[]): Promise<void> {
  const devices = new Map<Account, { client: MatrixClient; token: string }[]>();
  for (const a of accounts) {
    const list: { client: MatrixClient; token: string }[] = [];
    for (let d = 0; d < burstDevices; d++) {
      const client = await MatrixClient.login(a.server.baseUrl, a.info.users.bench, a.info.password);
      list.push({ client, token: "" });
    }
    devices.set(a, list);
  }
  for (let i = 0; i < burstRounds + 2; i++) {
    for (const a of accounts) {
      const list = devices.get(a)!;
      if (i === 0) for (const d of list) d.token = await currentToken(d.client);
      const text = `burst ${i}`;
      await a.sender.send(a.info.firstRoomId, text);
      await sleep(50);
      const batch = await timed(a.server.cpuMs, () => Promise.all(list.map((d) => d.client.sync({ since: d.token }))));
      batch.value.forEach((r, k) => {
        const events = Object.values(joined(r.body)).flatMap((room) => room.timeline?.events ?? []);
        if (events.length !== 1 || events[0]?.content?.body !== text) throw new Error(`${a.target.name}: burst sync carried ${events.length} events, expected the one just sent`);
        list[k]!.token = String(r.body.next_batch);
      });
      if (i >= 2) {
        a.burstWall.push(batch.ms / list.length);
        a.burstCpu.push(batch.cpuMs / list.length);
      }
    }
  }
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
  return { ...stats(latencies), sendResponse: stats(sendLatencies), spurious, ...(spuriousSample ? { spuriousSample } : {}), token };
}

const withoutToken = <T extends { token: string }>(x: T): Omit<T, "token"> => {
  const { token: _token, ...rest } = x;
  return rest;
};

async function measureWake(server: BenchServer, info: SeedInfo) {
  const bench = info.users.bench;
  const measured = await MatrixClient.login(server.baseUrl, bench, info.password);
  const sender = await MatrixClient.login(server.baseUrl, info.users.others[0]!, info.password);
  const roomId = info.firstRoomId;
  const token = await currentToken(measured);

  log(`  wake-up with 1 parked long-poll (${wakeIterations} sends)`);
  const one = await wakeLoop(measured, sender, roomId, token, wakeIterations);

  log(`  logging in ${parked - 1} devices of ${info.users.idle}`);
  const idle = await loginMany(server, info.users.idle, info.password, parked - 1);
  const idleSince = await currentToken(idle[0]!);
  await sleep(1000);
  const rssBefore = await rssSample(server);
  const abort = new AbortController();
  setMaxListeners(0, abort.signal); // one listener per parked request, by design
  const counters = { returns: 0, errors: 0 };
  const loops = idle.map((c) => parkLoop(c, idleSince, abort.signal, counters));
  await sleep(3000); // all requests arrive and park
  const rssAfter = await rssSample(server);
  log(`  wake-up with ${parked} parked long-polls (${wakeIterations} sends)`);
  const many = await wakeLoop(measured, sender, roomId, one.token, wakeIterations);
  const background = { returns: counters.returns, errors: counters.errors };
  abort.abort();
  await Promise.allSettled(loops);

  log(`  fan-out: ${parked} parked devices of ${info.users.others[1]} woken by one send`);
  const fanClients = await loginMany(server, info.users.others[1]!, info.password, parked);
  const fanLatencies: number[] = [];
  const roundMax: number[] = [];
  let fanSpurious = 0;
  let fanSpuriousSample = "";
  const rounds = 3;
  for (let round_ = 0; round_ < rounds; round_++) {
    // Open (or reuse) one connection per device first: 1,000 connects at once can overflow a
    // server's accept backlog (Twisted's is 50), and SYN retries would be counted as wake-up time.
    await Promise.all(fanClients.map((c) => c.request("GET", "/account/whoami")));
    await sleep(1000);
    const since = await currentToken(fanClients[0]!);
    const text = `fan-out ${round_} ${Date.now()}`;
    let t0 = Infinity;
    const arrivals = fanClients.map((c) =>
      c.sync({ since, timeoutMs: 60_000 }).then((r) => {
        const got = Object.values(joined(r.body)).some((room) => room.timeline?.events?.some((e) => e.content?.body === text));
        if (!got) {
          fanSpurious++;
          fanSpuriousSample ||= JSON.stringify(r.body).slice(0, 400);
        }
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
    one: { parked: 1, ...withoutToken(one) },
    many: { parked, ...withoutToken(many), background },
    memory: { rssBeforeBytes: rssBefore, rssAfterBytes: rssAfter, parkedAdded: parked - 1, bytesPerParkedLongPoll: Math.round((rssAfter - rssBefore) / (parked - 1)) },
    fanOut: { parked, rounds, ...stats(fanLatencies), lastResponseMs: stats(roundMax).p50ms, spurious: fanSpurious, ...(fanSpuriousSample ? { spuriousSample: fanSpuriousSample } : {}) },
  };
}

async function startAccount(target: Target, seed: { dir: string; info: SeedInfo }): Promise<Account> {
  const { info } = seed;
  log(`${target.name}: ${info.rooms} rooms — starting server`);
  const server = await target.start(seed.dir, `${info.rooms}r`);
  try {
    return {
      target,
      info,
      server,
      client: await MatrixClient.login(server.baseUrl, info.users.bench, info.password),
      sender: await MatrixClient.login(server.baseUrl, info.users.others[0]!, info.password),
      rssIdleBytes: server.rssBytes(),
      reps: initialReps(info.rooms),
      warm: [],
      warmCpu: [],
      token: "",
      incremental: [],
      incrementalCpu: [],
      incrementalBytes: 0,
      bare: [],
      bareCpu: [],
      burstWall: [],
      burstCpu: [],
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}

function accountResult(a: Account) {
  const s = stats(a.warm);
  const cpu = stats(a.warmCpu);
  return {
    rooms: a.info.rooms,
    seedSeconds: round(a.info.seedSeconds, 1),
    rssIdleBytes: a.rssIdleBytes,
    rssAfterSyncsBytes: a.server.rssBytes(),
    initial: {
      reps: a.reps,
      coldMs: round(a.cold?.ms ?? 0, 1),
      ...s,
      perRoomMs: round(s.p50ms / a.info.rooms, 4),
      serverCpuP50ms: cpu.p50ms,
      serverCpuPerRoomMs: round(cpu.p50ms / a.info.rooms, 4),
      responseBytes: a.cold?.bytes ?? 0,
      bytesPerRoom: Math.round((a.cold?.bytes ?? 0) / a.info.rooms),
    },
    incremental: { ...stats(a.incremental), serverCpuP50ms: stats(a.incrementalCpu).p50ms, serverCpuMeanMs: stats(a.incrementalCpu).meanMs, responseBytes: a.incrementalBytes },
    bareRequest: { path: "GET /_matrix/client/versions", ...stats(a.bare), serverCpuP50ms: stats(a.bareCpu).p50ms },
    incrementalBurst: {
      devices: burstDevices,
      rounds: a.burstWall.length,
      wallPerSyncP50ms: stats(a.burstWall).p50ms,
      serverCpuPerSyncP50ms: stats(a.burstCpu).p50ms,
      syncsPerSecond: round(1000 / Math.max(1e-9, stats(a.burstWall).p50ms), 0),
    },
  };
}

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round(a / b, 2) : null);

async function main(): Promise<void> {
  const load0 = loadavg();
  const synapseVersion = args.synapse || args["synapse-pg"] ? ensureSynapse(log) : null;
  const postgresVersion = args["synapse-pg"] ? ensurePostgres(log) : null;
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
    if (synapsePgSizes.includes(n)) {
      log(`synapse on PostgreSQL: seed ${n} rooms (over HTTP)`);
      seeds.push({ target: synapsePg, seed: await synapsePg.seed(n) });
    }
  }

  // Every server at once (idle ones cost nothing), measured in interleaved rounds.
  const accounts: Account[] = [];
  const floor = await startFloorServer();
  const floorSamples = { ms: [] as number[], cpuMs: [] as number[] };
  type Result = ReturnType<typeof accountResult> & { wake?: Awaited<ReturnType<typeof measureWake>> };
  const results: Record<string, Record<string, Result>> = { sluice: {}, synapse: {}, "synapse-pg": {} };
  try {
    for (const { target, seed } of seeds) accounts.push(await startAccount(target, seed));
    await measureInitialAll(accounts);
    log("incremental syncs (one new event each)");
    await measureIncrementalAll(accounts, floor, floorSamples);
    log(`incremental syncs, ${burstDevices} devices at once (${burstRounds} rounds)`);
    await measureBurstAll(accounts);
    for (const a of accounts) results[a.target.name]![String(a.info.rooms)] = accountResult(a);
    // Wake-up on the smallest account of each server, one server at a time.
    for (const a of accounts) {
      if (a.info.rooms !== Math.min(...accounts.filter((b) => b.target === a.target).map((b) => b.info.rooms))) continue;
      log(`${a.target.name}: wake-up on the ${a.info.rooms}-room account`);
      results[a.target.name]![String(a.info.rooms)]!.wake = await measureWake(a.server, a.info);
    }
  } finally {
    for (const a of accounts) await a.server.stop();
    await floor.stop();
  }

  const sl = results.sluice!;
  const sy = results.synapse!;
  const smallest = sl[String(sizes[0])];
  const r = {
    initialPerRoom10000vs100: ratio(sl["10000"]?.initial.perRoomMs, sl["100"]?.initial.perRoomMs),
    incremental10000vs10: ratio(sl["10000"]?.incremental.p50ms, sl["10"]?.incremental.p50ms),
    wakeP50ParkedVs1: ratio(smallest?.wake?.many.p50ms, smallest?.wake?.one.p50ms),
    wakeP99ParkedVs1: ratio(smallest?.wake?.many.p99ms, smallest?.wake?.one.p99ms),
    // The same comparisons in server CPU time (less sensitive to the machine's other load).
    initialCpuPerRoom10000vs100: ratio(sl["10000"]?.initial.serverCpuPerRoomMs, sl["100"]?.initial.serverCpuPerRoomMs),
    incrementalCpu10000vs10: ratio(sl["10000"]?.incremental.serverCpuP50ms, sl["10"]?.incremental.serverCpuP50ms),
  };
  type Versus = Record<"initial" | "incremental" | "initialCpu" | "incrementalCpu" | "incrementalBurst" | "incrementalBurstCpu", number | null>;
  const versus = (other: Record<string, Result>, n: number): Versus => {
    const [y, l] = [other[String(n)], sl[String(n)]];
    return {
      initial: ratio(y?.initial.p50ms, l?.initial.p50ms),
      incremental: ratio(y?.incremental.p50ms, l?.incremental.p50ms),
      initialCpu: ratio(y?.initial.serverCpuP50ms, l?.initial.serverCpuP50ms),
      incrementalCpu: ratio(y?.incremental.serverCpuP50ms, l?.incremental.serverCpuP50ms),
      incrementalBurst: ratio(y?.incrementalBurst.wallPerSyncP50ms, l?.incrementalBurst.wallPerSyncP50ms),
      incrementalBurstCpu: ratio(y?.incrementalBurst.serverCpuPerSyncP50ms, l?.incrementalBurst.serverCpuPerSyncP50ms),
    };
  };
  const vsSynapse: Record<string, Versus> = Object.fromEntries(synapseSizes.map((n) => [String(n), versus(sy, n)]));
  const vsSynapsePg: Record<string, Versus> = Object.fromEntries(synapsePgSizes.map((n) => [String(n), versus(results["synapse-pg"]!, n)]));
  const floorResult = { what: "bare node:http server, constant JSON body", ...stats(floorSamples.ms), serverCpuP50ms: stats(floorSamples.cpuMs).p50ms };
  const goal = (name: string, value: number | null, target: string, met: (v: number) => boolean) => ({ name, value, target, met: value === null ? null : met(value) });
  const result = {
    bench: "sync",
    date: new Date().toISOString(),
    machine: { nproc: availableParallelism(), memoryGiB: round(totalmem() / 2 ** 30, 1), loadavgStart: load0.map((x) => round(x, 2)), loadavgEnd: loadavg().map((x) => round(x, 2)) },
    node: process.version,
    synapse: synapseVersion,
    postgres: postgresVersion,
    git: { commit: git(["rev-parse", "--short", "HEAD"]), dirtyFiles: git(["status", "--porcelain"]).split("\n").filter(Boolean).length },
    shape: { eventsPerRoom: 20, membersPerRoom: 5, timeline: "server default limit", presence: "set_presence=offline" },
    options: { sizes, synapseSizes, synapsePgSizes, parked, wakeIterations, incrementalIterations, burstDevices, burstRounds, cpuProf: args["cpu-prof"] },
    results,
    requestFloor: floorResult,
    socketRetries: socketRetries.count,
    ratios: { sluice: r, synapseOverSluice: vsSynapse, synapsePostgresOverSluice: vsSynapsePg },
    goals: [
      goal("initial sync per room: 10,000 rooms vs 100 rooms", r.initialPerRoom10000vs100, "<= 2", (v) => v <= 2),
      goal("initial sync per room, server CPU: 10,000 rooms vs 100 rooms", r.initialCpuPerRoom10000vs100, "<= 2", (v) => v <= 2),
      goal("incremental sync (one event): 10,000 rooms vs 10 rooms", r.incremental10000vs10, "<= 2", (v) => v <= 2),
      goal("incremental sync (one event), server CPU: 10,000 rooms vs 10 rooms", r.incrementalCpu10000vs10, "<= 2", (v) => v <= 2),
      goal(`wake-up p50: ${parked} parked vs 1`, r.wakeP50ParkedVs1, "<= 2", (v) => v <= 2),
      goal(`wake-up p99: ${parked} parked vs 1`, r.wakeP99ParkedVs1, "<= 2", (v) => v <= 2),
      goal("initial sync at 1,000 rooms: Synapse time / Sluice time", vsSynapse["1000"]?.initial ?? null, ">= 10", (v) => v >= 10),
      goal("incremental sync at 1,000 rooms: Synapse time / Sluice time", vsSynapse["1000"]?.incremental ?? null, ">= 10", (v) => v >= 10),
      goal("initial sync at 1,000 rooms: Synapse server CPU / Sluice server CPU", vsSynapse["1000"]?.initialCpu ?? null, ">= 10", (v) => v >= 10),
      goal("incremental sync at 1,000 rooms: Synapse server CPU / Sluice server CPU", vsSynapse["1000"]?.incrementalCpu ?? null, ">= 10", (v) => v >= 10),
      goal(`incremental sync at 1,000 rooms, ${burstDevices} at once: Synapse time per sync / Sluice`, vsSynapse["1000"]?.incrementalBurst ?? null, ">= 10", (v) => v >= 10),
      goal(`incremental sync at 1,000 rooms, ${burstDevices} at once: Synapse server CPU per sync / Sluice`, vsSynapse["1000"]?.incrementalBurstCpu ?? null, ">= 10", (v) => v >= 10),
      ...(synapsePgSizes.includes(1000)
        ? [
            goal("Synapse on PostgreSQL: initial sync at 1,000 rooms, time / Sluice", vsSynapsePg["1000"]?.initial ?? null, ">= 10", (v) => v >= 10),
            goal("Synapse on PostgreSQL: incremental sync at 1,000 rooms, time / Sluice", vsSynapsePg["1000"]?.incremental ?? null, ">= 10", (v) => v >= 10),
            goal(`Synapse on PostgreSQL: incremental sync at 1,000 rooms, ${burstDevices} at once, time per sync / Sluice`, vsSynapsePg["1000"]?.incrementalBurst ?? null, ">= 10", (v) => v >= 10),
          ]
        : []),
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
