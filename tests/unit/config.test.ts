import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, buildConfig, databasePath, loadConfig, publicBaseUrl } from "../../src/config/load.js";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "sluice-config-"));
  dirs.push(d);
  return d;
}

/** Writes `yaml` to a fresh temp file and returns its path. */
function yamlFile(yaml: string): string {
  const p = join(tempDir(), "sluice.yaml");
  writeFileSync(p, yaml);
  return p;
}

/** The ConfigError thrown by `fn` (fails the test if it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected a ConfigError, nothing was thrown");
}

/** Runs `fn` with the working directory set to `dir` (each test file runs in its own process). */
function inDir<T>(dir: string, fn: () => T): T {
  const prev = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(prev);
  }
}

describe("buildConfig", () => {
  it("fills in defaults", () => {
    const c = buildConfig({});
    assert.equal(c.serverName, "localhost");
    assert.deepEqual(c.listen, { host: "127.0.0.1", port: 8008 });
    assert.equal(c.registration.mode, "closed");
    assert.deepEqual(c.registration.tokens, []);
    assert.equal(c.database.backend, "sqlite");
    assert.equal(c.database.path, undefined);
    assert.equal(c.dataDir, "./data");
    assert.equal(c.log.level, "info");
    assert.equal(c.http.trustProxy, false);
    assert.deepEqual(c.rateLimits.loginPerAddress, { perSecond: 0.17, burst: 3 });
    assert.equal(databasePath(c), "./data/sluice.db");
    assert.equal(publicBaseUrl(c), "http://127.0.0.1:8008");
  });

  it("keeps given values and defaults the rest of a partly-given section", () => {
    const c = buildConfig({ serverName: "example.org", listen: { port: 9000 }, registration: { mode: "token", tokens: ["abc"] } });
    assert.equal(c.serverName, "example.org");
    assert.deepEqual(c.listen, { host: "127.0.0.1", port: 9000 });
    assert.deepEqual(c.registration, { mode: "token", tokens: ["abc"] });
  });

  it("does not modify its input", () => {
    const raw = { listen: { port: 9000 } };
    buildConfig(raw);
    assert.deepEqual(raw, { listen: { port: 9000 } });
  });

  it("returns a deeply frozen object, and separate calls do not share state", () => {
    const c = buildConfig({});
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.listen));
    assert.ok(Object.isFrozen(c.registration.tokens));
    assert.ok(Object.isFrozen(c.rateLimits.loginPerAddress));
    assert.throws(() => {
      (c as { serverName: string }).serverName = "x";
    }, TypeError);
    assert.throws(() => {
      (c.registration.tokens as string[]).push("x");
    }, TypeError);
    const d = buildConfig({ listen: { host: "0.0.0.0" } });
    assert.equal(d.listen.host, "0.0.0.0", "an earlier frozen result does not leak into later ones");
    assert.equal(buildConfig({}).listen.host, "127.0.0.1");
  });

  it("reports an unknown top-level key", () => {
    const e = configError(() => buildConfig({ sever_name: "typo" }));
    assert.deepEqual(e.problems, ["unknown key sever_name"]);
    assert.match(e.message, /sever_name/);
  });

  it("reports unknown nested keys with dotted paths", () => {
    const e = configError(() => buildConfig({ listen: { hots: "::" }, rateLimits: { loginPerAddress: { perSecond: 1, burst: 1, brust: 2 } } }));
    assert.ok(e.problems.includes("unknown key listen.hots"), JSON.stringify(e.problems));
    assert.ok(e.problems.includes("unknown key rateLimits.loginPerAddress.brust"), JSON.stringify(e.problems));
  });

  it("reports every problem at once", () => {
    const e = configError(() => buildConfig({ a: 1, b: 2, listen: { port: "x" } }));
    assert.ok(e.problems.includes("unknown key a"), JSON.stringify(e.problems));
    assert.ok(e.problems.includes("unknown key b"), JSON.stringify(e.problems));
    assert.ok(e.problems.some((p) => p.startsWith("listen.port:")), JSON.stringify(e.problems));
  });

  it("reports wrong types and out-of-range values with the key's path", () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ serverName: 5 }, "serverName:"],
      [{ serverName: "" }, "serverName:"],
      [{ listen: { port: "8008" } }, "listen.port:"],
      [{ listen: { port: 70000 } }, "listen.port:"],
      [{ listen: { port: 80.5 } }, "listen.port:"],
      [{ listen: "0.0.0.0:80" }, "listen:"],
      [{ registration: { mode: "sometimes" } }, "registration.mode:"],
      [{ registration: { tokens: "abc" } }, "registration.tokens:"],
      [{ registration: { tokens: ["has space"] } }, "registration.tokens.0:"],
      [{ http: { trustProxy: "yes" } }, "http.trustProxy:"],
      [{ log: { level: "loud" } }, "log.level:"],
      [{ auth: { passwordHashCost: 5 } }, "auth.passwordHashCost:"],
      [{ rateLimits: { loginPerAccount: { perSecond: 0, burst: 1 } } }, "rateLimits.loginPerAccount.perSecond:"],
    ];
    for (const [raw, prefix] of cases) {
      const e = configError(() => buildConfig(raw));
      assert.ok(e.problems.length > 0);
      assert.ok(
        e.problems.every((p) => p.startsWith(prefix)),
        `${JSON.stringify(raw)}: expected problems starting with ${prefix}, got ${JSON.stringify(e.problems)}`,
      );
    }
  });
});

