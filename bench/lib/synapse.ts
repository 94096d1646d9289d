/**
 * Synapse beside Sluice for the sync benchmark: installed from PyPI into the git-ignored
 * virtualenv bench/.venv-synapse (made on first use), on its default SQLite database or on
 * PostgreSQL (`database: "postgres"`: the machine's Debian cluster, started with
 * pg_ctlcluster if down; psycopg2-binary installed into the venv), config from
 * `--generate-config` plus a per-run overrides file (loopback listener on a free port,
 * open registration, cheap bcrypt, every rate limit out of the way, no key servers, logs
 * at WARNING). Seeded over its HTTP API with the same account shape as bench/lib/seed.ts
 * (Synapse has no in-process path we could use, so it is much slower to seed); seeded
 * data dirs are cached under bench/.cache/ like Sluice's, and on PostgreSQL the seeded
 * database is kept as `synapse_seed_<rooms>r_s<version>`: each run works on a copy made with
 * CREATE DATABASE … TEMPLATE, dropped when the run stops.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { MatrixClient, pool } from "./matrix-client.js";
import { BENCH_USER, EVENTS_PER_ROOM, IDLE_USER, MEMBERS_PER_ROOM, OTHER_USERS, PASSWORD, cacheRoot, type SeedInfo } from "./seed.js";
import { cpuTimeMs, freePort, repoRoot, rssOf, waitForHttp, type BenchServer } from "./server-process.js";

const SEED_VERSION = 1;
const venv = () => join(repoRoot, "bench", ".venv-synapse");
const python = () => join(venv(), "bin", "python");

/** Makes the virtualenv and installs matrix-synapse if missing; returns Synapse's version. */
export function ensureSynapse(log: (m: string) => void): string {
  if (!existsSync(python())) {
    log("installing matrix-synapse from PyPI into bench/.venv-synapse (one time)…");
    execFileSync("python3", ["-m", "venv", venv()], { stdio: "inherit" });
    execFileSync(join(venv(), "bin", "pip"), ["install", "-q", "matrix-synapse"], { stdio: "inherit" });
  }
  return execFileSync(python(), ["-c", "import synapse; print(synapse.__version__)"], { encoding: "utf8" }).trim();
}

const LIMIT = { per_second: 1_000_000, burst_count: 1_000_000 };

export type SynapseDatabase = "sqlite" | "postgres";

/** The PostgreSQL role the benchmarks connect as (loopback only, throwaway databases). */
const PG = { user: "synapse_bench", password: "synapse_bench", host: "127.0.0.1" };
const pgSeedName = (rooms: number) => `synapse_seed_${rooms}r_s${SEED_VERSION}`;

function psql(sql: string, db = "postgres"): string {
  return execFileSync("runuser", ["-u", "postgres", "--", "psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql], {
    encoding: "utf8",
    env: { ...process.env, PGOPTIONS: "-c client_min_messages=warning" }, // no NOTICE for DROP … IF EXISTS
  }).trim();
}

/**
 * PostgreSQL for Synapse: starts the Debian cluster if it is down, makes the bench role,
 * installs psycopg2-binary into the venv. Returns the server's version.
 */
