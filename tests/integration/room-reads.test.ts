/**
 * The room read APIs over real HTTP (issue 4): /messages, /context, /event, /relations,
 * /timestamp_to_event, /state, /members, /joined_members. Rooms are built through the real
 * write endpoints; every 200 is checked against the spec's OpenAPI documents, and full
 * pagination runs are compared with the room's events as storage holds them.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type ApiResponse, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, createRoom, enc, joinRoom, putState, roomAction, roomEvents, sendMessage } from "./room-helpers.js";

const V1 = "/_matrix/client/v1";

interface Ev {
  event_id: string;
  type: string;
  sender: string;
  state_key?: string;
  origin_server_ts: number;
  content: Record<string, unknown>;
  unsigned?: Record<string, unknown>;
}
interface MessagesBody {
  start: string;
  end?: string;
  chunk: Ev[];
  state?: Ev[];
  errcode?: string;
}
interface ContextBody {
  start: string;
  end: string;
  events_before: Ev[];
  event: Ev;
  events_after: Ev[];
  state: Ev[];
  errcode?: string;
}
interface RelationsBody {
  chunk: Ev[];
  next_batch?: string;
  prev_batch?: string;
  recursion_depth?: number;
  errcode?: string;
}

const ids = (events: readonly Ev[]) => events.map((e) => e.event_id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

describe("room reads", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let eve: TestUser;

  const get = <T = Record<string, unknown>>(user: TestUser | null, path: string): Promise<ApiResponse<T>> =>
    api<T>(base, "GET", path, user ? { token: user.accessToken } : {});

  async function messages(user: TestUser, roomId: string, params: Record<string, string | number | undefined>): Promise<ApiResponse<MessagesBody>> {
    const res = await get<MessagesBody>(user, `${V3}/rooms/${enc(roomId)}/messages${query(params)}`);
    if (res.status === 200) await assertMatchesSpec("message_pagination.yaml", "/rooms/{roomId}/messages", "get", 200, res.body);
    return res;
  }

  /** Pages through /messages until `end` is absent; asserts every page is full except the last. */
  async function paginate(user: TestUser, roomId: string, dir: "b" | "f", limit: number, extra: Record<string, string> = {}): Promise<{ events: Ev[]; pages: MessagesBody[] }> {
    const events: Ev[] = [];
    const pages: MessagesBody[] = [];
    let from: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const res = await messages(user, roomId, { dir, limit, from, ...extra });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      if (from !== undefined) assert.equal(res.body.start, from, "start echoes from");
      pages.push(res.body);
      events.push(...res.body.chunk);
      if (res.body.end === undefined) return { events, pages };
      assert.equal(res.body.chunk.length, limit, "only the last page may be short");
      from = res.body.end;
    }
    throw new Error("pagination did not end");
  }

  async function send(user: TestUser, roomId: string, content: Record<string, unknown>, type = "m.room.message"): Promise<string> {
    const res = await sendMessage(base, user, roomId, content, { type });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id;
  }

  const text = (body: string) => ({ msgtype: "m.text", body });

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    const users = await Promise.all(["alice", "bob", "carol", "dave", "eve"].map((n) => registerUser(base, n)));
    [alice, bob, carol, dave, eve] = users as [TestUser, TestUser, TestUser, TestUser, TestUser];
  });
  after(async () => {
    await server.close();
  });

  describe("GET /messages: pagination", () => {
    let roomId: string;
    let all: string[];

    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat", name: "Pages" });
      await joinRoom(base, bob, roomId);
      for (let i = 0; i < 55; i++) await send(i % 3 === 0 ? bob : alice, roomId, text(`m${i}`));
      all = (await roomEvents(server, roomId)).map((e) => e.eventId);
      assert.ok(all.length > 60);
    });

    it("backwards from the newest, page by page, returns every event once, newest first", async () => {
      const { events, pages } = await paginate(alice, roomId, "b", 7);
      assert.deepEqual(ids(events), [...all].reverse());
      assert.equal(new Set(ids(events)).size, events.length, "no duplicates");
      assert.ok(pages.length >= 9);
      assert.equal(pages.at(-1)!.end, undefined, "no end once the room's start is reached");
      assert.equal(events.at(-1)!.type, "m.room.create");
    });

    it("forwards from the oldest returns every event once, oldest first", async () => {
      const { events } = await paginate(bob, roomId, "f", 9);
      assert.deepEqual(ids(events), all);
    });

    it("limits that divide the history exactly still end without an empty page", async () => {
      const { events, pages } = await paginate(alice, roomId, "b", all.length);
      assert.equal(pages.length, 1);
      assert.deepEqual(ids(events), [...all].reverse());
    });

    it("the default limit is 10; limit=0 answers an empty chunk and an end token", async () => {
      const res = await messages(alice, roomId, { dir: "b" });
      assert.equal(res.body.chunk.length, 10);
      const zero = await messages(alice, roomId, { dir: "b", limit: 0 });
      assert.deepEqual(zero.body.chunk, []);
      assert.equal(typeof zero.body.end, "string");
      const huge = await messages(alice, roomId, { dir: "f", limit: 100_000 });
      assert.equal(huge.status, 200, "limits above the cap are lowered, not refused");
      assert.equal(huge.body.chunk.length, all.length);
    });

    it("a backwards page's end, paged forwards, returns that page again in order (tokens are boundaries)", async () => {
      const page = await messages(alice, roomId, { dir: "b", limit: 5 });
      const forward = await messages(alice, roomId, { dir: "f", limit: 5, from: page.body.end! });
      assert.deepEqual(ids(forward.body.chunk), ids(page.body.chunk).reverse());
      const start = await messages(alice, roomId, { dir: "b", limit: 5, from: page.body.start });
      assert.deepEqual(ids(start.body.chunk), ids(page.body.chunk), "the start token pages the same way");
    });

    it("`to` stops the page at that boundary and then omits end", async () => {
      const first = await messages(alice, roomId, { dir: "b", limit: 10 });
      const second = await messages(alice, roomId, { dir: "b", limit: 10, from: first.body.end! });
      const bounded = await messages(alice, roomId, { dir: "b", limit: 100, to: second.body.end! });
      assert.deepEqual(ids(bounded.body.chunk), [...ids(first.body.chunk), ...ids(second.body.chunk)]);
      assert.equal(bounded.body.end, undefined);
      const forward = await messages(alice, roomId, { dir: "f", limit: 100, from: second.body.end!, to: first.body.end! });
      assert.deepEqual(ids(forward.body.chunk), ids(second.body.chunk).reverse());
    });

    it("the r0 prefix serves the same API", async () => {
      const res = await get<MessagesBody>(alice, `/_matrix/client/r0/rooms/${enc(roomId)}/messages?dir=b&limit=3`);
      assert.equal(res.status, 200);
      assert.equal(res.body.chunk.length, 3);
    });

    it("refuses bad parameters: dir, tokens, limit, filter", async () => {
      const cases: [Record<string, string>, number, string][] = [
        [{}, 400, "M_MISSING_PARAM"],
        [{ dir: "x" }, 400, "M_INVALID_PARAM"],
        [{ dir: "b", from: "garbage" }, 400, "M_INVALID_PARAM"],
        [{ dir: "b", to: "x1_2_3" }, 400, "M_INVALID_PARAM"], // (sync next_batch tokens, s<pos>_<stamp>_<epoch>, are accepted)
        [{ dir: "b", limit: "-1" }, 400, "M_INVALID_PARAM"],
        [{ dir: "b", limit: "ten" }, 400, "M_INVALID_PARAM"],
        [{ dir: "b", filter: "{not json" }, 400, "M_INVALID_PARAM"],
        [{ dir: "b", filter: '{"types":"m.room.message"}' }, 400, "M_BAD_JSON"],
        [{ dir: "b", filter: "[1]" }, 400, "M_BAD_JSON"],
      ];
      for (const [params, status, errcode] of cases) {
        const res = await messages(alice, roomId, params);
        assert.equal(res.status, status, `${JSON.stringify(params)} → ${JSON.stringify(res.body)}`);
        assert.equal(res.body.errcode, errcode, JSON.stringify(params));
      }
      const noToken = await get(null, `${V3}/rooms/${enc(roomId)}/messages?dir=b`);
      assert.equal(noToken.status, 401);
      assert.equal(noToken.body.errcode, "M_MISSING_TOKEN");
      const malformed = await get(alice, `${V3}/rooms/not-a-room/messages?dir=b`);
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.errcode, "M_INVALID_PARAM");
      const unknown = await get(alice, `${V3}/rooms/${enc("!nosuchroom:test.local")}/messages?dir=b`);
      assert.equal(unknown.status, 403, "an unknown room is not told apart from one the user is not in");
      assert.equal(unknown.body.errcode, "M_FORBIDDEN");
    });
  });

  describe("GET /messages: filters and redactions", () => {
    let roomId: string;

    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      await joinRoom(base, carol, roomId);
      for (let i = 0; i < 30; i++) await send(alice, roomId, text(`filler ${i}`));
      await send(bob, roomId, text("from bob 1"));
      await send(alice, roomId, { msgtype: "m.image", body: "pic", url: "mxc://test.local/pic" });
      await send(alice, roomId, { custom: true }, "org.example.custom");
      await send(alice, roomId, { other: true }, "org.example.other");
      for (let i = 0; i < 5; i++) await send(alice, roomId, text(`more ${i}`));
      await send(bob, roomId, text("from bob 2"));
    });

    const filtered = async (filter: Record<string, unknown>, limit = 100) => {
      const res = await messages(alice, roomId, { dir: "b", limit, filter: JSON.stringify(filter) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };

    it("types, not_types and `*` wildcards", async () => {
      const custom = await filtered({ types: ["org.example.*"] });
      assert.deepEqual(custom.chunk.map((e) => e.type), ["org.example.other", "org.example.custom"]);
      const notMessages = await filtered({ not_types: ["m.room.message", "m.room.member", "org.example.other"] });
      assert.ok(notMessages.chunk.every((e) => !["m.room.message", "m.room.member", "org.example.other"].includes(e.type)));
      assert.ok(notMessages.chunk.some((e) => e.type === "org.example.custom"));
      const both = await filtered({ types: ["org.example.*"], not_types: ["org.example.other"] });
      assert.deepEqual(both.chunk.map((e) => e.type), ["org.example.custom"], "not_types wins");
    });

    it("senders and not_senders; sparse matches keep paging until the page is full", async () => {
      const bobs = await filtered({ senders: [bob.userId], types: ["m.room.message"] }, 2);
      assert.deepEqual(bobs.chunk.map((e) => e.content.body), ["from bob 2", "from bob 1"]);
      const rest = await messages(alice, roomId, { dir: "b", limit: 2, from: bobs.end!, filter: JSON.stringify({ senders: [bob.userId], types: ["m.room.message"] }) });
      assert.deepEqual(rest.body.chunk, [], "nothing older from bob");
      assert.equal(rest.body.end, undefined);
      const notAlice = await filtered({ not_senders: [alice.userId] });
      assert.ok(notAlice.chunk.length > 0 && notAlice.chunk.every((e) => e.sender !== alice.userId));
    });

    it("contains_url true and false", async () => {
      const withUrl = await filtered({ contains_url: true });
      assert.deepEqual(withUrl.chunk.map((e) => e.content.body), ["pic"]);
      const without = await filtered({ contains_url: false });
      assert.ok(without.chunk.length > 30 && without.chunk.every((e) => e.content.url === undefined));
    });

    it("lazy_load_members: state has each sender's membership once, and only the senders'", async () => {
      const page = await filtered({ lazy_load_members: true, types: ["m.room.message"] }, 8);
      const senders = new Set(page.chunk.map((e) => e.sender));
      assert.deepEqual(new Set(page.chunk.map((e) => e.sender)), new Set([alice.userId, bob.userId]));
      assert.ok(page.state);
      assert.deepEqual(new Set(page.state.map((e) => e.state_key)), senders);
      assert.equal(page.state.length, senders.size);
      assert.ok(page.state.every((e) => e.type === "m.room.member" && e.content.membership === "join"));
      assert.ok(!page.state.some((e) => e.state_key === carol.userId), "carol sent nothing");
      const plain = await filtered({ types: ["m.room.message"] }, 8);
      assert.equal(plain.state, undefined, "no state without lazy loading");
    });

    it("a redacted event is served pruned, with unsigned.redacted_because; /event agrees", async () => {
      const target = await send(alice, roomId, { msgtype: "m.text", body: "secret", "m.mentions": {} });
      const res = await api<{ event_id: string }>(base, "PUT", `${V3}/rooms/${enc(roomId)}/redact/${enc(target)}/r1`, { token: alice.accessToken, body: { reason: "oops" } });
      assert.equal(res.status, 200);
      const page = await messages(bob, roomId, { dir: "b", limit: 2 });
      const [redaction, redacted] = page.body.chunk;
      assert.equal(redaction!.type, "m.room.redaction");
      assert.equal(redacted!.event_id, target);
      assert.deepEqual(redacted!.content, {});
      const because = redacted!.unsigned?.redacted_because as Ev & { redacts?: string };
      assert.equal(because.event_id, res.body.event_id);
      assert.equal(because.type, "m.room.redaction");
      assert.equal(because.content.reason, "oops");
      assert.equal(because.redacts, target);
      const single = await get<Ev>(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(target)}`);
      assert.equal(single.status, 200);
      await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/event/{eventId}", "get", 200, single.body);
      assert.deepEqual(single.body.content, {});
      assert.equal((single.body.unsigned?.redacted_because as Ev).event_id, res.body.event_id);
    });
  });

  describe("history visibility over HTTP", () => {
    it("joined: a user who joins later cannot read what came before, by any endpoint", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "joined" } }] });
      const early = await send(alice, roomId, text("before bob"));
      await joinRoom(base, bob, roomId);
      const later = await send(alice, roomId, text("after bob"));
      // The room's first events predate the history_visibility event, so they fall under the
      // default (shared) and stay visible; only what was sent under `joined` is hidden.
      const expected = (await roomEvents(server, roomId)).map((e) => e.eventId).filter((id) => id !== early);
      const { events } = await paginate(bob, roomId, "b", 4);
      assert.deepEqual(ids(events), [...expected].reverse());
      assert.equal(events[1]!.state_key, bob.userId);
      assert.equal(events[2]!.type, "m.room.history_visibility", "the hidden message sits between these two");
      assert.deepEqual(ids((await paginate(bob, roomId, "f", 4)).events), expected);
      assert.equal((await get(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(early)}`)).status, 404);
      assert.equal((await get(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(later)}`)).status, 200);
      const ctx = await get(bob, `${V3}/rooms/${enc(roomId)}/context/${enc(early)}`);
      assert.equal(ctx.status, 404);
      assert.equal(ctx.body.errcode, "M_NOT_FOUND");
      const laterCtx = await get<ContextBody>(bob, `${V3}/rooms/${enc(roomId)}/context/${enc(later)}?limit=10`);
      assert.equal(laterCtx.status, 200);
      assert.deepEqual(ids(laterCtx.body.events_before), [...expected].reverse().slice(1, 6), "the hidden message is skipped");
      assert.equal((await get(bob, `${V1}/rooms/${enc(roomId)}/relations/${enc(early)}`)).status, 404);
    });

    it("shared: a user who joins later reads the whole history", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      const early = await send(alice, roomId, text("before bob"));
      await joinRoom(base, bob, roomId);
      const { events } = await paginate(bob, roomId, "b", 50);
      assert.ok(ids(events).includes(early));
      assert.equal(events.at(-1)!.type, "m.room.create");
      assert.equal((await get(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(early)}`)).status, 200);
    });

    it("a departed user reads up to their leave and no further; state is as of the leave", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat", name: "Before" });
      await joinRoom(base, bob, roomId);
      const seen = await send(alice, roomId, text("while bob is here"));
      assert.equal((await roomAction(base, bob, roomId, "leave")).status, 200);
      const unseen = await send(alice, roomId, text("after bob left"));
      await putState(base, alice, roomId, "m.room.name", "", { name: "After" });

      const back = await messages(bob, roomId, { dir: "b", limit: 3 });
      assert.equal(back.body.chunk[0]!.type, "m.room.member", "the newest event bob sees is his own leave");
      assert.equal(back.body.chunk[0]!.content.membership, "leave");
      assert.equal(back.body.chunk[1]!.event_id, seen);
      const fwd = await paginate(bob, roomId, "f", 100);
      assert.ok(!ids(fwd.events).includes(unseen));
      assert.equal(fwd.events.at(-1)!.content.membership, "leave");
      assert.equal((await get(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(unseen)}`)).status, 404);
      assert.equal((await get(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(seen)}`)).status, 200);

      const name = await get(bob, `${V3}/rooms/${enc(roomId)}/state/m.room.name`);
      assert.deepEqual(name.body, { name: "Before" });
      const state = await get<Ev[]>(bob, `${V3}/rooms/${enc(roomId)}/state`);
      assert.equal(state.body.find((e) => e.type === "m.room.name")!.content.name, "Before");
      assert.equal(state.body.find((e) => e.state_key === bob.userId)!.content.membership, "leave");
      assert.deepEqual((await get(alice, `${V3}/rooms/${enc(roomId)}/state/m.room.name`)).body, { name: "After" });

      const joined = await get(bob, `${V3}/rooms/${enc(roomId)}/joined_members`);
      assert.equal(joined.status, 403, "joined_members needs a current member (Synapse)");
      assert.equal((await roomAction(base, bob, roomId, "forget")).status, 200);
      const forgotten = await messages(bob, roomId, { dir: "b" });
      assert.equal(forgotten.status, 403, "after forgetting, the room is closed");
    });

    it("never a member, or only invited: 403 M_FORBIDDEN on every room read; 404 on events", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      const ev = await send(alice, roomId, text("private"));
      assert.equal((await roomAction(base, alice, roomId, "invite", { user_id: dave.userId })).status, 200);
      for (const user of [carol, dave]) {
        const r = `${enc(roomId)}`;
        for (const path of [
          `${V3}/rooms/${r}/messages?dir=b`,
          `${V3}/rooms/${r}/state`,
          `${V3}/rooms/${r}/state/m.room.create`,
          `${V3}/rooms/${r}/members`,
          `${V3}/rooms/${r}/joined_members`,
          `${V1}/rooms/${r}/relations/${enc(ev)}`,
          `${V1}/rooms/${r}/timestamp_to_event?ts=0&dir=f`,
        ]) {
          const res = await get(user, path);
          assert.equal(res.status, 403, `${user.userId} ${path}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.errcode, "M_FORBIDDEN");
        }
        assert.equal((await get(user, `${V3}/rooms/${r}/event/${enc(ev)}`)).status, 404);
        assert.equal((await get(user, `${V3}/rooms/${r}/context/${enc(ev)}`)).status, 404);
      }
    });

    it("world_readable: anyone reads what was sent while world_readable, not before", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      const hidden = await send(alice, roomId, text("shared era"));
      await putState(base, alice, roomId, "m.room.history_visibility", "", { history_visibility: "world_readable" });
      const open = await send(alice, roomId, text("world era"));
      const { events } = await paginate(eve, roomId, "b", 10);
      assert.ok(ids(events).includes(open));
      assert.ok(!ids(events).includes(hidden));
      assert.equal(events[0]!.event_id, open);
      assert.equal((await get(eve, `${V3}/rooms/${enc(roomId)}/state`)).status, 200);
      const joined = await get<{ joined: Record<string, unknown> }>(eve, `${V3}/rooms/${enc(roomId)}/joined_members`);
      assert.equal(joined.status, 200);
      assert.deepEqual(Object.keys(joined.body.joined), [alice.userId]);
      assert.equal((await get(eve, `${V3}/rooms/${enc(roomId)}/event/${enc(hidden)}`)).status, 404);
    });
  });

  describe("GET /context/{eventId}", () => {
    let roomId: string;
    let sent: string[];

    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      await joinRoom(base, carol, roomId);
      sent = [];
      for (let i = 0; i < 20; i++) sent.push(await send(i % 2 === 0 ? alice : bob, roomId, text(`c${i}`)));
    });

    const context = async (eventId: string, params: Record<string, string | number> = {}) => {
      const res = await get<ContextBody>(alice, `${V3}/rooms/${enc(roomId)}/context/${enc(eventId)}${query(params)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("event_context.yaml", "/rooms/{roomId}/context/{eventId}", "get", 200, res.body);
      return res.body;
    };

    it("splits the limit floor(limit/2) before and the rest after, around the event", async () => {
      const body = await context(sent[10]!, { limit: 7 });
      assert.equal(body.event.event_id, sent[10]);
      assert.deepEqual(ids(body.events_before), [sent[9], sent[8], sent[7]]);
      assert.deepEqual(ids(body.events_after), [sent[11], sent[12], sent[13], sent[14]]);
      const dflt = await context(sent[10]!);
      assert.equal(dflt.events_before.length, 5);
      assert.equal(dflt.events_after.length, 5);
    });

    it("start and end continue in /messages without gap or overlap", async () => {
      const body = await context(sent[10]!, { limit: 4 });
      const older = await messages(alice, roomId, { dir: "b", limit: 2, from: body.start });
      assert.deepEqual(ids(older.body.chunk), [sent[7], sent[6]]);
      const newer = await messages(alice, roomId, { dir: "f", limit: 2, from: body.end });
      assert.deepEqual(ids(newer.body.chunk), [sent[13], sent[14]]);
    });

    it("limit=0 returns only the event; the last event has nothing after it", async () => {
      const body = await context(sent[5]!, { limit: 0 });
      assert.deepEqual(body.events_before, []);
      assert.deepEqual(body.events_after, []);
      assert.equal(body.event.event_id, sent[5]);
      const last = await context(sent[19]!, { limit: 4 });
      assert.deepEqual(last.events_after, []);
    });

    it("state is the state at the last event returned; lazy loading keeps senders' memberships only", async () => {
      const full = await context(sent[10]!, { limit: 2 });
      const types = new Set(full.state.map((e) => e.type));
      for (const t of ["m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.member"]) assert.ok(types.has(t), t);
      assert.deepEqual(new Set(full.state.filter((e) => e.type === "m.room.member").map((e) => e.state_key)), new Set([alice.userId, bob.userId, carol.userId]));
      const lazy = await context(sent[10]!, { limit: 2, filter: JSON.stringify({ lazy_load_members: true }) });
      assert.deepEqual(new Set(lazy.state.filter((e) => e.type === "m.room.member").map((e) => e.state_key)), new Set([alice.userId, bob.userId]));
      assert.ok(lazy.state.some((e) => e.type === "m.room.create"), "non-member state stays");
    });

    it("the filter applies to the surrounding events, never to the event itself", async () => {
      const body = await context(sent[10]!, { limit: 4, filter: JSON.stringify({ senders: [bob.userId] }) });
      assert.equal(body.event.event_id, sent[10]);
      assert.deepEqual(ids(body.events_before), [sent[9], sent[7]]);
      assert.deepEqual(ids(body.events_after), [sent[11], sent[13]]);
    });

    it("unknown events, events of another room and malformed ids are refused", async () => {
      const other = await createRoom(base, alice, {});
      const elsewhere = await send(alice, other, text("elsewhere"));
      for (const path of [`context/${enc(elsewhere)}`, `event/${enc(elsewhere)}`, `context/${enc("$unknownunknownunknownunknownunknownunknown1")}`]) {
        const res = await get(alice, `${V3}/rooms/${enc(roomId)}/${path}`);
        assert.equal(res.status, 404, path);
        assert.equal(res.body.errcode, "M_NOT_FOUND");
      }
      const malformed = await get(alice, `${V3}/rooms/${enc(roomId)}/event/nodollar`);
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.errcode, "M_INVALID_PARAM");
      assert.equal((await get(alice, `${V3}/rooms/${enc(roomId)}/context/${enc(sent[0]!)}?limit=-2`)).status, 400);
    });
  });

  describe("GET /relations (v1): reactions, edits, threads", () => {
    let roomId: string;
    let parent: string;
    let reactions: string[];
    let edits: string[];
    let thread: string[];
    let nested: string;

    const rel = (relType: string, eventId: string, extra: Record<string, unknown> = {}) => ({ "m.relates_to": { rel_type: relType, event_id: eventId, ...extra } });

    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      parent = await send(alice, roomId, text("parent"));
      reactions = [];
      edits = [];
      thread = [];
      for (let i = 0; i < 12; i++) {
        reactions.push(await send(i % 2 ? alice : bob, roomId, rel("m.annotation", parent, { key: `k${i}` }), "m.reaction"));
        if (i % 4 === 0) edits.push(await send(alice, roomId, { ...text(`* edit ${i}`), "m.new_content": text(`edit ${i}`), ...rel("m.replace", parent) }));
        if (i % 3 === 0) thread.push(await send(bob, roomId, { ...text(`reply ${i}`), ...rel("m.thread", parent, { is_falling_back: true }) }));
      }
      nested = await send(alice, roomId, rel("m.annotation", thread[0]!, { key: "nested" }), "m.reaction");
      await send(alice, roomId, text("unrelated"));
    });

    async function relations(path: string, params: Record<string, string | number | boolean> = {}, user = alice): Promise<RelationsBody> {
      const res = await get<RelationsBody>(user, `${V1}/rooms/${enc(roomId)}/relations/${path}${query(params)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const specPath = ["/rooms/{roomId}/relations/{eventId}", "/rooms/{roomId}/relations/{eventId}/{relType}", "/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}"][path.split("/").length - 1]!;
      await assertMatchesSpec("relations.yaml", specPath, "get", 200, res.body);
      return res.body;
    }

    async function all(path: string, params: Record<string, string | number> = {}): Promise<string[]> {
      const out: string[] = [];
      let from: string | undefined;
      for (let i = 0; i < 100; i++) {
        const body = await relations(path, { ...params, ...(from ? { from } : {}) });
        if (from) assert.equal(body.prev_batch, from, "prev_batch echoes from");
        else assert.equal(body.prev_batch, undefined);
        out.push(...ids(body.chunk));
        if (!body.next_batch) return out;
        from = body.next_batch;
      }
      throw new Error("relations paging did not end");
    }

    it("every direct relation, newest first, in pages of the default 5", async () => {
      const first = await relations(enc(parent));
      assert.equal(first.chunk.length, 5);
      assert.ok(first.next_batch);
      const everything = await all(enc(parent));
      const expected = [...reactions, ...edits, ...thread];
      assert.equal(everything.length, expected.length);
      assert.deepEqual(new Set(everything), new Set(expected));
      assert.equal(new Set(everything).size, everything.length);
      const stored = (await roomEvents(server, roomId)).map((e) => e.eventId);
      const order = everything.map((id) => stored.indexOf(id));
      assert.deepEqual(order, [...order].sort((a, b) => b - a), "newest first");
    });

    it("by relation type and event type, with paging in both directions", async () => {
      assert.deepEqual(await all(`${enc(parent)}/m.annotation`, { limit: 5 }), [...reactions].reverse());
      assert.deepEqual(await all(`${enc(parent)}/m.annotation/m.reaction`, { limit: 4, dir: "f" }), reactions);
      assert.deepEqual(await all(`${enc(parent)}/m.annotation/m.room.message`), []);
      assert.deepEqual(await all(`${enc(parent)}/m.replace`), [...edits].reverse());
      assert.deepEqual(await all(`${enc(parent)}/m.thread/m.room.message`, { limit: 2 }), [...thread].reverse());
    });

    it("from/to bound a window: from page 1, to page 2 covers both pages", async () => {
      const p1 = await relations(`${enc(parent)}/m.annotation`, { limit: 3 });
      const p2 = await relations(`${enc(parent)}/m.annotation`, { limit: 3, from: p1.next_batch! });
      const window = await relations(`${enc(parent)}/m.annotation`, { limit: 50, to: p2.next_batch! });
      assert.deepEqual(ids(window.chunk), [...ids(p1.chunk), ...ids(p2.chunk)]);
      assert.equal(window.next_batch, undefined);
    });

    it("recurse follows relations of relations and reports recursion_depth", async () => {
      const plain = await relations(enc(parent), { limit: 100 });
      assert.ok(!ids(plain.chunk).includes(nested));
      assert.equal(plain.recursion_depth, undefined);
      const deep = await relations(enc(parent), { limit: 100, recurse: true });
      assert.ok(ids(deep.chunk).includes(nested));
      assert.equal(deep.chunk.length, plain.chunk.length + 1);
      assert.equal(deep.recursion_depth, 3);
      const annotations = await relations(`${enc(parent)}/m.annotation`, { limit: 100, recurse: true });
      assert.equal(annotations.chunk.length, reactions.length + 1);
    });

    it("a redacted reaction drops out", async () => {
      const victim = reactions[0]!;
      const res = await api(base, "PUT", `${V3}/rooms/${enc(roomId)}/redact/${enc(victim)}/rr1`, { token: bob.accessToken, body: {} });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const now = await all(`${enc(parent)}/m.annotation`, { limit: 50 });
      assert.ok(!now.includes(victim));
      assert.equal(now.length, reactions.length - 1);
      reactions.shift();
    });

    it("unknown parent → 404; bad token or dir → 400", async () => {
      const unknown = await get(alice, `${V1}/rooms/${enc(roomId)}/relations/${enc("$unknownunknownunknownunknownunknownunknown1")}`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.errcode, "M_NOT_FOUND");
      const badFrom = await get(alice, `${V1}/rooms/${enc(roomId)}/relations/${enc(parent)}?from=nope`);
      assert.equal(badFrom.body.errcode, "M_INVALID_PARAM");
      const badDir = await get(alice, `${V1}/rooms/${enc(roomId)}/relations/${enc(parent)}?dir=up`);
      assert.equal(badDir.body.errcode, "M_INVALID_PARAM");
      const badRecurse = await get(alice, `${V1}/rooms/${enc(roomId)}/relations/${enc(parent)}?recurse=yes`);
      assert.equal(badRecurse.body.errcode, "M_INVALID_PARAM");
    });
  });

  describe("GET /timestamp_to_event (v1)", () => {
    let roomId: string;
    let stamps: { id: string; ts: number }[];

    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "joined" } }] });
      stamps = [];
      for (let i = 0; i < 3; i++) {
        await sleep(15);
        const id = await send(alice, roomId, text(`t${i}`));
        const ev = await get<Ev>(alice, `${V3}/rooms/${enc(roomId)}/event/${enc(id)}`);
        stamps.push({ id, ts: ev.body.origin_server_ts });
      }
      await sleep(15);
      await joinRoom(base, bob, roomId);
      await sleep(15);
      const id = await send(alice, roomId, text("after bob joined"));
      stamps.push({ id, ts: (await get<Ev>(alice, `${V3}/rooms/${enc(roomId)}/event/${enc(id)}`)).body.origin_server_ts });
    });

    async function lookup(user: TestUser, ts: number, dir: string): Promise<ApiResponse<{ event_id: string; origin_server_ts: number; errcode?: string }>> {
      const res = await get<{ event_id: string; origin_server_ts: number; errcode?: string }>(user, `${V1}/rooms/${enc(roomId)}/timestamp_to_event?ts=${ts}&dir=${dir}`);
      if (res.status === 200) await assertMatchesSpec("room_event_by_timestamp.yaml", "/rooms/{roomId}/timestamp_to_event", "get", 200, res.body);
      return res;
    }

    it("finds the closest event at or after (f) and at or before (b) the timestamp", async () => {
      const [a, b, c] = stamps;
      assert.equal((await lookup(alice, b!.ts, "f")).body.event_id, b!.id);
      assert.equal((await lookup(alice, b!.ts, "b")).body.event_id, b!.id);
      assert.equal((await lookup(alice, b!.ts + 1, "f")).body.event_id, c!.id);
      assert.equal((await lookup(alice, b!.ts - 1, "b")).body.event_id, a!.id);
      const found = await lookup(alice, c!.ts, "f");
      assert.equal(found.body.origin_server_ts, c!.ts);
    });

    it("404 M_NOT_FOUND when nothing lies in that direction", async () => {
      const future = await lookup(alice, stamps.at(-1)!.ts + 60_000, "f");
      assert.equal(future.status, 404);
      assert.equal(future.body.errcode, "M_NOT_FOUND");
      assert.equal((await lookup(alice, 0, "b")).status, 404);
    });

    it("skips events the user may not see (joined visibility, later joiner)", async () => {
      const early = await lookup(bob, stamps[0]!.ts, "f");
      assert.equal(early.status, 200);
      const ev = await get<Ev>(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(early.body.event_id)}`);
      assert.equal(ev.status, 200, "what it finds is visible");
      assert.equal(ev.body.type, "m.room.member");
      assert.equal(ev.body.state_key, bob.userId);
      const back = await lookup(bob, stamps[2]!.ts, "b");
      const found = await get<Ev>(bob, `${V3}/rooms/${enc(roomId)}/event/${enc(back.body.event_id)}`);
      assert.equal(found.body.type, "m.room.history_visibility", "the hidden messages are skipped back to the last visible event");
      assert.equal((await lookup(bob, stamps[2]!.ts - 60_000, "b")).status, 404);
    });

    it("refuses a missing or malformed ts or dir", async () => {
      const path = `${V1}/rooms/${enc(roomId)}/timestamp_to_event`;
      const cases: [string, string][] = [["?dir=f", "M_MISSING_PARAM"], ["?ts=abc&dir=f", "M_INVALID_PARAM"], ["?ts=1", "M_MISSING_PARAM"], ["?ts=1&dir=x", "M_INVALID_PARAM"]];
      for (const [qs, errcode] of cases) {
        const res = await get(alice, path + qs);
        assert.equal(res.status, 400, qs);
        assert.equal(res.body.errcode, errcode, qs);
      }
    });
  });

  describe("GET /members, /joined_members, /state", () => {
    let roomId: string;
    let beforeBob: string;

    before(async () => {
      await api(base, "PUT", `${V3}/profile/${enc(bob.userId)}/displayname`, { token: bob.accessToken, body: { displayname: "Bob B" } });
      await api(base, "PUT", `${V3}/profile/${enc(bob.userId)}/avatar_url`, { token: bob.accessToken, body: { avatar_url: "mxc://test.local/bob" } });
      roomId = await createRoom(base, alice, { preset: "public_chat", name: "Members" });
      beforeBob = (await messages(alice, roomId, { dir: "b", limit: 1 })).body.start;
      await joinRoom(base, bob, roomId);
      assert.equal((await roomAction(base, alice, roomId, "invite", { user_id: carol.userId })).status, 200);
      await joinRoom(base, dave, roomId);
      assert.equal((await roomAction(base, dave, roomId, "leave")).status, 200);
      assert.equal((await roomAction(base, alice, roomId, "ban", { user_id: eve.userId })).status, 200);
    });

    const members = async (user: TestUser, params: Record<string, string> = {}) => {
      const res = await get<{ chunk: Ev[]; errcode?: string }>(user, `${V3}/rooms/${enc(roomId)}/members${query(params)}`);
      if (res.status === 200) await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/members", "get", 200, res.body);
      return res;
    };
    const byUser = (chunk: Ev[]) => Object.fromEntries(chunk.map((e) => [e.state_key, e.content.membership]));

    it("every membership now; membership and not_membership filter (OR-ed together, as the spec says)", async () => {
      const everyone = await members(alice);
      assert.deepEqual(byUser(everyone.body.chunk), { [alice.userId]: "join", [bob.userId]: "join", [carol.userId]: "invite", [dave.userId]: "leave", [eve.userId]: "ban" });
      assert.deepEqual(Object.keys(byUser((await members(alice, { membership: "join" })).body.chunk)).sort(), [alice.userId, bob.userId].sort());
      assert.deepEqual(Object.keys(byUser((await members(alice, { not_membership: "leave" })).body.chunk)).sort(), [alice.userId, bob.userId, carol.userId, eve.userId].sort());
      const both = await members(alice, { membership: "invite", not_membership: "join" });
      assert.deepEqual(Object.keys(byUser(both.body.chunk)).sort(), [carol.userId, dave.userId, eve.userId].sort());
      const bad = await members(alice, { membership: "friends" });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errcode, "M_INVALID_PARAM");
    });

    it("at=<token> gives the members at that point", async () => {
      const then = await members(alice, { at: beforeBob });
      assert.deepEqual(byUser(then.body.chunk), { [alice.userId]: "join" });
      const bad = await members(alice, { at: "x" });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errcode, "M_INVALID_PARAM");
    });

    it("a departed user sees the members as of their leave", async () => {
      const res = await members(dave);
      assert.equal(res.status, 200);
      assert.deepEqual(byUser(res.body.chunk), { [alice.userId]: "join", [bob.userId]: "join", [carol.userId]: "invite", [dave.userId]: "leave" });
    });

    it("joined_members: joined users with their profile; 403 for an invitee", async () => {
      const res = await get<{ joined: Record<string, { display_name?: string; avatar_url?: string }> }>(bob, `${V3}/rooms/${enc(roomId)}/joined_members`);
      assert.equal(res.status, 200);
      await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/joined_members", "get", 200, res.body);
      assert.deepEqual(res.body.joined, { [alice.userId]: { display_name: "alice" }, [bob.userId]: { display_name: "Bob B", avatar_url: "mxc://test.local/bob" } });
      assert.equal((await get(carol, `${V3}/rooms/${enc(roomId)}/joined_members`)).status, 403);
    });

    it("/state: the current state as client events, with prev_content on replaced entries", async () => {
      await putState(base, alice, roomId, "m.room.name", "", { name: "Renamed" });
      const res = await get<Ev[]>(bob, `${V3}/rooms/${enc(roomId)}/state`);
      assert.equal(res.status, 200);
      await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/state", "get", 200, res.body);
      const name = res.body.find((e) => e.type === "m.room.name")!;
      assert.deepEqual(name.content, { name: "Renamed" });
      assert.deepEqual(name.unsigned?.prev_content, { name: "Members" });
      assert.equal(typeof name.unsigned?.replaces_state, "string");
      for (const t of ["m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.history_visibility"]) {
        assert.ok(res.body.some((e) => e.type === t && e.state_key === ""), t);
      }
      assert.equal(res.body.filter((e) => e.type === "m.room.member").length, 5);
    });

    it("/state/{type}/{key}: content by default, the event with format=event, 404 when missing", async () => {
      const r = enc(roomId);
      const name = await get(bob, `${V3}/rooms/${r}/state/m.room.name`);
      assert.equal(name.status, 200);
      await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/state/{eventType}/{stateKey}", "get", 200, name.body);
      assert.deepEqual(name.body, { name: "Renamed" });
      assert.deepEqual((await get(bob, `${V3}/rooms/${r}/state/m.room.name/`)).body, { name: "Renamed" }, "trailing slash = empty key");
      const member = await get(bob, `${V3}/rooms/${r}/state/m.room.member/${enc(carol.userId)}`);
      assert.equal(member.body.membership, "invite");
      const event = await get<Ev & { room_id: string }>(bob, `${V3}/rooms/${r}/state/m.room.name/?format=event`);
      assert.equal(event.status, 200);
      await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/event/{eventId}", "get", 200, event.body);
      assert.equal(event.body.type, "m.room.name");
      assert.equal(event.body.state_key, "");
      assert.equal(event.body.room_id, roomId);
      assert.equal(event.body.sender, alice.userId);
      const missing = await get(bob, `${V3}/rooms/${r}/state/m.room.topic`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.errcode, "M_NOT_FOUND");
      const noMember = await get(bob, `${V3}/rooms/${r}/state/m.room.member/${enc("@nobody:test.local")}`);
      assert.equal(noMember.status, 404);
      const badFormat = await get(bob, `${V3}/rooms/${r}/state/m.room.name?format=xml`);
      assert.equal(badFormat.status, 400);
      assert.equal(badFormat.body.errcode, "M_INVALID_PARAM");
      const departed = await get(dave, `${V3}/rooms/${r}/state/m.room.name`);
      assert.deepEqual(departed.body, { name: "Members" }, "dave left before the rename");
    });
  });
});