describe("loadConfig", () => {
  it("reads the YAML file named by SLUICE_CONFIG", () => {
    const file = yamlFile(["serverName: example.org", "listen:", "  host: 0.0.0.0", "  port: 8448", "registration:", "  mode: open", "publicBaseUrl: https://matrix.example.org/"].join("\n"));
    const c = loadConfig({ SLUICE_CONFIG: file });
    assert.equal(c.serverName, "example.org");
    assert.deepEqual(c.listen, { host: "0.0.0.0", port: 8448 });
    assert.equal(c.registration.mode, "open");
    assert.equal(c.dataDir, "./data", "unset keys keep their defaults");
    assert.equal(publicBaseUrl(c), "https://matrix.example.org");
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.listen));
  });

  it("an empty file is all defaults", () => {
    const c = loadConfig({ SLUICE_CONFIG: yamlFile("") });
    assert.equal(c.serverName, "localhost");
  });

  it("reports problems in the file with the file's name", () => {
    const file = yamlFile("listen:\n  prot: 1\n");
    const e = configError(() => loadConfig({ SLUICE_CONFIG: file }));
    assert.deepEqual(e.problems, ["unknown key listen.prot"]);
    assert.ok(e.message.includes(file), e.message);
  });

  it("rejects a file that is not YAML or not a mapping", () => {
    assert.match(configError(() => loadConfig({ SLUICE_CONFIG: yamlFile("a: [1, 2\n") })).problems[0] ?? "", /not valid YAML/);
    assert.match(configError(() => loadConfig({ SLUICE_CONFIG: yamlFile("- a\n- b\n") })).problems[0] ?? "", /mapping/);
  });

  it("environment overrides win over the file", () => {
    const file = yamlFile(
      ["serverName: file.example", "listen: { host: 10.0.0.1, port: 1111 }", "database: { path: /file/db.sqlite }", "registration: { mode: open, tokens: [filetok] }"].join("\n"),
    );
    const c = loadConfig({
      SLUICE_CONFIG: file,
      SLUICE_SERVER_NAME: "env.example",
      SLUICE_LISTEN: "0.0.0.0:2222",
      SLUICE_DATABASE: "/env/db.sqlite",
      SLUICE_REGISTRATION: "token",
      SLUICE_REGISTRATION_TOKENS: "one, two,,three ",
    });
    assert.equal(c.serverName, "env.example");
    assert.deepEqual(c.listen, { host: "0.0.0.0", port: 2222 });
    assert.equal(c.database.path, "/env/db.sqlite");
    assert.equal(databasePath(c), "/env/db.sqlite");
    assert.equal(c.registration.mode, "token");
    assert.deepEqual(c.registration.tokens, ["one", "two", "three"]);
  });

  it("an override of one nested key keeps the file's sibling keys", () => {
    const file = yamlFile("registration: { mode: token, tokens: [filetok] }\nlisten: { host: 10.0.0.1, port: 1111 }\n");
    const c = loadConfig({ SLUICE_CONFIG: file, SLUICE_REGISTRATION: "open" });
    assert.deepEqual(c.registration, { mode: "open", tokens: ["filetok"] });
    assert.deepEqual(c.listen, { host: "10.0.0.1", port: 1111 });
  });

  it("SLUICE_LISTEN accepts a bracketed IPv6 address", () => {
    const c = loadConfig({ SLUICE_CONFIG: yamlFile(""), SLUICE_LISTEN: "[::1]:8448" });
    assert.deepEqual(c.listen, { host: "::1", port: 8448 });
    assert.equal(publicBaseUrl(c), "http://[::1]:8448");
  });

  it("a bad SLUICE_LISTEN is a ConfigError naming the problem", () => {
    for (const bad of ["localhost", "localhost:", "host:port", ":x"]) {
      const e = configError(() => loadConfig({ SLUICE_CONFIG: yamlFile(""), SLUICE_LISTEN: bad }));
      assert.equal(e.problems.length, 1);
      assert.match(e.problems[0] ?? "", /SLUICE_LISTEN/);
      assert.ok(e.problems[0]?.includes(bad), e.problems[0]);
    }
    const e = configError(() => loadConfig({ SLUICE_CONFIG: yamlFile(""), SLUICE_LISTEN: "127.0.0.1:99999" }));
    assert.ok(e.problems.some((p) => p.startsWith("listen.port:")), JSON.stringify(e.problems));
  });

  it("a bad SLUICE_REGISTRATION is a ConfigError naming registration.mode", () => {
    const e = configError(() => loadConfig({ SLUICE_CONFIG: yamlFile(""), SLUICE_REGISTRATION: "maybe" }));
    assert.ok(e.problems.length > 0);
    assert.ok(e.problems.every((p) => p.startsWith("registration.mode:")), JSON.stringify(e.problems));
  });

  it("a bad registration token from SLUICE_REGISTRATION_TOKENS is a ConfigError", () => {
    const e = configError(() => loadConfig({ SLUICE_CONFIG: yamlFile(""), SLUICE_REGISTRATION_TOKENS: "ok,not ok" }));
    assert.ok(e.problems.some((p) => p.startsWith("registration.tokens.1:")), JSON.stringify(e.problems));
  });

  it("a missing file named by SLUICE_CONFIG is an error", () => {
    const missing = join(tempDir(), "nope.yaml");
    const e = configError(() => loadConfig({ SLUICE_CONFIG: missing }));
    assert.ok(e.problems.some((p) => p.includes("not found") && p.includes(missing)), JSON.stringify(e.problems));
  });

  it("a missing default ./sluice.yaml is not an error", () => {
    const c = inDir(tempDir(), () => loadConfig({ SLUICE_SERVER_NAME: "env.example" }));
    assert.equal(c.serverName, "env.example");
    assert.equal(c.listen.port, 8008);
    assert.ok(Object.isFrozen(c));
  });

  it("reads ./sluice.yaml from the working directory when SLUICE_CONFIG is unset", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "sluice.yaml"), "serverName: cwd.example\n");
    const c = inDir(dir, () => loadConfig({}));
    assert.equal(c.serverName, "cwd.example");
  });

  it("explicit overrides win over file and environment", () => {
    const file = yamlFile("serverName: file.example\nlisten: { port: 1111 }\n");
    const c = loadConfig({ SLUICE_CONFIG: file, SLUICE_SERVER_NAME: "env.example" }, { serverName: "override.example", listen: { host: "::" } });
    assert.equal(c.serverName, "override.example");
    assert.deepEqual(c.listen, { host: "::", port: 1111 });
  });

  it("does not read or change process.env", () => {
    const before = { ...process.env };
    const c = loadConfig({ SLUICE_CONFIG: yamlFile(""), SLUICE_SERVER_NAME: "env.example" });
    assert.equal(c.serverName, "env.example");
    assert.deepEqual({ ...process.env }, before);
  });
});
