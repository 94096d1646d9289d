/**
 * Cross-cutting HTTP behaviour over real sockets: body parsing and its errcodes, 404/405
 * M_UNRECOGNIZED, body size limit, error body shape, CORS, /metrics labels, request logs
 * without access tokens, and graceful shutdown.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { pino } from "pino";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { ORIGIN } from "../../src/streams/position.js";

const V3 = "/_matrix/client/v3";

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

/**
 * A request through node:http, so the test controls exactly which headers are sent (fetch
 * always adds a content-type to string bodies). `chunks` are written one after another;
 * without content-length the body goes chunked.
 */
function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; chunks?: (string | Buffer)[] } = {},
): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: opts.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => {
        const text = Buffer.concat(parts).toString("utf8");
        let json: Record<string, unknown> = {};
        try {
          json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          json = { raw: text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    // A server that refuses an oversized body answers and closes while the client may still
    // be writing; the write then fails (EPIPE/ECONNRESET) although the answer arrives. Give
    // the answer a moment before treating such an error as the outcome.
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE" || err.code === "ECONNRESET") setTimeout(() => reject(err), 200);
      else reject(err);
    });
    for (const c of opts.chunks ?? []) req.write(c);
    req.end();
  });
}

function assertErrorBody(body: Record<string, unknown>, errcode: string, what: string): void {
  assert.equal(body.errcode, errcode, `${what}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, "string", `${what}: error must be a string: ${JSON.stringify(body)}`);
  assert.ok((body.error as string).length > 0, `${what}: empty error message`);
}

describe("HTTP behaviour", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice", "alice-password");
  });
  after(async () => {
    await server.close();
  });

  const loginBody = () => ({ type: "m.login.password", identifier: { type: "m.id.user", user: "alice" }, password: "alice-password" });

  describe("request bodies", () => {
    it("invalid JSON → 400 M_NOT_JSON", async () => {
      for (const body of ["{not json", "{\"type\": ", "'single'", "undefined", "{\"a\":1}garbage"]) {
        const res = await api(base, "POST", `${V3}/login`, { body });
        assert.equal(res.status, 400, `${body}: ${JSON.stringify(res.body)}`);
        assertErrorBody(res.body, "M_NOT_JSON", body);
      }
    });

    it("invalid JSON on an authenticated PUT → 400 M_NOT_JSON", async () => {
      const res = await api(base, "PUT", `${V3}/devices/${alice.deviceId}`, { token: alice.accessToken, body: "{\"display_name\": nope}" });
      assert.equal(res.status, 400);
      assertErrorBody(res.body, "M_NOT_JSON", "PUT device");
    });

    it("JSON of the wrong shape → 400 M_BAD_JSON", async () => {
      for (const body of [{ type: 5 }, { identifier: { type: "m.id.user", user: "alice" } }, { type: "m.login.password", password: 12345 }]) {
        const res = await api(base, "POST", `${V3}/login`, { body });
        assert.equal(res.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assertErrorBody(res.body, "M_BAD_JSON", JSON.stringify(body));
      }
    });

    it("a JSON array, string, number or null body → 400 M_BAD_JSON", async () => {
      for (const body of ["[]", "[1,2,3]", "\"a string\"", "42", "null", "true"]) {
        const login = await api(base, "POST", `${V3}/login`, { body });
        assert.equal(login.status, 400, `login ${body}: ${JSON.stringify(login.body)}`);
        assertErrorBody(login.body, "M_BAD_JSON", `login ${body}`);
        const put = await api(base, "PUT", `${V3}/devices/${alice.deviceId}`, { token: alice.accessToken, body });
        assert.equal(put.status, 400, `PUT device ${body}: ${JSON.stringify(put.body)}`);
        assertErrorBody(put.body, "M_BAD_JSON", `PUT device ${body}`);
      }
    });

    it("a body without content-type is parsed as JSON", async () => {
      const body = JSON.stringify(loginBody());
      const res = await rawRequest(base, "POST", `${V3}/login`, { headers: { "content-length": String(Buffer.byteLength(body)) }, chunks: [body] });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.user_id, alice.userId);
      assert.equal(typeof res.json.access_token, "string");
    });

    it("a JSON body sent as text/plain or form content-type is parsed as JSON", async () => {
      for (const ct of ["text/plain;charset=UTF-8", "application/x-www-form-urlencoded"]) {
        const res = await api(base, "POST", `${V3}/login`, { body: JSON.stringify(loginBody()), headers: { "content-type": ct } });
        assert.equal(res.status, 200, `${ct}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.user_id, alice.userId);
      }
    });

    it("an empty body on POST /logout works (no content-type, and application/json with no bytes)", async () => {
      const t1 = (await api<{ access_token: string }>(base, "POST", `${V3}/login`, { body: loginBody() })).body.access_token;
      const t2 = (await api<{ access_token: string }>(base, "POST", `${V3}/login`, { body: loginBody() })).body.access_token;
      const r1 = await rawRequest(base, "POST", `${V3}/logout`, { headers: { authorization: `Bearer ${t1}` } });
      assert.equal(r1.status, 200, r1.text);
      assert.deepEqual(r1.json, {});
      const r2 = await rawRequest(base, "POST", `${V3}/logout`, {
        headers: { authorization: `Bearer ${t2}`, "content-type": "application/json", "content-length": "0" },
      });
      assert.equal(r2.status, 200, r2.text);
      assert.deepEqual(r2.json, {});
      for (const t of [t1, t2]) {
        const who = await api(base, "GET", `${V3}/account/whoami`, { token: t });
        assert.equal(who.status, 401);
        assert.equal(who.body.errcode, "M_UNKNOWN_TOKEN");
      }
    });
  });

  describe("unknown endpoints and wrong methods", () => {
    it("unknown endpoint → 404 M_UNRECOGNIZED, under the client API and elsewhere", async () => {
      const cases: [string, string][] = [
        ["GET", `${V3}/no/such/endpoint`],
        ["POST", `${V3}/no_such_endpoint`],
        ["GET", "/_matrix/client/r0/no_such_endpoint"],
        ["GET", `${V3}/account/whoami/extra`],
        ["GET", "/_matrix/client/v99/versions"],
        ["GET", "/_matrix/federation/v1/version"],
        ["GET", "/"],
        ["GET", "/definitely/not/here"],
        ["PUT", "/favicon.ico"],
      ];
      for (const [method, path] of cases) {
        const res = await api(base, method, path, method === "GET" ? {} : { body: {} });
        assert.equal(res.status, 404, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assertErrorBody(res.body, "M_UNRECOGNIZED", `${method} ${path}`);
      }
    });

    it("known path with a wrong method → 405 M_UNRECOGNIZED", async () => {
      const cases: [string, string][] = [
        ["DELETE", `${V3}/login`],
        ["DELETE", "/_matrix/client/r0/login"],
        ["PUT", `${V3}/login`],
        ["POST", `${V3}/account/whoami`],
        ["PATCH", `${V3}/devices/SOMEDEVICE`],
        ["POST", "/_matrix/client/versions"],
        ["GET", `${V3}/logout`],
      ];
      for (const [method, path] of cases) {
        const res = await api(base, method, path, { token: alice.accessToken });
        assert.equal(res.status, 405, `${method} ${path}: ${JSON.stringify(res.body)}`);
        assertErrorBody(res.body, "M_UNRECOGNIZED", `${method} ${path}`);
      }
    });

    it("an unknown endpoint is 404 M_UNRECOGNIZED even with a non-JSON body (e.g. an upload)", async () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
      const res = await rawRequest(base, "POST", "/_matrix/media/v3/upload?filename=a.png", {
        headers: { "content-type": "image/png", "content-length": String(png.length), authorization: `Bearer ${alice.accessToken}` },
        chunks: [png],
      });
      assert.equal(res.status, 404, res.text);
      assertErrorBody(res.json, "M_UNRECOGNIZED", "upload to an unknown endpoint");
      const text = await api(base, "PUT", `${V3}/no_such_endpoint`, { body: "not json at all" });
      assert.equal(text.status, 404, JSON.stringify(text.body));
      assertErrorBody(text.body, "M_UNRECOGNIZED", "PUT text to an unknown endpoint");
    });

    it("a wrong method is 405 M_UNRECOGNIZED even with a non-JSON body", async () => {
      const res = await api(base, "DELETE", `${V3}/login`, { body: "{" });
      assert.equal(res.status, 405, JSON.stringify(res.body));
      assertErrorBody(res.body, "M_UNRECOGNIZED", "DELETE /login with a non-JSON body");
    });

    it("a malformed percent-encoding in the path → 400 M_UNKNOWN with a Matrix error body", async () => {
      const res = await api(base, "GET", `${V3}/devices/%ZZbad`, { token: alice.accessToken });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assertErrorBody(res.body, "M_UNKNOWN", "bad percent-encoding");
    });

    it("a path parameter over the router's length limit → 414 M_UNKNOWN with a Matrix error body", async () => {
      const res = await api(base, "GET", `${V3}/devices/${"D".repeat(3000)}`, { token: alice.accessToken });
      assert.equal(res.status, 414, JSON.stringify(res.body).slice(0, 200));
      assertErrorBody(res.body, "M_UNKNOWN", "over-long parameter");
    });
  });

  describe("error bodies", () => {
    it("every error has string errcode and error", async () => {
      const cases: { what: string; method: string; path: string; opts?: Parameters<typeof api>[3]; status: number; errcode: string }[] = [
        { what: "missing token", method: "GET", path: `${V3}/account/whoami`, status: 401, errcode: "M_MISSING_TOKEN" },
        { what: "unknown token", method: "GET", path: `${V3}/account/whoami`, opts: { token: "nope" }, status: 401, errcode: "M_UNKNOWN_TOKEN" },
        { what: "malformed auth header", method: "GET", path: `${V3}/account/whoami`, opts: { headers: { authorization: "Basic abc" } }, status: 401, errcode: "M_UNKNOWN_TOKEN" },
        { what: "not json", method: "POST", path: `${V3}/login`, opts: { body: "{" }, status: 400, errcode: "M_NOT_JSON" },
        { what: "bad json", method: "POST", path: `${V3}/login`, opts: { body: [] }, status: 400, errcode: "M_BAD_JSON" },
        { what: "wrong password", method: "POST", path: `${V3}/login`, opts: { body: { ...loginBody(), password: "wrong" } }, status: 403, errcode: "M_FORBIDDEN" },
        { what: "unknown login type", method: "POST", path: `${V3}/login`, opts: { body: { type: "m.login.nope" } }, status: 400, errcode: "M_UNKNOWN" },
        { what: "not found", method: "GET", path: `${V3}/devices/NOPE`, opts: { token: alice.accessToken }, status: 404, errcode: "M_NOT_FOUND" },
        { what: "bad user id", method: "GET", path: `${V3}/profile/nobody`, status: 400, errcode: "M_INVALID_PARAM" },
        { what: "unknown endpoint", method: "GET", path: `${V3}/nope`, status: 404, errcode: "M_UNRECOGNIZED" },
        { what: "wrong method", method: "DELETE", path: `${V3}/login`, status: 405, errcode: "M_UNRECOGNIZED" },
      ];
      for (const c of cases) {
        const res = await api(base, c.method, c.path, c.opts ?? {});
        assert.equal(res.status, c.status, `${c.what}: ${JSON.stringify(res.body)}`);
        assertErrorBody(res.body, c.errcode, c.what);
        assert.ok(res.headers.get("content-type")?.startsWith("application/json"), `${c.what}: content-type ${res.headers.get("content-type")}`);
      }
    });
  });

  describe("CORS", () => {
    it("normal responses carry Access-Control-Allow-Origin: * (with and without an Origin header, errors too)", async () => {
      const cases: [string, string, Record<string, string>][] = [
        ["GET", "/_matrix/client/versions", {}],
        ["GET", "/_matrix/client/versions", { origin: "https://app.example.org" }],
        ["GET", `${V3}/account/whoami`, { origin: "https://app.example.org", authorization: `Bearer ${alice.accessToken}` }],
        ["GET", `${V3}/account/whoami`, { origin: "https://app.example.org" }],
        ["GET", `${V3}/no_such_endpoint`, { origin: "https://app.example.org" }],
      ];
      for (const [method, path, headers] of cases) {
        const res = await api(base, method, path, { headers });
        assert.equal(res.headers.get("access-control-allow-origin"), "*", `${method} ${path} (${res.status}) ${JSON.stringify(headers)}`);
      }
    });

    for (const [label, path] of [
      ["a client API path", `${V3}/login`],
      ["a client API path with a parameter", `${V3}/devices/SOMEDEVICE`],
      ["an unknown path", `${V3}/no/such/endpoint`],
    ] as const) {
      it(`OPTIONS preflight on ${label} answers 2xx with the allowed methods and headers`, async () => {
        const res = await fetch(base + path, {
          method: "OPTIONS",
          headers: {
            origin: "https://app.example.org",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,content-type",
          },
        });
        await res.arrayBuffer();
        assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
        assert.equal(res.headers.get("access-control-allow-origin"), "*");
        const methods = (res.headers.get("access-control-allow-methods") ?? "").split(",").map((m) => m.trim().toUpperCase());
        for (const m of ["GET", "POST", "PUT", "DELETE", "OPTIONS"]) assert.ok(methods.includes(m), `Allow-Methods lacks ${m}: ${methods.join(",")}`);
        const allowed = (res.headers.get("access-control-allow-headers") ?? "").split(",").map((h) => h.trim().toLowerCase());
        for (const h of ["authorization", "content-type"]) assert.ok(allowed.includes(h), `Allow-Headers lacks ${h}: ${allowed.join(",")}`);
      });
    }

    it("OPTIONS without preflight headers still answers 2xx with CORS headers", async () => {
      const res = await fetch(base + `${V3}/login`, { method: "OPTIONS" });
      await res.arrayBuffer();
      assert.ok(res.status >= 200 && res.status < 300, `status ${res.status}`);
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      assert.ok(res.headers.get("access-control-allow-methods")?.includes("DELETE"));
    });
  });

  describe("GET /metrics", () => {
    it("exposes request counts labelled with the route template, and durations", async () => {
      const deviceId = "METRICSDEV4711";
      const login = await api(base, "POST", `${V3}/login`, { body: { ...loginBody(), device_id: deviceId } });
      assert.equal(login.status, 200);
      for (let i = 0; i < 3; i++) {
        const res = await api(base, "GET", `${V3}/devices/${deviceId}`, { token: alice.accessToken });
        assert.equal(res.status, 200);
      }
      const notFound = await api(base, "GET", `${V3}/devices/NOSUCHMETRICSDEV`, { token: alice.accessToken });
      assert.equal(notFound.status, 404);
      const unknown = await api(base, "GET", `${V3}/secret_unknown_path_4711`);
      assert.equal(unknown.status, 404);
      const profile = await api(base, "GET", `${V3}/profile/${encodeURIComponent(alice.userId)}`);
      assert.equal(profile.status, 200);

      const res = await fetch(base + "/metrics");
      const text = await res.text();
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);

      const counter = text.split("\n").filter((l) => l.startsWith("sluice_http_requests_total{"));
      const line = counter.find(
        (l) => l.includes('method="GET"') && l.includes('route="/_matrix/client/v3/devices/:deviceId"') && l.includes('status="200"'),
      );
      assert.ok(line, `no counter line for the device route template:\n${counter.join("\n")}`);
      assert.equal(Number(line.split(" ").pop()), 3);
      assert.ok(
        counter.some((l) => l.includes('route="/_matrix/client/v3/devices/:deviceId"') && l.includes('status="404"')),
        "404s on a known route are counted under its template",
      );
      assert.ok(counter.some((l) => l.includes('route="/_matrix/client/v3/profile/:userId"')), "profile route template");
      assert.ok(text.includes("# TYPE sluice_http_request_duration_seconds histogram"));
      assert.ok(
        text.split("\n").some((l) => l.startsWith("sluice_http_request_duration_seconds_count{") && l.includes('route="/_matrix/client/v3/devices/:deviceId"')),
        "duration histogram for the device route",
      );
      for (const concrete of [deviceId, "NOSUCHMETRICSDEV", "secret_unknown_path_4711", "@alice", "%40alice"]) {
        assert.ok(!text.includes(concrete), `metrics leak a concrete path component: ${concrete}`);
      }
      for (const l of counter) {
        const route = /route="([^"]*)"/.exec(l)?.[1] ?? "";
        assert.ok(!/devices\/[A-Z0-9]{6,}/.test(route), `concrete device id in route label: ${l}`);
      }
    });
  });
});

