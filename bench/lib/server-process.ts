/**
 * Starts a Sluice server as a child process for benchmarks (so the load generator does
 * not share the server's event loop), on a free loopback port. By default on a fresh data
 * dir that stop() removes; `dataDir` runs it on a prepared (seeded) one instead, which
 * stop() removes only when `removeDataDir` says so. `nodeArgs` go before the entry point
 * (e.g. `--cpu-prof`), `config` replaces bench/bench-config.yaml.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface BenchServer {
  baseUrl: string;
  /** The child's pid (for /proc/<pid>/status). */
  pid: number;
  /** The child's resident set size in bytes, from /proc/<pid>/status (VmRSS). */
  rssBytes(): number;
  /** CPU time the child's live threads have used, in ms (see cpuTimeMs). */
  cpuMs(): number;
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  dataDir?: string;
  removeDataDir?: boolean;
  nodeArgs?: string[];
  config?: string;
  /** How long to wait for the server to answer /versions (a big database opens slower). */
  startTimeoutMs?: number;
  /** Another build's entry point (bench/ab-sync.ts compares two builds); default this one's. */
  entry?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => res(port));
    });
    s.on("error", rej);
  });
}

/** VmRSS of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * CPU time used so far by the live threads of a process, in ms, from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds on CPU). Unlike wall time it hardly
 * depends on what else the machine runs, which matters on shared 2-core machines.
 */
export function cpuTimeMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1e6;
}

/** Polls `url` until it answers 2xx, or throws after `timeoutMs` (or when `exited()` says the process died). */
export async function waitForHttp(url: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`server exited before answering ${url}`);
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
}

export async function startServerProcess(extraEnv: Record<string, string> = {}, opts: ServerProcessOptions = {}): Promise<BenchServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "sluice-bench-"));
  const removeDataDir = opts.removeDataDir ?? opts.dataDir === undefined;
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.entry ?? join(repoRoot, "dist", "src", "main.js")], {
    env: {
      ...process.env,
      SLUICE_CONFIG: opts.config ?? join(repoRoot, "bench", "bench-config.yaml"),
      SLUICE_DATA_DIR: dataDir,
      SLUICE_LISTEN: `127.0.0.1:${port}`,
      SLUICE_REGISTRATION: "open",
      SLUICE_LOG_LEVEL: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  let exited = false;
  const exit = new Promise((r) => child.once("exit", () => ((exited = true), r(undefined))));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${baseUrl}/_matrix/client/versions`, opts.startTimeoutMs ?? 30_000, () => exited);
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
  return {
    baseUrl,
    pid: child.pid!,
    rssBytes: () => rssOf(child.pid!),
    cpuMs: () => cpuTimeMs(child.pid!),
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        await exit;
      }
      if (removeDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
