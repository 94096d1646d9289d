/**
 * Account data and room tags over real HTTP: round trips, every refusal (another user's
 * data, unknown entries, server-controlled types, malformed room ids and bodies, bad tag
 * order), m.direct keeping the DM flag, and the stream_log position each write takes.
 * Every 200 is checked against the spec's OpenAPI documents.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, createRoom, enc, storageOf } from "./room-helpers.js";
import type { UserId } from "../../src/events/ids.js";
import type { StreamLogRow } from "../../src/storage/rows.js";

describe("account data and tags", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;

  const globalPath = (u: TestUser | string, type: string) => `${V3}/user/${enc(typeof u === "string" ? u : u.userId)}/account_data/${enc(type)}`;
  const roomPath = (u: TestUser | string, room: string, type: string) => `${V3}/user/${enc(typeof u === "string" ? u : u.userId)}/rooms/${enc(room)}/account_data/${enc(type)}`;
  const tagsPath = (u: TestUser, room: string) => `${V3}/user/${enc(u.userId)}/rooms/${enc(room)}/tags`;
  const tagPath = (u: TestUser, room: string, tag: string) => `${tagsPath(u, room)}/${enc(tag)}`;

  /** Log rows written while `fn` runs. */
  async function logDuring(fn: () => Promise<unknown>): Promise<StreamLogRow[]> {
    const s = storageOf(server);
    const before = await s.streams.highestPosition();
    await fn();
    return s.streams.read(before, await s.streams.highestPosition(), 1000);
  }

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    roomId = await createRoom(base, alice, { name: "Tagged" });
  });
  after(async () => {
    await server.close();
  });

  describe("global account data", () => {
    it("PUT then GET answers the content; both match the spec; one account_data position", async () => {
      const content = { theme: "dark", nested: { list: [1, 2, 3] } };
      let put!: Awaited<ReturnType<typeof api>>;
      const rows = await logDuring(async () => {
        put = await api(base, "PUT", globalPath(alice, "org.example.settings"), { token: alice.accessToken, body: content });
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      await assertMatchesSpec("account-data.yaml", "/user/{userId}/account_data/{type}", "put", 200, put.body);
      assert.deepEqual(rows.map((r) => [r.kind, r.userId, r.roomId]), [["account_data", alice.userId, null]]);
      const got = await api(base, "GET", globalPath(alice, "org.example.settings"), { token: alice.accessToken });
      assert.equal(got.status, 200);
      await assertMatchesSpec("account-data.yaml", "/user/{userId}/account_data/{type}", "get", 200, got.body);
      assert.deepEqual(got.body, content);
    });

    it("a second PUT replaces the content", async () => {
      await api(base, "PUT", globalPath(alice, "org.example.replace"), { token: alice.accessToken, body: { a: 1 } });
      await api(base, "PUT", globalPath(alice, "org.example.replace"), { token: alice.accessToken, body: { b: 2 } });
      const got = await api(base, "GET", globalPath(alice, "org.example.replace"), { token: alice.accessToken });
      assert.deepEqual(got.body, { b: 2 });
    });

    it("an unknown type is 404 M_NOT_FOUND", async () => {
      const got = await api(base, "GET", globalPath(alice, "org.example.never"), { token: alice.accessToken });
      assert.equal(got.status, 404);
      assert.equal(got.body.errcode, "M_NOT_FOUND");
    });

    it("another user's account data is 403 M_FORBIDDEN, to read and to write", async () => {
      await api(base, "PUT", globalPath(bob, "org.example.secret"), { token: bob.accessToken, body: { s: 1 } });
      const read = await api(base, "GET", globalPath(bob, "org.example.secret"), { token: alice.accessToken });
      assert.equal(read.status, 403);
      assert.equal(read.body.errcode, "M_FORBIDDEN");
      const write = await api(base, "PUT", globalPath(bob, "org.example.secret"), { token: alice.accessToken, body: { s: 2 } });
      assert.equal(write.status, 403);
      assert.equal(write.body.errcode, "M_FORBIDDEN");
      const still = await api(base, "GET", globalPath(bob, "org.example.secret"), { token: bob.accessToken });
      assert.deepEqual(still.body, { s: 1 });
    });

    it("m.fully_read and m.push_rules cannot be PUT: 405 M_BAD_JSON (globally and per room)", async () => {
      for (const type of ["m.fully_read", "m.push_rules"]) {
        for (const path of [globalPath(alice, type), roomPath(alice, roomId, type)]) {
          const res = await api(base, "PUT", path, { token: alice.accessToken, body: { event_id: "$x" } });
          assert.equal(res.status, 405, `${path}: ${JSON.stringify(res.body)}`);
          assert.equal(res.body.errcode, "M_BAD_JSON");
        }
      }
    });

    it("an m.ignored_user_list naming the user themselves is 400 M_INVALID_PARAM (Synapse) and is not stored", async () => {
      const bad = await api(base, "PUT", globalPath(alice, "m.ignored_user_list"), { token: alice.accessToken, body: { ignored_users: { [alice.userId]: {}, [bob.userId]: {} } } });
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal(bad.body.errcode, "M_INVALID_PARAM");
      assert.equal((await api(base, "GET", globalPath(alice, "m.ignored_user_list"), { token: alice.accessToken })).status, 404);
      const good = await api(base, "PUT", globalPath(alice, "m.ignored_user_list"), { token: alice.accessToken, body: { ignored_users: { [bob.userId]: {} } } });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      // room account data of that type is not an ignore list
      const inRoom = await api(base, "PUT", roomPath(alice, roomId, "m.ignored_user_list"), { token: alice.accessToken, body: { ignored_users: { [alice.userId]: {} } } });
      assert.equal(inRoom.status, 200, JSON.stringify(inRoom.body));
      await api(base, "PUT", globalPath(alice, "m.ignored_user_list"), { token: alice.accessToken, body: { ignored_users: {} } });
    });

    it("m.push_rules reads as the push rules (global) and as {} in a room, as Synapse answers", async () => {
      const global = await api<{ global?: Record<string, unknown> }>(base, "GET", globalPath(alice, "m.push_rules"), { token: alice.accessToken });
      assert.equal(global.status, 200, JSON.stringify(global.body));
      await assertMatchesSpec("account-data.yaml", "/user/{userId}/account_data/{type}", "get", 200, global.body);
      const rules = await api(base, "GET", `${V3}/pushrules/`, { token: alice.accessToken });
      assert.deepEqual(global.body, rules.body, "the same document as GET /pushrules/");
      assert.ok(Array.isArray(global.body.global?.override));
      const room = await api(base, "GET", roomPath(alice, roomId, "m.push_rules"), { token: alice.accessToken });
      assert.equal(room.status, 200);
      assert.deepEqual(room.body, {});
    });

    it("a body that is not a JSON object is 400 (M_BAD_JSON for an array, M_NOT_JSON for garbage)", async () => {
      const arr = await api(base, "PUT", globalPath(alice, "org.example.bad"), { token: alice.accessToken, body: [1, 2] });
      assert.equal(arr.status, 400);
      assert.equal(arr.body.errcode, "M_BAD_JSON");
      const garbage = await api(base, "PUT", globalPath(alice, "org.example.bad"), { token: alice.accessToken, body: "{nope" });
      assert.equal(garbage.status, 400);
      assert.equal(garbage.body.errcode, "M_NOT_JSON");
    });

    it("requires an access token", async () => {
      const res = await api(base, "GET", globalPath(alice, "org.example.settings"));
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    });
  });

  describe("room account data", () => {
    it("PUT then GET, separate from global data and from other rooms; the position names the room", async () => {
      let put!: Awaited<ReturnType<typeof api>>;
      const rows = await logDuring(async () => {
        put = await api(base, "PUT", roomPath(alice, roomId, "org.example.room"), { token: alice.accessToken, body: { r: 1 } });
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      await assertMatchesSpec("account-data.yaml", "/user/{userId}/rooms/{roomId}/account_data/{type}", "put", 200, put.body);
      assert.deepEqual(rows.map((r) => [r.kind, r.userId, r.roomId]), [["account_data", alice.userId, roomId]]);
      const got = await api(base, "GET", roomPath(alice, roomId, "org.example.room"), { token: alice.accessToken });
      assert.equal(got.status, 200);
      await assertMatchesSpec("account-data.yaml", "/user/{userId}/rooms/{roomId}/account_data/{type}", "get", 200, got.body);
      assert.deepEqual(got.body, { r: 1 });
      const global = await api(base, "GET", globalPath(alice, "org.example.room"), { token: alice.accessToken });
      assert.equal(global.status, 404);
      const elsewhere = await api(base, "GET", roomPath(alice, "!elsewhere:test.local", "org.example.room"), { token: alice.accessToken });
      assert.equal(elsewhere.status, 404);
      assert.equal(elsewhere.body.errcode, "M_NOT_FOUND");
    });

    it("the room need not exist or be joined (only well-formed), as in Synapse", async () => {
      const res = await api(base, "PUT", roomPath(bob, "!unknown:test.local", "org.example.x"), { token: bob.accessToken, body: { x: 1 } });
      assert.equal(res.status, 200);
    });

    it("a malformed room id is 400 M_INVALID_PARAM", async () => {
      for (const method of ["GET", "PUT"]) {
        const res = await api(base, method, roomPath(alice, "not-a-room", "org.example.x"), { token: alice.accessToken, ...(method === "PUT" ? { body: {} } : {}) });
        assert.equal(res.status, 400, method);
        assert.equal(res.body.errcode, "M_INVALID_PARAM");
      }
    });

    it("another user's room account data is 403", async () => {
      const read = await api(base, "GET", roomPath(bob, roomId, "org.example.room"), { token: alice.accessToken });
      assert.equal(read.status, 403);
      const write = await api(base, "PUT", roomPath(bob, roomId, "org.example.room"), { token: alice.accessToken, body: {} });
      assert.equal(write.status, 403);
      assert.equal(write.body.errcode, "M_FORBIDDEN");
    });
  });

  describe("m.direct and the DM flag", () => {
    it("rooms listed in m.direct are DMs for the owner only; rewriting m.direct updates the flag", async () => {
      const dm = await createRoom(base, alice, { is_direct: true, invite: [bob.userId] });
      const other = await createRoom(base, alice);
      const ad = server.app.services.accountData;
      assert.equal(await ad.isDm(alice.userId as UserId, dm), false, "is_direct alone does not make a DM: only m.direct counts");
      const put = await api(base, "PUT", globalPath(alice, "m.direct"), { token: alice.accessToken, body: { [bob.userId]: [dm] } });
      assert.equal(put.status, 200);
      assert.equal(await ad.isDm(alice.userId as UserId, dm), true);
      assert.equal(await ad.isDm(alice.userId as UserId, other), false);
      assert.equal(await ad.isDm(bob.userId as UserId, dm), false);
      assert.deepEqual(await ad.dmRooms(alice.userId as UserId), [dm]);
      await api(base, "PUT", globalPath(alice, "m.direct"), { token: alice.accessToken, body: { [bob.userId]: [other] } });
      assert.equal(await ad.isDm(alice.userId as UserId, dm), false);
      assert.equal(await ad.isDm(alice.userId as UserId, other), true);
      const got = await api(base, "GET", globalPath(alice, "m.direct"), { token: alice.accessToken });
      assert.deepEqual(got.body, { [bob.userId]: [other] });
    });
  });

  describe("tags", () => {
    it("PUT, GET and DELETE a tag; tags are the room's m.tag account data; each change takes a position", async () => {
      let put!: Awaited<ReturnType<typeof api>>;
      const rows = await logDuring(async () => {
        put = await api(base, "PUT", tagPath(alice, roomId, "m.favourite"), { token: alice.accessToken, body: { order: 0.25 } });
      });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      await assertMatchesSpec("tags.yaml", "/user/{userId}/rooms/{roomId}/tags/{tag}", "put", 200, put.body);
      assert.deepEqual(rows.map((r) => [r.kind, r.userId, r.roomId]), [["account_data", alice.userId, roomId]]);
      await api(base, "PUT", tagPath(alice, roomId, "u.work"), { token: alice.accessToken, body: {} });

      const got = await api<{ tags: Record<string, unknown> }>(base, "GET", tagsPath(alice, roomId), { token: alice.accessToken });
      assert.equal(got.status, 200);
      await assertMatchesSpec("tags.yaml", "/user/{userId}/rooms/{roomId}/tags", "get", 200, got.body);
      assert.deepEqual(got.body, { tags: { "m.favourite": { order: 0.25 }, "u.work": {} } });
      const asAccountData = await api(base, "GET", roomPath(alice, roomId, "m.tag"), { token: alice.accessToken });
      assert.deepEqual(asAccountData.body, { tags: { "m.favourite": { order: 0.25 }, "u.work": {} } });

      const del = await api(base, "DELETE", tagPath(alice, roomId, "m.favourite"), { token: alice.accessToken });
      assert.equal(del.status, 200);
      await assertMatchesSpec("tags.yaml", "/user/{userId}/rooms/{roomId}/tags/{tag}", "delete", 200, del.body);
      const after = await api(base, "GET", tagsPath(alice, roomId), { token: alice.accessToken });
      assert.deepEqual(after.body, { tags: { "u.work": {} } });

      const none = await logDuring(async () => {
        const again = await api(base, "DELETE", tagPath(alice, roomId, "m.favourite"), { token: alice.accessToken });
        assert.equal(again.status, 200, "deleting an absent tag is fine");
      });
      assert.deepEqual(none, [], "and takes no position");
    });

    it("an untagged room answers empty tags", async () => {
      const room = await createRoom(base, bob);
      const got = await api(base, "GET", tagsPath(bob, room), { token: bob.accessToken });
      assert.deepEqual(got.body, { tags: {} });
    });

    it("order must be a number in [0, 1]: 400 M_BAD_JSON otherwise, and nothing is stored", async () => {
      for (const order of [2, -0.1, "0.5", null, [0.5]]) {
        const res = await api(base, "PUT", tagPath(alice, roomId, "u.bad"), { token: alice.accessToken, body: { order } });
        assert.equal(res.status, 400, `order ${JSON.stringify(order)}`);
        assert.equal(res.body.errcode, "M_BAD_JSON");
      }
      for (const order of [0, 1, 0.5]) {
        const res = await api(base, "PUT", tagPath(alice, roomId, `u.ok${order}`), { token: alice.accessToken, body: { order } });
        assert.equal(res.status, 200, `order ${order}`);
      }
      const got = await api<{ tags: Record<string, unknown> }>(base, "GET", tagsPath(alice, roomId), { token: alice.accessToken });
      assert.equal(got.body.tags["u.bad"], undefined);
    });

    it("a tag over 255 bytes is 400 M_INVALID_PARAM", async () => {
      const res = await api(base, "PUT", tagPath(alice, roomId, "u." + "é".repeat(127)), { token: alice.accessToken, body: {} });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_INVALID_PARAM");
    });

    it("tagging a room you never had a membership in is 403; another user's tags are 403", async () => {
      const notMine = await api(base, "PUT", tagPath(bob, roomId, "u.x"), { token: bob.accessToken, body: {} });
      assert.equal(notMine.status, 403);
      assert.equal(notMine.body.errcode, "M_FORBIDDEN");
      for (const [method, path] of [
        ["GET", tagsPath(alice, roomId)],
        ["PUT", tagPath(alice, roomId, "u.x")],
        ["DELETE", tagPath(alice, roomId, "u.work")],
      ] as const) {
        const res = await api(base, method, path, { token: bob.accessToken, ...(method === "PUT" ? { body: {} } : {}) });
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.errcode, "M_FORBIDDEN");
      }
    });

    it("concurrent tag writes on one room all land", async () => {
      const room = await createRoom(base, alice);
      const names = Array.from({ length: 20 }, (_, i) => `u.t${i}`);
      const results = await Promise.all(names.map((n) => api(base, "PUT", tagPath(alice, room, n), { token: alice.accessToken, body: {} })));
      assert.ok(results.every((r) => r.status === 200));
      const got = await api<{ tags: Record<string, unknown> }>(base, "GET", tagsPath(alice, room), { token: alice.accessToken });
      assert.deepEqual(Object.keys(got.body.tags).sort(), [...names].sort());
    });
  });
});