describe("HTTP body size limit", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ http: { maxBodyBytes: 2048 } });
  });
  after(async () => {
    await server.close();
  });

  it("a body over http.maxBodyBytes → 413 M_TOO_LARGE (with content-length)", async () => {
    const body = JSON.stringify({ type: "m.login.password", user: "alice", password: "x".repeat(3000) });
    const res = await api(server.baseUrl, "POST", `${V3}/login`, { body });
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assertErrorBody(res.body, "M_TOO_LARGE", "413");
  });

  it("a chunked body over the limit → 413 M_TOO_LARGE", async () => {
    const chunk = JSON.stringify({ type: "m.login.password", user: "alice", password: "y".repeat(3000) });
    const res = await rawRequest(server.baseUrl, "POST", `${V3}/login`, {
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      chunks: [chunk.slice(0, 1200), chunk.slice(1200, 2400), chunk.slice(2400)],
    });
    assert.equal(res.status, 413, res.text);
    assertErrorBody(res.json, "M_TOO_LARGE", "413 chunked");
  });

  it("a body just under the limit is accepted", async () => {
    const user = await registerUser(server.baseUrl, "small");
    const head = JSON.stringify({ display_name: "z".repeat(500), "org.example.pad": "" });
    const body = head.replace('"org.example.pad":""', `"org.example.pad":"${"p".repeat(2040 - Buffer.byteLength(head))}"`);
    assert.equal(Buffer.byteLength(body), 2040);
    const res = await api(server.baseUrl, "PUT", `${V3}/devices/${user.deviceId}`, { token: user.accessToken, body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});

describe("HTTP with metrics disabled", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ metrics: { enabled: false } });
  });
  after(async () => {
    await server.close();
  });

  it("GET /metrics → 404 M_UNRECOGNIZED", async () => {
    const res = await api(server.baseUrl, "GET", "/metrics");
    assert.equal(res.status, 404);
    assertErrorBody(res.body, "M_UNRECOGNIZED", "/metrics");
    const versions = await api(server.baseUrl, "GET", "/_matrix/client/versions");
    assert.equal(versions.status, 200);
  });
});

