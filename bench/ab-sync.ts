/**
 * bench/ab-sync.ts — this build against another one, side by side: the server CPU of an
 * incremental sync carrying one new event on a busy server (the `burst` workload of
 * bench/sync.ts), for judging a change to the sync path. Both servers run at once as child
 * processes on copies of one seeded account (bench/lib/seed.ts); rounds alternate between
 * them (the order flips each round), so the machine's load hits both alike. A round: another
 * member sends one message, 30 ms later --devices devices of the account sync at once from
 * the token before it; the server's CPU (schedstat) over the batch ÷ devices is one sample.
 * Prints and writes bench/results/ab-sync.json: p50/p25/mean per build and B ÷ A.
 * The baseline is any earlier build with its own dist/, e.g.:
 *   git worktree add /tmp/base <rev> && ln -s "$PWD/node_modules" /tmp/base/ && (cd /tmp/base && npx tsc -p tsconfig.json)
 *   npm run build && node dist/bench/ab-sync.js --base /tmp/base [--rooms 1000] [--rounds 100] [--devices 16]
 * (then `git worktree remove /tmp/base`). Two runs of the same build differ by a few percent.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { MatrixClient } from "./lib/matrix-client.js";
import { cachedSeed, copyForRun } from "./lib/seed.js";
import { repoRoot, startServerProcess, type BenchServer } from "./lib/server-process.js";
import { round } from "./lib/load.js";

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    rooms: { type: "string", default: "1000" },
    rounds: { type: "string", default: "100" },
    devices: { type: "string", default: "16" },
    out: { type: "string", default: join(repoRoot, "bench", "results", "ab-sync.json") },
  },
});
if (!args.base) throw new Error("--base <directory of another build (with dist/src/main.js)> is required");
const rooms = Number(args.rooms);
const rounds = Number(args.rounds);
const devices = Number(args.devices);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Side {
  name: "A (base)" | "B (this build)";
  server: BenchServer;
  sender: MatrixClient;
  devices: { client: MatrixClient; token: string }[];
  cpuPerSync: number[];
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))] ?? NaN;
  return { p50ms: round(at(0.5), 3), p25ms: round(at(0.25), 3), meanMs: round(xs.reduce((a, b) => a + b, 0) / xs.length, 3) };
};

async function side(name: Side["name"], entry: string | undefined, seedDir: string, info: Awaited<ReturnType<typeof cachedSeed>>["info"]): Promise<Side> {
  const server = await startServerProcess({}, { dataDir: copyForRun(seedDir, `ab-${name[0]}`), removeDataDir: true, startTimeoutMs: 120_000, ...(entry ? { entry } : {}) });
  const sender = await MatrixClient.login(server.baseUrl, info.users.others[0]!, info.password);
  const list: Side["devices"] = [];
  let token: string | null = null;
  for (let d = 0; d < devices; d++) {
    const client = await MatrixClient.login(server.baseUrl, info.users.bench, info.password);
    // One initial sync with no rooms gives a token every device may start from.
    token ??= String((await client.sync({ filter: JSON.stringify({ room: { rooms: [] } }) })).body.next_batch);
    list.push({ client, token });
  }
  return { name, server, sender, devices: list, cpuPerSync: [] };
}

async function main(): Promise<void> {
  const { dir, info } = await cachedSeed(rooms, { progress: (m) => console.error(`[ab-sync] ${m}`) });
  const a = await side("A (base)", join(resolve(args.base!), "dist", "src", "main.js"), dir, info);
  const b = await side("B (this build)", undefined, dir, info);
  try {
    for (let i = 0; i < rounds + 3; i++) {
      for (const s of i % 2 ? [a, b] : [b, a]) {
        await s.sender.send(info.firstRoomId, `ab ${i}`);
        await sleep(30);
        const before = s.server.cpuMs();
        const responses = await Promise.all(s.devices.map((d) => d.client.sync({ since: d.token })));
        const cpu = s.server.cpuMs() - before;
        responses.forEach((r, k) => {
          const events = Object.values((r.body.rooms as { join?: Record<string, { timeline?: { events?: unknown[] } }> } | undefined)?.join ?? {}).flatMap((room) => room.timeline?.events ?? []);
          if (events.length !== 1) throw new Error(`${s.name}: a sync carried ${events.length} events, expected the one just sent`);
          s.devices[k]!.token = String(r.body.next_batch);
        });
        if (i >= 3) s.cpuPerSync.push(cpu / devices); // the first rounds warm both up
      }
    }
  } finally {
    await Promise.all([a.server.stop(), b.server.stop()]);
  }
  const [sa, sb] = [stats(a.cpuPerSync), stats(b.cpuPerSync)];
  const result = {
    bench: "ab-sync",
    date: new Date().toISOString(),
    base: resolve(args.base!),
    options: { rooms, rounds, devices },
    serverCpuPerSync: { base: sa, thisBuild: sb },
    thisBuildOverBase: { p50: round(sb.p50ms / sa.p50ms, 3), mean: round(sb.meanMs / sa.meanMs, 3) },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(dirname(args.out!), { recursive: true });
  writeFileSync(args.out!, JSON.stringify(result, null, 2) + "\n");
}

await main();
