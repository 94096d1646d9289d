/**
 * matrix-nio (Python, Debian's python3-matrix-nio) syncing against a real Sluice server.
 * tests/clients/nio_sync.py restores a session and runs nio's `sync_forever` over
 * /_matrix/client/r0/sync (token in ?access_token=, long-polls with an inline filter); this
 * side sends messages as another user over HTTP, invites the nio user to a second room (the
 * script joins it with nio's `join`) and checks, from the JSON lines the script prints, that
 * nio received every message exactly once and in order, joined, and holds the right rooms.
 * The raw requests are recorded to hold the server to nio's way of speaking.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { IncomingMessage } from "node:http";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { api, registerUser, startServer, type TestServer, type TestUser } from "../integration/harness.js";

/** The compiled test lives in dist/tests/clients/. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const SCRIPT = "tests/clients/nio_sync.py";
/** Upper bound of a single wait for something nio should report (a slow shared machine). */
const WAIT_MS = 90_000;

/** The first interpreter that can import nio (`python3` on PATH may be a pyenv build without Debian's packages). */
function findPython(): string {
  const candidates = [process.env.SLUICE_PYTHON, "python3", "/usr/bin/python3"].filter((c): c is string => !!c);
  for (const c of candidates) {
    if (spawnSync(c, ["-c", "import nio"], { stdio: "ignore" }).status === 0) return c;
  }
  throw new Error(`no Python with matrix-nio among ${candidates.join(", ")}: apt-get install python3-matrix-nio (or set SLUICE_PYTHON)`);
}

interface NioLine {
  event: "synced" | "message" | "invited" | "joined" | "state" | "done";
  [key: string]: unknown;
}

interface NioRoomView {
  display_name: string;
  name: string | null;
  topic: string | null;
  users: string[];
  joined_count: number;
  invited_count: number;
  member_count: number;
}

