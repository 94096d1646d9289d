/**
 * The built command-line tools as an operator runs them: `node dist/src/cli/main.js`
 * (create-user, generate-config) and `node dist/src/main.js` refusing a bad configuration.
 * Accounts made by the CLI are then used over HTTP by a server on the same data directory.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { buildConfig } from "../../src/config/load.js";
import { api, startServer } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
/** dist/tests/integration → dist/src/… */
const CLI = resolve(here, "..", "..", "src", "cli", "main.js");
const MAIN = resolve(here, "..", "..", "src", "main.js");
const V3 = "/_matrix/client/v3";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment without any SLUICE_* variable of the test runner, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLUICE_")) env[k] = v;
  return { ...env, ...extra };
}

/** Runs a script with node; resolves with its exit code and output (never rejects on exit code). */
function runNode(script: string, args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [script, ...args],
      { env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 30_000, encoding: "utf8" },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        resolvePromise({
          code: e ? (typeof e.code === "number" ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

describe("CLI: sluice create-user and a server on the same data directory", () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const cli = (...args: string[]) => runNode(CLI, args, { env, cwd: dataDir });

  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), "sluice-cli-"));
    env = cleanEnv({ SLUICE_DATA_DIR: dataDir, SLUICE_LOG_LEVEL: "silent", SLUICE_SERVER_NAME: "test.local" });
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  let generatedPassword = "";

  it("create-user alice --password … --admin prints the user id", async () => {
    const r = await cli("create-user", "alice", "--password", "pw12345678", "--admin");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^created @alice:test\.local \(admin\)$/m);
    assert.ok(!r.stdout.includes("pw12345678"), "a given password is not echoed");
  });

  it("creating the same user again exits non-zero with a clear message", async () => {
    const r = await cli("create-user", "alice", "--password", "other-password");
    assert.notEqual(r.code, 0);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /@alice:test\.local already exists/);
    assert.equal(r.stdout, "");
  });

  it("without --password it prints a generated password", async () => {
    const r = await cli("create-user", "bob");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^created @bob:test\.local$/m);
    const m = /^password: (\S+)$/m.exec(r.stdout);
    assert.ok(m, `no generated password in: ${r.stdout}`);
    generatedPassword = m[1]!;
    assert.ok(generatedPassword.length >= 8, `generated password too short: ${generatedPassword}`);
  });

  it("an invalid user name exits non-zero and creates nothing", async () => {
    const r = await cli("create-user", "Not Valid!", "--password", "pw12345678");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /user name/i);
  });

  it("create-user without a name prints usage and exits 2", async () => {
    const r = await cli("create-user");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage:/);
  });

  it("a server on the same data directory logs both users in; --admin took effect", async () => {
    assert.ok(generatedPassword, "depends on the generated-password test");
    const server = await startServer({}, { dataDir });
    try {
      const login = async (user: string, password: string) =>
        api<{ user_id: string; access_token: string; errcode?: string }>(server.baseUrl, "POST", `${V3}/login`, {
          body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password },
        });
      const alice = await login("alice", "pw12345678");
      assert.equal(alice.status, 200, JSON.stringify(alice.body));
      assert.equal(alice.body.user_id, "@alice:test.local");
      const bob = await login("bob", generatedPassword);
      assert.equal(bob.status, 200, JSON.stringify(bob.body));
      assert.equal(bob.body.user_id, "@bob:test.local");

      // The failed second create-user did not change alice's password.
      const stale = await login("alice", "other-password");
      assert.equal(stale.status, 403);
      assert.equal(stale.body.errcode, "M_FORBIDDEN");

      // Admins may edit other profiles; ordinary users may not.
      const byAdmin = await api(server.baseUrl, "PUT", `${V3}/profile/${encodeURIComponent("@bob:test.local")}/displayname`, {
        token: alice.body.access_token,
        body: { displayname: "Set by admin" },
      });
      assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
      const byBob = await api(server.baseUrl, "PUT", `${V3}/profile/${encodeURIComponent("@alice:test.local")}/displayname`, {
        token: bob.body.access_token,
        body: { displayname: "Set by bob" },
      });
      assert.equal(byBob.status, 403);
      assert.equal(byBob.body.errcode, "M_FORBIDDEN");
    } finally {
      await server.close({ keepData: true });
    }
  });
});

