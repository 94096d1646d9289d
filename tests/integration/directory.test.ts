/**
 * The room directory over real HTTP: aliases (PUT|GET|DELETE /directory/room/{roomAlias},
 * GET /rooms/{roomId}/aliases), the published room list (GET|POST /publicRooms) and a
 * room's entry in it (GET|PUT /directory/list/room/{roomId}).
 * Behaviour the spec leaves open follows Synapse (409 for an existing alias, who may delete,
 * which published rooms are listed). Every 200 is checked against the spec's OpenAPI documents.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import type { UserId } from "../../src/events/ids.js";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, createRoom, enc, joinRoom, putState, roomAction, stateContent, storageOf } from "./room-helpers.js";

interface Chunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  name?: string;
  topic?: string;
  avatar_url?: string;
  canonical_alias?: string;
  join_rule?: string;
  room_type?: string;
}
interface PublicRooms {
  chunk: Chunk[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate?: number;
  errcode?: string;
}

const aliasPath = (alias: string) => `${V3}/directory/room/${enc(alias)}`;
const listPath = (roomId: string) => `${V3}/directory/list/room/${enc(roomId)}`;

describe("room directory", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let admin: TestUser;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    carol = await registerUser(base, "carol");
    admin = await registerUser(base, "admin");
    assert.equal(await storageOf(server).accounts.setAdmin(admin.userId as UserId, true), true);
  });
  after(async () => {
    await server.close();
  });

  describe("aliases", () => {
    let roomId: string;
    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
    });

    it("PUT creates an alias; GET resolves it (without a token) to the room and this server", async () => {
      const put = await api(base, "PUT", aliasPath("#first:test.local"), { token: alice.accessToken, body: { room_id: roomId } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "put", 200, put.body);
      assert.deepEqual(put.body, {});
      const get = await api(base, "GET", aliasPath("#first:test.local"));
      assert.equal(get.status, 200, JSON.stringify(get.body));
      await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "get", 200, get.body);
      assert.deepEqual(get.body, { room_id: roomId, servers: ["test.local"] });
      assert.equal((await storageOf(server).aliases.get("#first:test.local"))?.creator, alice.userId);
    });

    it("any joined member may add an alias (no power needed)", async () => {
      const put = await api(base, "PUT", aliasPath("#bobs:test.local"), { token: bob.accessToken, body: { room_id: roomId } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal((await storageOf(server).aliases.get("#bobs:test.local"))?.roomId, roomId);
    });

    it("an alias that exists → 409 M_UNKNOWN, and it keeps pointing where it did", async () => {
      const other = await createRoom(base, alice, {});
      assert.equal((await api(base, "PUT", aliasPath("#taken:test.local"), { token: alice.accessToken, body: { room_id: roomId } })).status, 200);
      const again = await api(base, "PUT", aliasPath("#taken:test.local"), { token: alice.accessToken, body: { room_id: other } });
      assert.equal(again.status, 409);
      await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "put", 409, again.body);
      assert.equal(again.body.errcode, "M_UNKNOWN");
      assert.equal((await storageOf(server).aliases.get("#taken:test.local"))?.roomId, roomId);
    });

    it("an alias on another server → 400 M_INVALID_PARAM", async () => {
      const res = await api(base, "PUT", aliasPath("#elsewhere:other.example"), { token: alice.accessToken, body: { room_id: roomId } });
      assert.equal(res.status, 400);
      await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "put", 400, res.body);
      assert.equal(res.body.errcode, "M_INVALID_PARAM");
      assert.equal(await storageOf(server).aliases.get("#elsewhere:other.example"), null);
    });

    it("malformed aliases → 400 M_INVALID_PARAM (PUT, GET and DELETE)", async () => {
      for (const bad of ["no-sigil:test.local", "#no-colon", "#:test.local", "#white space:test.local", `#${"x".repeat(250)}:test.local`, "#bad:not a server"]) {
        const put = await api(base, "PUT", aliasPath(bad), { token: alice.accessToken, body: { room_id: roomId } });
        assert.equal(put.status, 400, `PUT ${bad}: ${JSON.stringify(put.body)}`);
        assert.equal(put.body.errcode, "M_INVALID_PARAM", bad);
        const get = await api(base, "GET", aliasPath(bad));
        assert.equal(get.status, 400, `GET ${bad}`);
        assert.equal(get.body.errcode, "M_INVALID_PARAM", bad);
        const del = await api(base, "DELETE", aliasPath(bad), { token: alice.accessToken });
        assert.equal(del.status, 400, `DELETE ${bad}`);
      }
    });

    it("PUT by someone not in the room → 403; a server admin may (Synapse)", async () => {
      const res = await api(base, "PUT", aliasPath("#outsider:test.local"), { token: carol.accessToken, body: { room_id: roomId } });
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
      assert.equal(await storageOf(server).aliases.get("#outsider:test.local"), null);
      const byAdmin = await api(base, "PUT", aliasPath("#by-admin:test.local"), { token: admin.accessToken, body: { room_id: roomId } });
      assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
    });

    it("PUT for a room this server does not know → 400; without room_id → 400 M_BAD_JSON; without a token → 401", async () => {
      const unknown = await api(base, "PUT", aliasPath("#ghost:test.local"), { token: alice.accessToken, body: { room_id: "!nope:test.local" } });
      assert.equal(unknown.status, 400);
      const missing = await api(base, "PUT", aliasPath("#ghost:test.local"), { token: alice.accessToken, body: {} });
      assert.equal(missing.status, 400);
      assert.equal(missing.body.errcode, "M_BAD_JSON");
      const anon = await api(base, "PUT", aliasPath("#ghost:test.local"), { body: { room_id: roomId } });
      assert.equal(anon.status, 401);
      assert.equal(await storageOf(server).aliases.get("#ghost:test.local"), null);
    });

    it("GET of an unknown alias, local or remote → 404 M_NOT_FOUND", async () => {
      for (const alias of ["#unknown:test.local", "#unknown:other.example"]) {
        const res = await api(base, "GET", aliasPath(alias));
        assert.equal(res.status, 404, alias);
        await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "get", 404, res.body);
        assert.equal(res.body.errcode, "M_NOT_FOUND");
      }
    });

    it("an alias made with PUT can be joined through", async () => {
      const target = await createRoom(base, alice, { preset: "public_chat" });
      assert.equal((await api(base, "PUT", aliasPath("#joinable:test.local"), { token: alice.accessToken, body: { room_id: target } })).status, 200);
      const res = await api(base, "POST", `${V3}/join/${enc("#joinable:test.local")}`, { token: carol.accessToken, body: {} });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { room_id: target });
    });

    it("DELETE: the alias's creator may, even without power; afterwards GET → 404", async () => {
      assert.equal((await api(base, "PUT", aliasPath("#bob-deletes:test.local"), { token: bob.accessToken, body: { room_id: roomId } })).status, 200);
      const del = await api(base, "DELETE", aliasPath("#bob-deletes:test.local"), { token: bob.accessToken });
      assert.equal(del.status, 200, JSON.stringify(del.body));
      await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "delete", 200, del.body);
      assert.deepEqual(del.body, {});
      assert.equal((await api(base, "GET", aliasPath("#bob-deletes:test.local"))).status, 404);
    });

    it("DELETE of someone else's alias: without power → 403; with power to send m.room.canonical_alias → ok", async () => {
      assert.equal((await api(base, "PUT", aliasPath("#alices:test.local"), { token: alice.accessToken, body: { room_id: roomId } })).status, 200);
      const denied = await api(base, "DELETE", aliasPath("#alices:test.local"), { token: bob.accessToken });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.errcode, "M_FORBIDDEN");
      assert.notEqual(await storageOf(server).aliases.get("#alices:test.local"), null);

      assert.equal((await api(base, "PUT", aliasPath("#bobs-other:test.local"), { token: bob.accessToken, body: { room_id: roomId } })).status, 200);
      const byPower = await api(base, "DELETE", aliasPath("#bobs-other:test.local"), { token: alice.accessToken });
      assert.equal(byPower.status, 200, JSON.stringify(byPower.body));
      assert.equal(await storageOf(server).aliases.get("#bobs-other:test.local"), null);
    });

    it("DELETE by a server admin who is not in the room → ok", async () => {
      assert.equal((await api(base, "PUT", aliasPath("#admin-deletes:test.local"), { token: alice.accessToken, body: { room_id: roomId } })).status, 200);
      const res = await api(base, "DELETE", aliasPath("#admin-deletes:test.local"), { token: admin.accessToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(await storageOf(server).aliases.get("#admin-deletes:test.local"), null);
    });

    it("DELETE of an unknown alias → 404 M_NOT_FOUND; without a token → 401", async () => {
      const res = await api(base, "DELETE", aliasPath("#never-was:test.local"), { token: alice.accessToken });
      assert.equal(res.status, 404);
      await assertMatchesSpec("directory.yaml", "/directory/room/{roomAlias}", "delete", 404, res.body);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
      assert.equal((await api(base, "DELETE", aliasPath("#first:test.local"))).status, 401);
    });

    it("DELETE of the canonical alias also removes it from m.room.canonical_alias (alias and alt_aliases)", async () => {
      const room = await createRoom(base, alice, { room_alias_name: "canon" });
      assert.equal((await api(base, "PUT", aliasPath("#canon-alt:test.local"), { token: alice.accessToken, body: { room_id: room } })).status, 200);
      assert.equal((await api(base, "PUT", aliasPath("#canon-keep:test.local"), { token: alice.accessToken, body: { room_id: room } })).status, 200);
      const set = await putState(base, alice, room, "m.room.canonical_alias", "", {
        alias: "#canon:test.local",
        alt_aliases: ["#canon-alt:test.local", "#canon-keep:test.local"],
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal((await storageOf(server).rooms.summary(room))?.canonicalAlias, "#canon:test.local");

      assert.equal((await api(base, "DELETE", aliasPath("#canon:test.local"), { token: alice.accessToken })).status, 200);
      assert.deepEqual(await stateContent(server, room, "m.room.canonical_alias"), { alt_aliases: ["#canon-alt:test.local", "#canon-keep:test.local"] });
      assert.equal((await storageOf(server).rooms.summary(room))?.canonicalAlias, null);

      assert.equal((await api(base, "DELETE", aliasPath("#canon-alt:test.local"), { token: alice.accessToken })).status, 200);
      assert.deepEqual(await stateContent(server, room, "m.room.canonical_alias"), { alt_aliases: ["#canon-keep:test.local"] });
    });

    it("DELETE by the alias's creator who may not send m.room.canonical_alias: the alias goes, the event stays", async () => {
      const room = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, room);
      assert.equal((await api(base, "PUT", aliasPath("#bob-canon:test.local"), { token: bob.accessToken, body: { room_id: room } })).status, 200);
      assert.equal((await putState(base, alice, room, "m.room.canonical_alias", "", { alias: "#bob-canon:test.local" })).status, 200);
      const res = await api(base, "DELETE", aliasPath("#bob-canon:test.local"), { token: bob.accessToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(await storageOf(server).aliases.get("#bob-canon:test.local"), null);
      assert.deepEqual(await stateContent(server, room, "m.room.canonical_alias"), { alias: "#bob-canon:test.local" });
    });

    it("GET /rooms/{roomId}/aliases: members see the local aliases, sorted; outsiders → 403; admins may", async () => {
      const room = await createRoom(base, alice, { preset: "public_chat", room_alias_name: "listed-b" });
      await joinRoom(base, bob, room);
      assert.equal((await api(base, "PUT", aliasPath("#listed-a:test.local"), { token: bob.accessToken, body: { room_id: room } })).status, 200);
      const res = await api(base, "GET", `${V3}/rooms/${enc(room)}/aliases`, { token: bob.accessToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("directory.yaml", "/rooms/{roomId}/aliases", "get", 200, res.body);
      assert.deepEqual(res.body, { aliases: ["#listed-a:test.local", "#listed-b:test.local"] });

      const outsider = await api(base, "GET", `${V3}/rooms/${enc(room)}/aliases`, { token: carol.accessToken });
      assert.equal(outsider.status, 403);
      await assertMatchesSpec("directory.yaml", "/rooms/{roomId}/aliases", "get", 403, outsider.body);
      assert.equal(outsider.body.errcode, "M_FORBIDDEN");
      assert.equal((await api(base, "GET", `${V3}/rooms/${enc(room)}/aliases`, { token: admin.accessToken })).status, 200);

      assert.equal((await roomAction(base, bob, room, "leave")).status, 200);
      assert.equal((await api(base, "GET", `${V3}/rooms/${enc(room)}/aliases`, { token: bob.accessToken })).status, 403, "a former member is an outsider");
    });

    it("GET /rooms/{roomId}/aliases of a world-readable room is open to any user; a room without aliases lists none", async () => {
      const room = await createRoom(base, alice, { initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "world_readable" } }] });
      const res = await api(base, "GET", `${V3}/rooms/${enc(room)}/aliases`, { token: carol.accessToken });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { aliases: [] });
      const anon = await api(base, "GET", `${V3}/rooms/${enc(room)}/aliases`);
      assert.equal(anon.status, 401);
    });
  });

  describe("a room's entry: GET|PUT /directory/list/room/{roomId}", () => {
    it("GET answers private for a new room, without a token; PUT by the creator publishes it", async () => {
      const room = await createRoom(base, alice, { preset: "public_chat" });
      const get = await api(base, "GET", listPath(room));
      assert.equal(get.status, 200, JSON.stringify(get.body));
      await assertMatchesSpec("list_public_rooms.yaml", "/directory/list/room/{roomId}", "get", 200, get.body);
      assert.deepEqual(get.body, { visibility: "private" });

      const put = await api(base, "PUT", listPath(room), { token: alice.accessToken, body: { visibility: "public" } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      await assertMatchesSpec("list_public_rooms.yaml", "/directory/list/room/{roomId}", "put", 200, put.body);
      assert.deepEqual((await api(base, "GET", listPath(room))).body, { visibility: "public" });

      assert.equal((await api(base, "PUT", listPath(room), { token: alice.accessToken, body: { visibility: "private" } })).status, 200);
      assert.deepEqual((await api(base, "GET", listPath(room))).body, { visibility: "private" });
    });

    it("PUT without a visibility means public (spec default)", async () => {
      const room = await createRoom(base, alice, { preset: "public_chat" });
      assert.equal((await api(base, "PUT", listPath(room), { token: alice.accessToken, body: {} })).status, 200);
      assert.deepEqual((await api(base, "GET", listPath(room))).body, { visibility: "public" });
    });

    it("PUT needs the power to send m.room.canonical_alias: a plain member or an outsider → 403; a server admin may", async () => {
      const room = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, room);
      for (const user of [bob, carol]) {
        const res = await api(base, "PUT", listPath(room), { token: user.accessToken, body: { visibility: "public" } });
        assert.equal(res.status, 403, user.userId);
        assert.equal(res.body.errcode, "M_FORBIDDEN");
      }
      assert.deepEqual((await api(base, "GET", listPath(room))).body, { visibility: "private" });

      const raise = await putState(base, alice, room, "m.room.power_levels", "", {
        ...(await stateContent(server, room, "m.room.power_levels")),
        users: { [alice.userId]: 100, [bob.userId]: 50 },
      });
      assert.equal(raise.status, 200, JSON.stringify(raise.body));
      assert.equal((await api(base, "PUT", listPath(room), { token: bob.accessToken, body: { visibility: "public" } })).status, 200, "50 reaches the canonical alias level");
      assert.equal((await api(base, "PUT", listPath(room), { token: admin.accessToken, body: { visibility: "private" } })).status, 200);
      assert.deepEqual((await api(base, "GET", listPath(room))).body, { visibility: "private" });
    });

    it("unknown room → 404 M_NOT_FOUND (GET and PUT); a bad visibility → 400; PUT without a token → 401", async () => {
      const get = await api(base, "GET", listPath("!nope:test.local"));
      assert.equal(get.status, 404);
      await assertMatchesSpec("list_public_rooms.yaml", "/directory/list/room/{roomId}", "get", 404, get.body);
      assert.equal(get.body.errcode, "M_NOT_FOUND");
      const put = await api(base, "PUT", listPath("!nope:test.local"), { token: admin.accessToken, body: { visibility: "public" } });
      assert.equal(put.status, 404);
      assert.equal(put.body.errcode, "M_NOT_FOUND");
      const room = await createRoom(base, alice, {});
      const bad = await api(base, "PUT", listPath(room), { token: alice.accessToken, body: { visibility: "secret" } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errcode, "M_BAD_JSON");
      assert.equal((await api(base, "PUT", listPath(room), { body: { visibility: "public" } })).status, 401);
    });
  });
});

describe("GET|POST /publicRooms", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  const members: TestUser[] = [];
  /** room name → room id, for the published rooms made in before(). */
  const rooms = new Map<string, string>();

  const publicRooms = (query = "", token?: string) => api<PublicRooms>(base, "GET", `${V3}/publicRooms${query}`, token ? { token } : {});
  const searchRooms = (body: Record<string, unknown>, query = "") => api<PublicRooms>(base, "POST", `${V3}/publicRooms${query}`, { token: alice.accessToken, body });

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    for (let i = 0; i < 5; i++) members.push(await registerUser(base, `member${i}`));
    // Published rooms with distinct joined counts: "Room 5" has 6 members … "Room 1" has 2.
    for (let n = 1; n <= 5; n++) {
      const id = await createRoom(base, alice, { visibility: "public", preset: "public_chat", name: `Room ${n}`, topic: `Topic number ${n}` });
      for (const m of members.slice(0, n)) await joinRoom(base, m, id);
      rooms.set(`Room ${n}`, id);
    }
    rooms.set(
      "Space",
      await createRoom(base, alice, { visibility: "public", preset: "public_chat", name: "A Space", room_alias_name: "the-space", creation_content: { type: "m.space" } }),
    );
    rooms.set(
      "Readable",
      await createRoom(base, alice, {
        visibility: "public",
        preset: "private_chat",
        name: "Readable but invite-only",
        initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: "world_readable" } }],
      }),
    );
    // Published, but neither joinable nor world-readable: Synapse leaves such rooms out.
    rooms.set("Invite", await createRoom(base, alice, { visibility: "public", preset: "private_chat", name: "Invite only" }));
    // Not published.
    rooms.set("Private", await createRoom(base, alice, { preset: "public_chat", name: "Not published" }));
  });
  after(async () => {
    await server.close();
  });

  it("GET works without a token and with one; entries carry the spec's fields", async () => {
    const anon = await publicRooms();
    assert.equal(anon.status, 200, JSON.stringify(anon.body));
    await assertMatchesSpec("list_public_rooms.yaml", "/publicRooms", "get", 200, anon.body);
    const authed = await publicRooms("", alice.accessToken);
    assert.equal(authed.status, 200);
    assert.deepEqual(authed.body, anon.body);

    const ids = anon.body.chunk.map((c) => c.room_id);
    assert.equal(anon.body.total_room_count_estimate, 7);
    assert.equal(ids.length, 7);
    for (const listed of ["Room 1", "Room 5", "Space", "Readable"]) assert.ok(ids.includes(rooms.get(listed)!), listed);
    for (const unlisted of ["Invite", "Private"]) assert.ok(!ids.includes(rooms.get(unlisted)!), unlisted);
    assert.equal(anon.body.next_batch, undefined, "everything fits in one page");
    assert.equal(anon.body.prev_batch, undefined, "the first page has no prev_batch");

    const room5 = anon.body.chunk.find((c) => c.room_id === rooms.get("Room 5"));
    assert.deepEqual(room5, {
      room_id: rooms.get("Room 5"),
      name: "Room 5",
      topic: "Topic number 5",
      num_joined_members: 6,
      world_readable: false,
      guest_can_join: false,
      join_rule: "public",
    });
    const space = anon.body.chunk.find((c) => c.room_id === rooms.get("Space"));
    assert.equal(space?.room_type, "m.space");
    assert.equal(space?.canonical_alias, "#the-space:test.local");
    const readable = anon.body.chunk.find((c) => c.room_id === rooms.get("Readable"));
    assert.equal(readable?.world_readable, true);
    assert.equal(readable?.guest_can_join, true, "private_chat lets guests join");
    assert.equal(readable?.join_rule, "invite");
  });

  it("rooms come most joined members first", async () => {
    const res = await publicRooms();
    const counts = res.body.chunk.map((c) => c.num_joined_members);
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    assert.equal(res.body.chunk[0]?.room_id, rooms.get("Room 5"));
  });

  it("limit pages with next_batch and prev_batch; following next_batch visits every room once", async () => {
    const seen: string[] = [];
    let since: string | undefined;
    let pages = 0;
    do {
      const res = await publicRooms(`?limit=3${since ? `&since=${enc(since)}` : ""}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("list_public_rooms.yaml", "/publicRooms", "get", 200, res.body);
      assert.ok(res.body.chunk.length <= 3);
      assert.equal(res.body.total_room_count_estimate, 7);
      if (pages === 0) assert.equal(res.body.prev_batch, undefined);
      else assert.equal(typeof res.body.prev_batch, "string", "later pages can go back");
      seen.push(...res.body.chunk.map((c) => c.room_id));
      since = res.body.next_batch;
      pages += 1;
    } while (since !== undefined && pages < 10);
    assert.equal(pages, 3);
    assert.equal(new Set(seen).size, 7, "no room twice");
    assert.equal(seen.length, 7);

    const first = await publicRooms("?limit=3");
    const second = await publicRooms(`?limit=3&since=${enc(first.body.next_batch!)}`);
    const back = await publicRooms(`?limit=3&since=${enc(second.body.prev_batch!)}`);
    assert.deepEqual(back.body.chunk, first.body.chunk, "prev_batch of page 2 is page 1");
  });

  it("limit 0 means the server's page size; POST limit pages the same way", async () => {
    const zero = await publicRooms("?limit=0");
    assert.equal(zero.body.chunk.length, 7);
    const post = await searchRooms({ limit: 2 });
    assert.equal(post.status, 200, JSON.stringify(post.body));
    await assertMatchesSpec("list_public_rooms.yaml", "/publicRooms", "post", 200, post.body);
    assert.equal(post.body.chunk.length, 2);
    const next = await searchRooms({ limit: 2, since: post.body.next_batch });
    assert.equal(next.body.chunk.length, 2);
    assert.notEqual(next.body.chunk[0]?.room_id, post.body.chunk[0]?.room_id);
  });

  it("a malformed since or limit → 400", async () => {
    for (const q of ["?since=garbage", "?limit=-1", "?limit=ten"]) {
      const res = await publicRooms(q);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.errcode, "M_INVALID_PARAM", q);
    }
    const post = await searchRooms({ since: "garbage" });
    assert.equal(post.status, 400);
    assert.equal(post.body.errcode, "M_INVALID_PARAM");
    const badLimit = await searchRooms({ limit: "ten" });
    assert.equal(badLimit.status, 400);
    assert.equal(badLimit.body.errcode, "M_BAD_JSON");
  });

  it("filter.generic_search_term matches name, topic or canonical alias, ignoring case", async () => {
    const byName = await searchRooms({ filter: { generic_search_term: "room 3" } });
    assert.equal(byName.status, 200, JSON.stringify(byName.body));
    assert.deepEqual(byName.body.chunk.map((c) => c.room_id), [rooms.get("Room 3")]);
    assert.equal(byName.body.total_room_count_estimate, 1);
    const byTopic = await searchRooms({ filter: { generic_search_term: "TOPIC NUMBER" } });
    assert.equal(byTopic.body.chunk.length, 5);
    const byAlias = await searchRooms({ filter: { generic_search_term: "the-space" } });
    assert.deepEqual(byAlias.body.chunk.map((c) => c.room_id), [rooms.get("Space")]);
    const wildcard = await searchRooms({ filter: { generic_search_term: "%" } });
    assert.deepEqual(wildcard.body.chunk, [], "LIKE wildcards are matched literally");
    const none = await searchRooms({ filter: { generic_search_term: "nothing like this" } });
    assert.deepEqual(none.body.chunk, []);
    assert.equal(none.body.total_room_count_estimate, 0);
  });

  it("filter.room_types: null = rooms without a type, names pick typed rooms, empty = all", async () => {
    const spaces = await searchRooms({ filter: { room_types: ["m.space"] } });
    assert.deepEqual(spaces.body.chunk.map((c) => c.room_id), [rooms.get("Space")]);
    const untyped = await searchRooms({ filter: { room_types: [null] } });
    assert.equal(untyped.body.chunk.length, 6);
    assert.ok(!untyped.body.chunk.some((c) => c.room_id === rooms.get("Space")));
    const both = await searchRooms({ filter: { room_types: [null, "m.space"] } });
    assert.equal(both.body.chunk.length, 7);
    const empty = await searchRooms({ filter: { room_types: [] } });
    assert.equal(empty.body.chunk.length, 7);
  });

  it("include_all_networks and third_party_instance_id are accepted; both at once → 400", async () => {
    const all = await searchRooms({ include_all_networks: true });
    assert.equal(all.status, 200);
    assert.equal(all.body.chunk.length, 7);
    const network = await searchRooms({ third_party_instance_id: "irc" });
    assert.equal(network.status, 200, JSON.stringify(network.body));
    assert.deepEqual(network.body.chunk, [], "no application service networks here");
    const both = await searchRooms({ include_all_networks: true, third_party_instance_id: "irc" });
    assert.equal(both.status, 400);
  });

  it("server= this server lists the local directory; another server → 400 (no federation)", async () => {
    const local = await publicRooms("?server=test.local");
    assert.equal(local.status, 200);
    assert.equal(local.body.chunk.length, 7);
    const remote = await publicRooms("?server=other.example");
    assert.equal(remote.status, 400);
    const postRemote = await searchRooms({}, "?server=other.example");
    assert.equal(postRemote.status, 400);
  });

  it("POST needs a token → 401 M_MISSING_TOKEN", async () => {
    const res = await api(base, "POST", `${V3}/publicRooms`, { body: {} });
    assert.equal(res.status, 401);
    assert.equal(res.body.errcode, "M_MISSING_TOKEN");
  });

  it("the list follows publishing, join rule changes, and a room emptying", async () => {
    const carol = await registerUser(base, "carol-dir");
    const room = await createRoom(base, carol, { preset: "public_chat", name: "Dynamic" });
    const listed = async () => (await publicRooms()).body.chunk.some((c) => c.room_id === room);
    assert.equal(await listed(), false, "not published yet");
    assert.equal((await api(base, "PUT", listPath(room), { token: carol.accessToken, body: { visibility: "public" } })).status, 200);
    assert.equal(await listed(), true);
    assert.equal((await putState(base, carol, room, "m.room.join_rules", "", { join_rule: "invite" })).status, 200);
    assert.equal(await listed(), false, "an invite-only room leaves the list");
    assert.equal((await putState(base, carol, room, "m.room.join_rules", "", { join_rule: "knock" })).status, 200);
    assert.equal(await listed(), true, "a knock room is listed");
    assert.equal((await roomAction(base, carol, room, "leave")).status, 200);
    assert.equal(await listed(), false, "a room nobody is in is not listed");
  });
});
