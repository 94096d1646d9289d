/**
 * Test harness: starts the real app (createApp) on a random loopback port with a fresh
 * SQLite database in a temp directory, and offers a tiny HTTP client for tests.
 * Defaults suit tests: registration open, cheap password hashing, rate limits high enough
 * not to trip (tests of rate limiting pass their own), logs silent unless SLUICE_TEST_LOG=1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { buildConfig } from "../../src/config/load.js";
import { createApp, type App } from "../../src/app.js";
import type { Clock } from "../../src/util/clock.js";

export interface TestServer {
  baseUrl: string;
  app: App;
  dataDir: string;
  /** Stops the server; removes the data directory unless `keepData`. */
  close(opts?: { keepData?: boolean }): Promise<void>;
}

const HIGH_LIMIT = { perSecond: 1000, burst: 1000 };

export async function startServer(
  overrides: Record<string, unknown> = {},
  opts: { clock?: Clock; dataDir?: string; /** Replaces the default (silent) logger, e.g. to capture log lines. */ logger?: Logger } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "sluice-test-"));
  const config = buildConfig(
    deepMerge(
      {
        serverName: "test.local",
        listen: { host: "127.0.0.1", port: 0 },
        dataDir,
        registration: { mode: "open" },
        auth: { passwordHashCost: 10, minPasswordLength: 1 },
        rateLimits: { loginPerAddress: HIGH_LIMIT, loginPerAccount: HIGH_LIMIT, registerPerAddress: HIGH_LIMIT },
        log: { level: process.env.SLUICE_TEST_LOG ? "debug" : "silent" },
      },
      overrides,
    ),
  );
  const logger = opts.logger ?? pino({ level: config.log.level });
  const app = await createApp(config, { logger, ...(opts.clock ? { clock: opts.clock } : {}) });
  const baseUrl = await app.listen();
  return {
    baseUrl,
    app,
    dataDir,
    async close(closeOpts = {}) {
      await app.close();
      if (!closeOpts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP call; `body` is JSON-encoded unless it is already a string. */
export async function api<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = {};
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

export interface TestUser {
  userId: string;
  accessToken: string;
  deviceId: string;
  password: string;
}

/** Registers a user through the real UIA flow (m.login.dummy). */
export async function registerUser(baseUrl: string, localpart: string, password = "correct horse battery"): Promise<TestUser> {
  const res = await api<{ user_id: string; access_token: string; device_id: string }>(baseUrl, "POST", "/_matrix/client/v3/register", {
    body: { username: localpart, password, auth: { type: "m.login.dummy" } },
  });
  if (res.status !== 200) throw new Error(`register ${localpart} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id, password };
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      typeof v === "object" && v !== null && !Array.isArray(v) && typeof cur === "object" && cur !== null && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