describe("CLI: generate-config and errors", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "sluice-cli-cfg-"));
    env = cleanEnv({ SLUICE_DATA_DIR: dir, SLUICE_LOG_LEVEL: "silent" });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("generate-config prints YAML that validates and equals the defaults", async () => {
    // No SLUICE_* variables at all: the output must not depend on the environment.
    const r = await runNode(CLI, ["generate-config"], { env: cleanEnv({}), cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const parsed = parseYaml(r.stdout) as Record<string, unknown>;
    assert.equal(typeof parsed, "object");
    assert.ok(parsed !== null && !Array.isArray(parsed));
    const config = buildConfig(parsed);
    assert.deepEqual(config, buildConfig({}));
    // Every top-level section is present in the file, not just defaulted.
    for (const key of Object.keys(buildConfig({}))) {
      if (key === "publicBaseUrl") continue;
      assert.ok(key in parsed, `generate-config omits ${key}`);
    }
  });

  it("the generated file is accepted by the server's own loader (SLUICE_CONFIG)", async () => {
    const r = await runNode(CLI, ["generate-config"], { env: cleanEnv({}), cwd: dir });
    const file = join(dir, "generated.yaml");
    writeFileSync(file, r.stdout);
    // create-user loads the configuration exactly as the server does.
    const created = await runNode(CLI, ["create-user", "carol", "--password", "pw12345678"], {
      env: cleanEnv({ SLUICE_CONFIG: file, SLUICE_DATA_DIR: dir, SLUICE_LOG_LEVEL: "silent" }),
      cwd: dir,
    });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^created @carol:localhost$/m);
  });

  it("an unknown subcommand exits 2 with usage", async () => {
    const r = await runNode(CLI, ["frobnicate"], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command: frobnicate/);
    assert.match(r.stderr, /usage:/);
  });

  it("no subcommand exits 2 with usage", async () => {
    const r = await runNode(CLI, [], { env, cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stdout + r.stderr, /usage:/);
  });

  it("node dist/src/main.js with an unknown config key exits 2 and names the key path", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "serverName: test.local\nlisten:\n  host: 127.0.0.1\n  port: 0\n  hots: 0.0.0.0\nregistration:\n  mode: open\n");
    const r = await runNode(MAIN, [], { env: cleanEnv({ SLUICE_CONFIG: file, SLUICE_DATA_DIR: dir }), cwd: dir, timeoutMs: 15_000 });
    assert.equal(r.signal, null, "the server must refuse to start, not run until killed");
    assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, /listen\.hots/);
  });

  it("node dist/src/main.js with an unknown top-level key and a bad value exits 2 naming both", async () => {
    const file = join(dir, "bad2.yaml");
    writeFileSync(file, "serverName: test.local\nlisten:\n  port: 0\nregistraton:\n  mode: open\nlog:\n  level: loud\n");
    const r = await runNode(MAIN, [], { env: cleanEnv({ SLUICE_CONFIG: file, SLUICE_DATA_DIR: dir }), cwd: dir, timeoutMs: 15_000 });
    assert.equal(r.signal, null, "the server must refuse to start, not run until killed");
    assert.equal(r.code, 2, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, /registraton/);
    assert.match(r.stderr, /log\.level/);
  });

  it("node dist/src/main.js with a missing SLUICE_CONFIG file exits 2", async () => {
    const r = await runNode(MAIN, [], { env: cleanEnv({ SLUICE_CONFIG: join(dir, "does-not-exist.yaml"), SLUICE_DATA_DIR: dir }), cwd: dir, timeoutMs: 15_000 });
    assert.equal(r.signal, null);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /does-not-exist\.yaml/);
  });
});
