/**
 * matrix-nio (Python, Debian's python3-matrix-nio) against a real Sluice server. The node
 * side starts the server and runs tests/clients/nio_login.py, which registers, logs in,
 * calls whoami, lists devices, sets the display name and logs out with nio's AsyncClient,
 * pausing before the logout so this test can check the server's own view in between.
 * nio speaks /_matrix/client/r0/... with the token in ?access_token=; the raw requests
 * are recorded here to hold the server to serving exactly that.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { IncomingMessage } from "node:http";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { api, startServer, type TestServer } from "../integration/harness.js";

/** The compiled test lives in dist/tests/clients/. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SCRIPT = "tests/clients/nio_login.py";

/**
 * The first interpreter that can import nio. `python3` on PATH may be a pyenv build without
 * Debian's dist-packages (as on the dev machine), so /usr/bin/python3 is tried too.
 */
function findPython(): string {
  const candidates = [process.env.SLUICE_PYTHON, "python3", "/usr/bin/python3"].filter((c): c is string => !!c);
  for (const c of candidates) {
    if (spawnSync(c, ["-c", "import nio"], { stdio: "ignore" }).status === 0) return c;
  }
  throw new Error(`no Python with matrix-nio among ${candidates.join(", ")}: apt-get install python3-matrix-nio (or set SLUICE_PYTHON)`);
}

interface NioLine {
  stage: "logged_in" | "done";
  [key: string]: unknown;
}

interface SeenRequest {
  method: string;
  url: string;
  hasAuthorizationHeader: boolean;
}

describe("matrix-nio against Sluice", () => {
  let server: TestServer;
  const seen: SeenRequest[] = [];

  before(async () => {
    server = await startServer();
    // Observe raw requests (path, query, headers) without touching the app.
    server.app.http.server.on("request", (req: IncomingMessage) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", hasAuthorizationHeader: req.headers.authorization !== undefined });
    });
  });
  after(async () => {
    await server?.close();
  });

  it("registers, logs in, lists devices, sets the display name and logs out", { timeout: 60_000 }, async () => {
    const python = findPython();
    const user = "nina";
    const userId = "@nina:test.local";
    const password = "nio correct horse";
    const child = spawn(python, [SCRIPT, server.baseUrl, user, password, "--pause-before-logout"], {
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on("close", (code) => res(code)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 50_000);

    let midway: { devices: Record<string, unknown>[]; displayname: unknown } | null = null;
    let summary: Record<string, unknown> | null = null;
    let registerToken = "";
    try {
      for await (const raw of createInterface({ input: child.stdout })) {
        let line: NioLine;
        try {
          line = JSON.parse(raw) as NioLine;
        } catch {
          assert.fail(`nio script printed a non-JSON line: ${raw}\nstderr:\n${stderr}`);
        }
        if (line.stage === "logged_in") {
          // nio's login device exists now, as the server itself reports it.
          assert.equal(typeof line.register_access_token, "string", `registration failed: ${raw}`);
          registerToken = line.register_access_token as string;
          const devices = await api<{ devices: Record<string, unknown>[] }>(server.baseUrl, "GET", "/_matrix/client/v3/devices", { token: registerToken });
          assert.equal(devices.status, 200);
          const name = await api(server.baseUrl, "GET", `/_matrix/client/v3/profile/${encodeURIComponent(userId)}/displayname`);
          midway = { devices: devices.body.devices, displayname: name.body.displayname };
          assert.ok(
            midway.devices.some((d) => d.device_id === line.device_id && d.display_name === "nio login"),
            `login device ${String(line.device_id)} missing from ${JSON.stringify(midway.devices)}`,
          );
          child.stdin.write("continue\n");
        } else {
          summary = line;
        }
      }
    } finally {
      clearTimeout(killer);
      child.stdin.end();
    }
    const code = await exited;
    assert.equal(code, 0, `nio script exited with ${code}\nstderr:\n${stderr}`);
    assert.ok(midway, `the script never reached the logged-in stage; stderr:\n${stderr}`);
    assert.ok(summary, "no summary line");

    // What nio saw.
    const register = summary.register as { ok: boolean; user_id: string; device_id: string };
    assert.deepEqual({ ok: register.ok, user_id: register.user_id }, { ok: true, user_id: userId }, JSON.stringify(summary.register));
    assert.deepEqual(summary.register_whoami, { user_id: userId });
    const login = summary.login as { ok: boolean; user_id: string; device_id: string };
    assert.deepEqual({ ok: login.ok, user_id: login.user_id }, { ok: true, user_id: userId }, JSON.stringify(summary.login));
    assert.notEqual(login.device_id, register.device_id);
    assert.deepEqual(summary.whoami, { user_id: userId });
    const nioDevices = summary.devices as { device_id: string; display_name: string }[];
    assert.ok(Array.isArray(nioDevices), `nio could not parse GET /devices: ${JSON.stringify(summary.devices)}`);
    assert.deepEqual(
      [...nioDevices].sort((a, b) => a.device_id.localeCompare(b.device_id)),
      [
        { device_id: register.device_id, display_name: "nio register" },
        { device_id: login.device_id, display_name: "nio login" },
      ].sort((a, b) => a.device_id.localeCompare(b.device_id)),
    );
    assert.deepEqual(summary.set_displayname, { ok: true });
    assert.equal(summary.displayname, "Nio Person");
    assert.deepEqual(summary.logout, { ok: true });
    assert.equal((summary.whoami_after_logout as { errcode?: string }).errcode, "M_UNKNOWN_TOKEN");

    // What the server holds: the display name stuck (seen mid-run), the logged-out device is gone.
    assert.equal(midway.displayname, "Nio Person");
    assert.deepEqual(
      midway.devices.map((d) => d.device_id).sort(),
      [register.device_id, login.device_id].sort(),
    );
    const afterLogout = await api<{ devices: { device_id: string; display_name?: string }[] }>(server.baseUrl, "GET", "/_matrix/client/v3/devices", {
      token: registerToken,
    });
    assert.equal(afterLogout.status, 200);
    assert.deepEqual(afterLogout.body.devices.map((d) => [d.device_id, d.display_name]), [[register.device_id, "nio register"]]);

    // How nio spoke: r0 paths, token in the query string, never an Authorization header.
    const nio = seen.filter((r) => r.url.startsWith("/_matrix/client/r0/"));
    // Paths compared decoded: nio leaves "@" and ":" unescaped in path segments (RFC 3986 allows it).
    const routes = nio.map((r) => `${r.method} ${decodeURIComponent(r.url.replace(/\?.*$/, ""))}`);
    for (const expected of [
      "POST /_matrix/client/r0/register",
      "POST /_matrix/client/r0/login",
      "GET /_matrix/client/r0/account/whoami",
      "GET /_matrix/client/r0/devices",
      `PUT /_matrix/client/r0/profile/${userId}/displayname`,
      "POST /_matrix/client/r0/logout",
    ]) {
      assert.ok(routes.includes(expected), `nio never sent ${expected}; saw ${JSON.stringify(routes)}`);
    }
    assert.ok(nio.every((r) => !r.hasAuthorizationHeader));
    const authed = nio.filter((r) => !/\/(register|login)$/.test(r.url.replace(/\?.*$/, "")));
    assert.ok(authed.length >= 5);
    assert.ok(authed.every((r) => /[?&]access_token=/.test(r.url)), `authenticated nio requests without ?access_token=: ${JSON.stringify(authed)}`);
  });
});