export function ensurePostgres(log: (m: string) => void): string {
  const clusters = execFileSync("pg_lsclusters", ["--no-header"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  const [version, cluster, , status] = (clusters[0] ?? "").split(/\s+/);
  if (!version || !cluster) throw new Error("no PostgreSQL cluster (install Debian's postgresql)");
  if (status !== "online") {
    log(`starting PostgreSQL ${version}/${cluster}`);
    execFileSync("pg_ctlcluster", [version, cluster, "start"], { stdio: "inherit" });
  }
  if (psql(`SELECT 1 FROM pg_roles WHERE rolname = '${PG.user}'`) !== "1") psql(`CREATE ROLE ${PG.user} LOGIN CREATEDB PASSWORD '${PG.password}'`);
  try {
    execFileSync(python(), ["-c", "import psycopg2"], { stdio: "ignore" });
  } catch {
    log("installing psycopg2-binary into bench/.venv-synapse (one time)…");
    execFileSync(join(venv(), "bin", "pip"), ["install", "-q", "psycopg2-binary"], { stdio: "inherit" });
  }
  return psql("SHOW server_version");
}

/** A database owned by the bench role with the collation Synapse insists on, empty or copied from `template`. */
function createPgDatabase(name: string, template?: string): void {
  psql(`DROP DATABASE IF EXISTS ${name}`);
  psql(
    template
      ? `CREATE DATABASE ${name} OWNER ${PG.user} TEMPLATE ${template}`
      : `CREATE DATABASE ${name} OWNER ${PG.user} ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
  );
}

function databaseConfig(dir: string): Record<string, unknown> {
  const f = join(dir, "bench-database.json");
  if (!existsSync(f)) return { name: "sqlite3", args: { database: join(dir, "homeserver.db") } };
  const { database } = JSON.parse(readFileSync(f, "utf8")) as { database: string };
  return { name: "psycopg2", args: { ...PG, database, cp_min: 5, cp_max: 10 } };
}

function overrides(dir: string, port: number): Record<string, unknown> {
  return {
    server_name: "localhost",
    pid_file: join(dir, "homeserver.pid"),
    listeners: [{ port, bind_addresses: ["127.0.0.1"], type: "http", tls: false, x_forwarded: false, resources: [{ names: ["client"], compress: false }] }],
    database: databaseConfig(dir),
    log_config: join(dir, "bench.log.config"),
    media_store_path: join(dir, "media_store"),
    signing_key_path: join(dir, "localhost.signing.key"),
    report_stats: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    enable_registration: true,
    enable_registration_without_verification: true,
    bcrypt_rounds: 4,
    rc_message: LIMIT,
    rc_registration: LIMIT,
    rc_registration_token_validity: LIMIT,
    rc_login: { address: LIMIT, account: LIMIT, failed_attempts: LIMIT },
    rc_admin_redaction: LIMIT,
    rc_joins: { local: LIMIT, remote: LIMIT },
    rc_joins_per_room: LIMIT,
    rc_3pid_validation: LIMIT,
    rc_invites: { per_room: LIMIT, per_user: LIMIT, per_issuer: LIMIT },
    rc_third_party_invite: LIMIT,
    rc_room_creation: LIMIT,
    rc_presence: { per_user: LIMIT },
    rc_delayed_event_mgmt: LIMIT,
    rc_reports: LIMIT,
  };
}

const LOG_CONFIG = {
  version: 1,
  formatters: { precise: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" } },
  handlers: { console: { class: "logging.StreamHandler", formatter: "precise" } },
  root: { level: "WARNING", handlers: ["console"] },
  disable_existing_loggers: false,
};

/**
 * Starts Synapse on `dir` (a generated config and maybe a database; `bench-database.json` in
 * it names a PostgreSQL database to use instead of SQLite).
 */
export async function startSynapse(dir: string, opts: { removeDataDir?: boolean } = {}): Promise<BenchServer> {
  const port = await freePort();
  writeFileSync(join(dir, "bench.log.config"), stringify(LOG_CONFIG));
  writeFileSync(join(dir, "bench-overrides.yaml"), stringify(overrides(dir, port)));
  const child: ChildProcess = spawn(python(), ["-m", "synapse.app.homeserver", "-c", join(dir, "homeserver.yaml"), "-c", join(dir, "bench-overrides.yaml")], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise((r) => child.once("exit", () => ((exited = true), r(undefined))));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${baseUrl}/_matrix/client/versions`, 120_000, () => exited);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\nSynapse stderr:\n${stderr}`);
  }
  return {
    baseUrl,
    pid: child.pid!,
    rssBytes: () => rssOf(child.pid!),
    cpuMs: () => cpuTimeMs(child.pid!),
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exit;
        clearTimeout(killer);
      }
      if (opts.removeDataDir) {
        const db = databaseConfig(dir);
        if (db.name === "psycopg2") psql(`DROP DATABASE IF EXISTS ${(db.args as { database: string }).database}`);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function generateConfig(dir: string): void {
  execFileSync(
    python(),
    ["-m", "synapse.app.homeserver", "--server-name", "localhost", "--config-path", join(dir, "homeserver.yaml"), "--generate-config", "--report-stats=no", "--data-directory", dir],
    { cwd: dir, stdio: "ignore" },
  );
}

/** Seeds a running Synapse over HTTP: the same users and room shape as Sluice's seed. */
async function seedOverHttp(baseUrl: string, rooms: number, progress: (m: string) => void): Promise<Omit<SeedInfo, "seedSeconds" | "seededAt">> {
  const bench = await MatrixClient.register(baseUrl, BENCH_USER, PASSWORD);
  const others: MatrixClient[] = [];
  for (const o of OTHER_USERS) others.push(await MatrixClient.register(baseUrl, o, PASSWORD));
  const idle = await MatrixClient.register(baseUrl, IDLE_USER, PASSWORD);
  const senders = [bench, ...others];
  let messages = -1;
  let firstRoomId = "";
  let done = 0;
  let last = Date.now();
  const makeRoom = async (i: number) => {
    const roomId = await bench.createRoom({ preset: "public_chat", name: `bench room ${i}` });
    for (const o of others) await o.join(roomId);
    if (messages < 0) {
      // Count what createRoom and the joins wrote, once, so every room holds EVENTS_PER_ROOM.
      const page = await bench.request("GET", `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=100`);
      messages = EVENTS_PER_ROOM - (page.chunk as unknown[]).length;
      firstRoomId = roomId;
    }
    for (let k = 0; k < messages; k++) await senders[k % senders.length]!.send(roomId, `message ${k} in room ${i}`);
    done++;
    if (Date.now() - last > 10_000) {
      last = Date.now();
      progress(`synapse: seeded ${done}/${rooms} rooms`);
    }
  };
  await makeRoom(0); // alone, to count its events
  await pool(
    Array.from({ length: rooms - 1 }, (_, i) => i + 1),
    4,
    (i) => makeRoom(i),
  );
  return {
    rooms,
    eventsPerRoom: EVENTS_PER_ROOM,
    membersPerRoom: MEMBERS_PER_ROOM,
    serverName: "localhost",
    users: { bench: bench.userId, others: others.map((o) => o.userId), idle: idle.userId },
    password: PASSWORD,
    firstRoomId,
  };
}

/** The cached seeded Synapse dir for `rooms` (seeding it over HTTP first if missing). */
export async function cachedSynapseSeed(rooms: number, progress: (m: string) => void, database: SynapseDatabase = "sqlite"): Promise<{ dir: string; info: SeedInfo; cached: boolean }> {
  const pg = database === "postgres";
  const dir = join(cacheRoot(), `synapse${pg ? "-pg" : ""}-${rooms}r-s${SEED_VERSION}`);
  const infoFile = join(dir, "seed.json");
  const seededDbExists = () => !pg || psql(`SELECT 1 FROM pg_database WHERE datname = '${pgSeedName(rooms)}'`) === "1";
  if (existsSync(infoFile) && seededDbExists()) return { dir, info: JSON.parse(readFileSync(infoFile, "utf8")) as SeedInfo, cached: true };
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  generateConfig(tmp);
  if (pg) {
    createPgDatabase(pgSeedName(rooms));
    writeFileSync(join(tmp, "bench-database.json"), JSON.stringify({ database: pgSeedName(rooms) }) + "\n");
  }
  const started = process.hrtime.bigint();
  const server = await startSynapse(tmp);
  let seeded: Omit<SeedInfo, "seedSeconds" | "seededAt">;
  try {
    seeded = await seedOverHttp(server.baseUrl, rooms, progress);
  } finally {
    await server.stop();
  }
  const info: SeedInfo = { ...seeded, seedSeconds: Number(process.hrtime.bigint() - started) / 1e9, seededAt: new Date().toISOString() };
  writeFileSync(infoFile.replace(dir, tmp), JSON.stringify(info, null, 2) + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, info, cached: false };
}

/**
 * A throwaway copy of a cached Synapse dir for one run (paths are rewritten by the overrides
 * file); on PostgreSQL also a copy of the seeded database, dropped by stop().
 */
export function copySynapseForRun(cachedDir: string, label: string): string {
  const run = `${label}-${process.pid}-${Date.now()}`;
  const dir = join(tmpdir(), `synapse-bench-${run}`);
  cpSync(cachedDir, dir, { recursive: true });
  const db = databaseConfig(dir);
  if (db.name === "psycopg2") {
    const name = `synapse_run_${run.replace(/[^a-z0-9]/gi, "_")}`.toLowerCase();
    createPgDatabase(name, (db.args as { database: string }).database);
    writeFileSync(join(dir, "bench-database.json"), JSON.stringify({ database: name }) + "\n");
  }
  return dir;
}