describe("HTTP request logging", () => {
  let server: TestServer;
  const lines: string[] = [];

  before(async () => {
    const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(s) });
    server = await startServer({}, { logger });
  });
  after(async () => {
    await server.close();
  });

  it("logs one request line per request with status and ms, and never an access token or password", async () => {
    const user = await registerUser(server.baseUrl, "logger", "hunter2-password-secret");
    const token = user.accessToken;
    const wrongToken = "syt_WRONGSECRETTOKEN_0123456789";
    const start = lines.length;

    const viaQuery = await api(server.baseUrl, "GET", `${V3}/account/whoami?access_token=${encodeURIComponent(token)}&x=1`);
    assert.equal(viaQuery.status, 200);
    const viaHeader = await api(server.baseUrl, "GET", `${V3}/account/whoami`, { token });
    assert.equal(viaHeader.status, 200);
    const wrongQuery = await api(server.baseUrl, "GET", `${V3}/account/whoami?access_token=${wrongToken}`);
    assert.equal(wrongQuery.status, 401);
    const wrongHeader = await api(server.baseUrl, "GET", `${V3}/devices`, { token: wrongToken });
    assert.equal(wrongHeader.status, 401);
    const login = await api<{ access_token: string }>(server.baseUrl, "POST", `${V3}/login`, {
      body: { type: "m.login.password", user: "logger", password: "hunter2-password-secret" },
    });
    assert.equal(login.status, 200);

    const mine = lines.slice(start).map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = mine.filter((l) => l.msg === "request");
    assert.equal(requests.length, 5, `expected 5 request lines, got:\n${lines.slice(start).join("")}`);
    const expected: [string, string, number][] = [
      ["GET", "/_matrix/client/v3/account/whoami?access_token=", 200],
      ["GET", "/_matrix/client/v3/account/whoami", 200],
      ["GET", "/_matrix/client/v3/account/whoami?access_token=", 401],
      ["GET", "/_matrix/client/v3/devices", 401],
      ["POST", "/_matrix/client/v3/login", 200],
    ];
    expected.forEach(([method, urlPrefix, status], i) => {
      const l = requests[i]!;
      assert.equal(l.method, method);
      assert.ok(typeof l.url === "string" && l.url.startsWith(urlPrefix), `line ${i}: url ${String(l.url)}`);
      assert.equal(l.status, status, `line ${i}`);
      assert.equal(typeof l.ms, "number", `line ${i}: ms`);
      assert.ok((l.ms as number) >= 0);
    });

    const all = lines.join("");
    for (const secret of [token, wrongToken, login.body.access_token, "hunter2-password-secret"]) {
      assert.ok(!all.includes(secret), `logs contain a secret: ${secret.slice(0, 8)}…`);
    }
  });
});