/** The running script: its parsed stdout lines, stderr, and a way to wait for a line. */
class NioProcess {
  readonly lines: NioLine[] = [];
  stderr = "";
  private exitCode: number | null | undefined;
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    createInterface({ input: child.stdout }).on("line", (raw) => {
      try {
        this.lines.push(JSON.parse(raw) as NioLine);
      } catch {
        this.stderr += `\n[non-JSON stdout line] ${raw}`;
      }
    });
    this.exited = new Promise((res) =>
      child.on("close", (code) => {
        this.exitCode = code;
        res(code);
      }),
    );
  }

  /** The first line (at index >= from) matching `match`; fails after WAIT_MS or if the script exits first. */
  async waitLine(what: string, match: (l: NioLine) => boolean, from = 0): Promise<NioLine> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.lines.slice(from).find(match);
      if (found) return found;
      if (this.exitCode !== undefined) assert.fail(`nio script exited (${this.exitCode}) before ${what}\nlines: ${JSON.stringify(this.lines)}\nstderr:\n${this.stderr}`);
      if (Date.now() > deadline) assert.fail(`timed out after ${WAIT_MS} ms waiting for nio: ${what}\nlines: ${JSON.stringify(this.lines)}\nstderr:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  command(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  messages(roomId?: string): NioLine[] {
    return this.lines.filter((l) => l.event === "message" && (roomId === undefined || l.room_id === roomId));
  }
}

interface SeenRequest {
  method: string;
  url: string;
  hasAuthorizationHeader: boolean;
}

describe("matrix-nio: a sync loop over /r0", () => {
  let server: TestServer;
  let alice: TestUser;
  let nina: TestUser;
  let nio: NioProcess | undefined;
  const seen: SeenRequest[] = [];

  async function sendText(roomId: string, body: string, txn: string): Promise<string> {
    const res = await api<{ event_id: string }>(server.baseUrl, "PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, {
      token: alice.accessToken,
      body: { msgtype: "m.text", body },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id;
  }

  async function createRoom(body: Record<string, unknown>): Promise<string> {
    const res = await api<{ room_id: string }>(server.baseUrl, "POST", "/_matrix/client/v3/createRoom", { token: alice.accessToken, body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.room_id;
  }

  before(async () => {
    server = await startServer();
    server.app.http.server.on("request", (req: IncomingMessage) => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", hasAuthorizationHeader: req.headers.authorization !== undefined });
    });
    alice = await registerUser(server.baseUrl, "alice");
    nina = await registerUser(server.baseUrl, "nina");
  });
  after(async () => {
    if (nio && nio.child.exitCode === null) nio.child.kill("SIGKILL");
    await server?.close();
  });

  it("receives messages live, joins a room it is invited to, and receives a message there", async () => {
    // A room nina is already in, with history the initial sync must carry.
    const roomA = await createRoom({ name: "Nio room", topic: "synced by nio", preset: "private_chat", invite: [nina.userId] });
    const join = await api(server.baseUrl, "POST", `/_matrix/client/v3/join/${encodeURIComponent(roomA)}`, { token: nina.accessToken, body: {} });
    assert.equal(join.status, 200, JSON.stringify(join.body));
    const before1 = await sendText(roomA, "before 1", "b1");
    const before2 = await sendText(roomA, "before 2", "b2");

    const python = findPython();
    nio = new NioProcess(spawn(python, [SCRIPT, server.baseUrl, nina.userId, nina.deviceId, nina.accessToken], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] }));

    // 1. The initial sync: the room and its recent messages.
    const synced = await nio.waitLine("the first sync", (l) => l.event === "synced");
    assert.deepEqual(synced.rooms, [roomA]);
    assert.deepEqual(synced.invited, []);
    assert.equal(typeof synced.next_batch, "string");
    assert.deepEqual(
      nio.messages(roomA).map((m) => [m.event_id, m.sender, m.body]),
      [
        [before1, alice.userId, "before 1"],
        [before2, alice.userId, "before 2"],
      ],
    );

    // 2. Live messages, one at a time and then a burst, each received once and in order.
    const live: string[] = [before1, before2];
    for (let i = 0; i < 3; i++) {
      const id = await sendText(roomA, `live ${i}`, `l${i}`);
      live.push(id);
      await nio.waitLine(`live message ${i}`, (l) => l.event === "message" && l.event_id === id);
    }
    for (let i = 0; i < 15; i++) live.push(await sendText(roomA, `burst ${i}`, `burst${i}`));
    await nio.waitLine("the last message of the burst", (l) => l.event === "message" && l.event_id === live.at(-1));
    assert.deepEqual(
      nio.messages(roomA).map((m) => m.event_id),
      live,
      "nio received every message of the room exactly once, in order",
    );
    assert.ok(nio.messages(roomA).every((m) => m.sender === alice.userId));

    // 3. An invite to a second room: the script joins it with nio's join().
    const roomB = await createRoom({ name: "Invite room", preset: "private_chat" });
    const invite = await api(server.baseUrl, "POST", `/_matrix/client/v3/rooms/${encodeURIComponent(roomB)}/invite`, {
      token: alice.accessToken,
      body: { user_id: nina.userId },
    });
    assert.equal(invite.status, 200, JSON.stringify(invite.body));
    const invited = await nio.waitLine("the invite", (l) => l.event === "invited" && l.room_id === roomB);
    assert.equal(invited.sender, alice.userId);
    const joined = await nio.waitLine("nio's join", (l) => l.event === "joined" && l.room_id === roomB);
    assert.equal(joined.ok, true, `nio's join failed: ${String(joined.error)}`);
    const joinedRooms = await api<{ joined_rooms: string[] }>(server.baseUrl, "GET", "/_matrix/client/v3/joined_rooms", { token: nina.accessToken });
    assert.deepEqual([...joinedRooms.body.joined_rooms].sort(), [roomA, roomB].sort(), "the server has nina in both rooms");

    // 4. A message in the joined room arrives.
    const welcome = await sendText(roomB, "welcome to the invite room", "w1");
    const got = await nio.waitLine("the message in the joined room", (l) => l.event === "message" && l.event_id === welcome);
    assert.equal(got.room_id, roomB);
    assert.equal(got.sender, alice.userId);
    assert.equal(got.body, "welcome to the invite room");
    assert.deepEqual(nio.messages(roomB).map((m) => m.event_id), [welcome]);

    // 5. What nio holds about its rooms.
    const mark = nio.lines.length;
    nio.command("state");
    const state = await nio.waitLine("nio's room state", (l) => l.event === "state", mark);
    const rooms = state.rooms as Record<string, NioRoomView>;
    assert.deepEqual(Object.keys(rooms).sort(), [roomA, roomB].sort());
    assert.deepEqual(state.invited, [], "the invite is gone once joined");
    assert.equal(rooms[roomA]!.display_name, "Nio room");
    assert.equal(rooms[roomA]!.topic, "synced by nio");
    assert.equal(rooms[roomB]!.display_name, "Invite room");
    for (const id of [roomA, roomB]) {
      assert.deepEqual(rooms[id]!.users, [alice.userId, nina.userId].sort(), `members of ${id} as nio sees them`);
      assert.equal(rooms[id]!.joined_count, 2);
      assert.equal(rooms[id]!.invited_count, 0);
    }

    // 6. Stop: no sync ever failed.
    nio.command("stop");
    const done = await nio.waitLine("the script's end", (l) => l.event === "done");
    const code = await nio.exited;
    assert.equal(code, 0, `nio script exited with ${code}\nstderr:\n${nio.stderr}`);
    assert.deepEqual(done.errors, [], "nio saw sync errors");
    assert.ok((done.syncs as number) >= 3, `nio synced ${String(done.syncs)} times`);

    // How nio synced: GET r0/sync with the token in the query string, never an Authorization
    // header; an initial sync, then long-polls continuing from the previous next_batch.
    const syncs = seen.filter((r) => r.url.startsWith("/_matrix/client/r0/sync"));
    assert.ok(syncs.length >= 3, `nio's /r0/sync requests: ${JSON.stringify(syncs)}`);
    assert.ok(syncs.every((r) => r.method === "GET" && !r.hasAuthorizationHeader && /[?&]access_token=/.test(r.url)));
    const params = syncs.map((r) => new URL(r.url, "http://x").searchParams);
    assert.equal(params[0]!.get("since"), null, "the first sync is an initial sync");
    assert.equal(params[0]!.get("full_state"), "true");
    for (const p of params.slice(1)) {
      assert.ok(p.get("since"), "later syncs carry since");
      assert.equal(p.get("timeout"), "30000");
      assert.deepEqual(JSON.parse(p.get("filter") ?? "null"), { room: { timeline: { limit: 20 } } });
    }
    assert.ok(seen.some((r) => r.method === "POST" && decodeURIComponent(r.url.replace(/\?.*$/, "")) === `/_matrix/client/r0/join/${roomB}`), "nio joined over /r0/join");
  });
});