describe("graceful shutdown", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  it("wakes parked waiters with 'shutdown', answers a request in flight, then stops", async () => {
    const { app, baseUrl } = server;
    const user = await registerUser(baseUrl, "leaver", "leaver-password");
    const waiter = app.services.notifier.waitForChange({ userId: user.userId }, ORIGIN, { timeoutMs: 120_000 });

    // A login whose body is only half sent when close() starts.
    const body = JSON.stringify({ type: "m.login.password", user: "leaver", password: "leaver-password" });
    const url = new URL(baseUrl);
    const arrived = new Promise<void>((resolve) => app.http.server.once("request", () => resolve()));
    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        { host: url.hostname, port: url.port, method: "POST", path: `${V3}/login`, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      void arrived.then(() => {
        setTimeout(() => req.end(body.slice(10)), 150); // finish the body once close() is under way
      });
    });
    await arrived;

    const closing = app.close();
    let timer: NodeJS.Timeout | undefined;
    const woke = await Promise.race([
      waiter.done,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("waiter not woken by close()")), 5000))),
    ]).finally(() => clearTimeout(timer));
    assert.equal(woke.reason, "shutdown");

    const res = await response;
    assert.equal(res.status, 200, res.text);
    assert.equal((JSON.parse(res.text) as { user_id: string }).user_id, user.userId);
    // The answered request's keep-alive socket (Node's default agent keeps it open) must not
    // hold close() open until the client or the server's keep-alive timeout drops it.
    const answeredAt = Date.now();
    await closing;
    assert.ok(Date.now() - answeredAt < 2000, `close() took ${Date.now() - answeredAt} ms after the last response`);

    // A waiter parked after shutdown resolves at once.
    const late = await app.services.notifier.waitForChange({ userId: user.userId }, ORIGIN, { timeoutMs: 120_000 }).done;
    assert.equal(late.reason, "shutdown");
    // And the server no longer accepts connections.
    await assert.rejects(fetch(baseUrl + "/_matrix/client/versions"));
  });
});
