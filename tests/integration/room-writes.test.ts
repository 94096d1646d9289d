/**
 * The room write path over real HTTP: POST /createRoom with every option, membership
 * changes, PUT /send and /state, redactions, and the room summary kept at write time.
 * Results are read back from storage (current state, memberships, events, summaries);
 * every 200 is checked against the spec's OpenAPI documents.
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import {
  V3,
  createRoom,
  enc,
  joinRoom,
  loginNewDevice,
  membershipOf,
  nextTxnId,
  putState,
  roomAction,
  roomEvents,
  sendMessage,
  stateContent,
  storageOf,
} from "./room-helpers.js";

describe("room writes", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    carol = await registerUser(base, "carol");
  });
  after(async () => {
    await server.close();
  });

  describe("POST /createRoom", () => {
    it("answers a room id that matches the spec; the creator is joined with power 100", async () => {
      const res = await api<{ room_id: string }>(base, "POST", `${V3}/createRoom`, { token: alice.accessToken, body: {} });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("create_room.yaml", "/createRoom", "post", 200, res.body);
      const roomId = res.body.room_id;
      assert.match(roomId, /^![A-Za-z]+:test\.local$/);
      assert.equal(await membershipOf(server, roomId, alice.userId), "join");
      const pl = await stateContent(server, roomId, "m.room.power_levels");
      assert.deepEqual((pl?.users as Record<string, number>)[alice.userId], 100);
      const create = await stateContent(server, roomId, "m.room.create");
      assert.equal(create?.room_version, "10");
      assert.equal(create?.creator, alice.userId, "room version 10 keeps `creator` in the create event");
    });

    it("the first events are create, creator's join, power levels, then the preset's state (spec 'Creation')", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat", name: "Ordered", topic: "t" });
      const types = (await roomEvents(server, roomId)).map((e) => e.pdu.type);
      assert.deepEqual(types, [
        "m.room.create",
        "m.room.member",
        "m.room.power_levels",
        "m.room.join_rules",
        "m.room.history_visibility",
        "m.room.guest_access",
        "m.room.name",
        "m.room.topic",
      ]);
    });

    it("preset private_chat: invite-only, shared history, guests can join, invite level 0", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.join_rules"), { join_rule: "invite" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.history_visibility"), { history_visibility: "shared" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.guest_access"), { guest_access: "can_join" });
      const pl = await stateContent(server, roomId, "m.room.power_levels");
      assert.equal(pl?.invite, 0);
      assert.deepEqual(pl?.users, { [alice.userId]: 100 });
    });

    it("preset public_chat: public join rule, shared history, no guest access event, invite level 50", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.join_rules"), { join_rule: "public" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.history_visibility"), { history_visibility: "shared" });
      assert.equal(await stateContent(server, roomId, "m.room.guest_access"), null);
      assert.equal((await stateContent(server, roomId, "m.room.power_levels"))?.invite, 50);
    });

    it("visibility public without a preset picks public_chat; private without one picks private_chat", async () => {
      const pub = await createRoom(base, alice, { visibility: "public" });
      assert.deepEqual(await stateContent(server, pub, "m.room.join_rules"), { join_rule: "public" });
      const priv = await createRoom(base, alice, { visibility: "private" });
      assert.deepEqual(await stateContent(server, priv, "m.room.join_rules"), { join_rule: "invite" });
    });

    it("preset trusted_private_chat: invitees get power 100 and an invite; is_direct is on the invite event", async () => {
      const roomId = await createRoom(base, alice, { preset: "trusted_private_chat", invite: [bob.userId], is_direct: true });
      const pl = await stateContent(server, roomId, "m.room.power_levels");
      assert.deepEqual(pl?.users, { [alice.userId]: 100, [bob.userId]: 100 });
      assert.deepEqual(await stateContent(server, roomId, "m.room.join_rules"), { join_rule: "invite" });
      assert.equal(await membershipOf(server, roomId, bob.userId), "invite");
      const invite = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", bob.userId);
      assert.equal(invite?.pdu.sender, alice.userId);
      assert.equal(invite?.pdu.content.membership, "invite");
      assert.equal(invite?.pdu.content.is_direct, true);
    });

    it("invite without is_direct: the invite event carries no is_direct; private_chat invitees keep power 0", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat", invite: [bob.userId, carol.userId] });
      for (const u of [bob, carol]) {
        assert.equal(await membershipOf(server, roomId, u.userId), "invite");
        const ev = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", u.userId);
        assert.equal(ev?.pdu.content.is_direct, undefined);
      }
      assert.deepEqual((await stateContent(server, roomId, "m.room.power_levels"))?.users, { [alice.userId]: 100 });
    });

    it("invite of an unknown or remote user → 404 / 403 before any room is made", async () => {
      const fay = await registerUser(base, "fay-invites");
      const gus = await registerUser(base, "gus-invitee");
      const unknown = await api(base, "POST", `${V3}/createRoom`, { token: fay.accessToken, body: { invite: [gus.userId, "@nobody:test.local"] } });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.errcode, "M_NOT_FOUND");
      const remote = await api(base, "POST", `${V3}/createRoom`, { token: fay.accessToken, body: { invite: ["@someone:elsewhere.example"] } });
      assert.equal(remote.status, 403);
      assert.equal(remote.body.errcode, "M_FORBIDDEN");
      const malformed = await api(base, "POST", `${V3}/createRoom`, { token: fay.accessToken, body: { invite: ["not-a-user-id"] } });
      assert.equal(malformed.status, 400);
      assert.deepEqual(await storageOf(server).rooms.roomsOfUser(fay.userId as never), [], "no half-made room is left behind");
      assert.deepEqual(await storageOf(server).rooms.roomsOfUser(gus.userId as never), [], "and nobody was invited");
    });

    it("name and topic become m.room.name and m.room.topic", async () => {
      const roomId = await createRoom(base, alice, { name: "The Room", topic: "What we talk about" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.name"), { name: "The Room" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.topic"), { topic: "What we talk about" });
    });

    it("initial_state overrides the preset's events (sent once, with the given content) and adds others", async () => {
      const roomId = await createRoom(base, alice, {
        preset: "public_chat",
        initial_state: [
          { type: "m.room.join_rules", state_key: "", content: { join_rule: "knock" } },
          { type: "m.room.history_visibility", content: { history_visibility: "world_readable" } },
          { type: "org.example.custom", state_key: "k", content: { v: 1 } },
        ],
      });
      assert.deepEqual(await stateContent(server, roomId, "m.room.join_rules"), { join_rule: "knock" });
      assert.deepEqual(await stateContent(server, roomId, "m.room.history_visibility"), { history_visibility: "world_readable" });
      assert.deepEqual(await stateContent(server, roomId, "org.example.custom", "k"), { v: 1 });
      const storage = storageOf(server);
      assert.equal((await storage.events.stateHistory(roomId, "m.room.join_rules", "")).length, 1, "the preset's join rules are not sent as well");
      assert.equal((await storage.events.stateHistory(roomId, "m.room.history_visibility", "")).length, 1);
    });

    it("initial_state power levels replace the generated ones: sent once, in their place (Synapse)", async () => {
      const content = { users: { [alice.userId]: 100, [bob.userId]: 50 }, state_default: 40, events_default: 0, invite: 0 };
      const roomId = await createRoom(base, alice, { preset: "private_chat", initial_state: [{ type: "m.room.power_levels", content }] });
      assert.deepEqual(await stateContent(server, roomId, "m.room.power_levels"), content);
      const history = await storageOf(server).events.stateHistory(roomId, "m.room.power_levels", "");
      assert.equal(history.length, 1, "no generated power levels before them");
      const types = (await roomEvents(server, roomId)).map((e) => e.pdu.type);
      assert.deepEqual(types.slice(0, 3), ["m.room.create", "m.room.member", "m.room.power_levels"]);
    });

    it("initial_state with m.room.create or m.room.member → 400 M_BAD_JSON before any room is made", async () => {
      const erin = await registerUser(base, "erin-initial");
      for (const type of ["m.room.member", "m.room.create"]) {
        const res = await api(base, "POST", `${V3}/createRoom`, {
          token: erin.accessToken,
          body: { initial_state: [{ type, state_key: type === "m.room.member" ? erin.userId : "", content: { membership: "join" } }] },
        });
        assert.equal(res.status, 400, type);
        assert.equal(res.body.errcode, "M_BAD_JSON", type);
      }
      assert.deepEqual(await storageOf(server).rooms.roomsOfUser(erin.userId as never), [], "no half-made room is left behind");
    });

    it("room_alias_name: the alias resolves, m.room.canonical_alias names it; taken → 400 M_ROOM_IN_USE", async () => {
      const roomId = await createRoom(base, alice, { room_alias_name: "writes-alias" });
      const alias = "#writes-alias:test.local";
      assert.deepEqual(await stateContent(server, roomId, "m.room.canonical_alias"), { alias });
      assert.equal((await storageOf(server).aliases.get(alias))?.roomId, roomId);
      const again = await api(base, "POST", `${V3}/createRoom`, { token: bob.accessToken, body: { room_alias_name: "writes-alias" } });
      assert.equal(again.status, 400);
      assert.equal(again.body.errcode, "M_ROOM_IN_USE");
      assert.equal((await storageOf(server).aliases.get(alias))?.roomId, roomId, "the alias still points at the first room");
    });

    it("room_alias_name with an m.room.canonical_alias in initial_state: the given event wins and is the only one", async () => {
      const roomId = await createRoom(base, alice, {
        room_alias_name: "writes-alias-2",
        initial_state: [{ type: "m.room.canonical_alias", content: { alt_aliases: ["#writes-alias-2:test.local"] } }],
      });
      assert.equal((await storageOf(server).aliases.get("#writes-alias-2:test.local"))?.roomId, roomId);
      assert.deepEqual(await stateContent(server, roomId, "m.room.canonical_alias"), { alt_aliases: ["#writes-alias-2:test.local"] });
      assert.equal((await storageOf(server).events.stateHistory(roomId, "m.room.canonical_alias", "")).length, 1);
    });

    it("room_alias_name with a colon or whitespace → 400 M_INVALID_PARAM", async () => {
      for (const name of ["bad:name", "bad name"]) {
        const res = await api(base, "POST", `${V3}/createRoom`, { token: alice.accessToken, body: { room_alias_name: name } });
        assert.equal(res.status, 400, name);
        assert.equal(res.body.errcode, "M_INVALID_PARAM", name);
      }
    });

    it("power_level_content_override replaces the defaults it names and keeps the rest", async () => {
      const roomId = await createRoom(base, alice, {
        preset: "private_chat",
        power_level_content_override: { invite: 100, events_default: 20, events: { "m.room.name": 75 } },
      });
      const pl = await stateContent(server, roomId, "m.room.power_levels");
      assert.equal(pl?.invite, 100);
      assert.equal(pl?.events_default, 20);
      assert.deepEqual(pl?.events, { "m.room.name": 75 });
      assert.equal(pl?.kick, 50);
      assert.deepEqual(pl?.users, { [alice.userId]: 100 });
    });

    it("creation_content goes into m.room.create, including the room type (also kept in the summary)", async () => {
      const roomId = await createRoom(base, alice, { creation_content: { type: "m.space", "m.federate": false } });
      const create = await stateContent(server, roomId, "m.room.create");
      assert.equal(create?.type, "m.space");
      assert.equal(create?.["m.federate"], false);
      assert.equal((await storageOf(server).rooms.summary(roomId))?.roomType, "m.space");
    });

    it("room_version 11: the create event has no creator field; the creator still has power", async () => {
      const roomId = await createRoom(base, alice, { room_version: "11", name: "v11" });
      const create = await stateContent(server, roomId, "m.room.create");
      assert.equal(create?.room_version, "11");
      assert.equal(Object.hasOwn(create ?? {}, "creator"), false);
      assert.equal((await storageOf(server).rooms.get(roomId))?.roomVersion, "11");
      assert.deepEqual(await stateContent(server, roomId, "m.room.name"), { name: "v11" });
    });

    it("an unsupported room_version → 400 M_UNSUPPORTED_ROOM_VERSION", async () => {
      const res = await api(base, "POST", `${V3}/createRoom`, { token: alice.accessToken, body: { room_version: "999" } });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_UNSUPPORTED_ROOM_VERSION");
    });

    it("visibility public publishes the room in /publicRooms; private does not", async () => {
      const pub = await createRoom(base, alice, { visibility: "public", name: "Published via createRoom" });
      const priv = await createRoom(base, alice, { visibility: "private", name: "Not published" });
      const res = await api<{ chunk: { room_id: string }[] }>(base, "GET", `${V3}/publicRooms`, { token: alice.accessToken });
      assert.equal(res.status, 200);
      const ids = res.body.chunk.map((c) => c.room_id);
      assert.ok(ids.includes(pub), "the public room is listed");
      assert.ok(!ids.includes(priv), "the private room is not listed");
      assert.equal((await storageOf(server).rooms.get(pub))?.visibility, "public");
    });

    it("read back over HTTP: GET /rooms/{roomId}/state/{eventType}/{stateKey} answers what storage holds", async () => {
      const roomId = await createRoom(base, alice, {
        preset: "trusted_private_chat",
        name: "Read back",
        topic: "over HTTP",
        invite: [carol.userId],
        is_direct: true,
        initial_state: [{ type: "org.example.custom", state_key: "k", content: { v: 2 } }],
      });
      const entries: [string, string][] = [
        ["m.room.create", ""],
        ["m.room.power_levels", ""],
        ["m.room.join_rules", ""],
        ["m.room.history_visibility", ""],
        ["m.room.guest_access", ""],
        ["m.room.name", ""],
        ["m.room.topic", ""],
        ["m.room.member", alice.userId],
        ["m.room.member", carol.userId],
        ["org.example.custom", "k"],
      ];
      for (const [type, stateKey] of entries) {
        const res = await api(base, "GET", `${V3}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token: alice.accessToken });
        assert.equal(res.status, 200, `${type}/${stateKey}: ${JSON.stringify(res.body)}`);
        await assertMatchesSpec("rooms.yaml", "/rooms/{roomId}/state/{eventType}/{stateKey}", "get", 200, res.body);
        assert.deepEqual(res.body, await stateContent(server, roomId, type, stateKey), `${type}/${stateKey}`);
      }
      const member = await api(base, "GET", `${V3}/rooms/${enc(roomId)}/state/m.room.member/${enc(carol.userId)}`, { token: alice.accessToken });
      assert.deepEqual(member.body, { membership: "invite", displayname: "carol", is_direct: true });
    });

    it("without a token → 401 M_MISSING_TOKEN", async () => {
      const res = await api(base, "POST", `${V3}/createRoom`, { body: {} });
      assert.equal(res.status, 401);
      assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    });
  });

  describe("membership", () => {
    it("join a public room (POST /rooms/{roomId}/join and /join/{roomIdOrAlias}), answers match the spec", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      const res = await roomAction(base, bob, roomId, "join");
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("joining.yaml", "/rooms/{roomId}/join", "post", 200, res.body);
      assert.deepEqual(res.body, { room_id: roomId });
      assert.equal(await membershipOf(server, roomId, bob.userId), "join");
      const joinEvent = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", bob.userId);
      assert.deepEqual(joinEvent?.pdu.content, { membership: "join", displayname: "bob" }, "the profile is copied into the member event");
      const res2 = await api(base, "POST", `${V3}/join/${enc(roomId)}`, { token: carol.accessToken, body: {} });
      assert.equal(res2.status, 200, JSON.stringify(res2.body));
      await assertMatchesSpec("joining.yaml", "/join/{roomIdOrAlias}", "post", 200, res2.body);
      assert.equal(await membershipOf(server, roomId, carol.userId), "join");
    });

    it("join an invite-only room without an invite → 403 M_FORBIDDEN", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      const res = await roomAction(base, bob, roomId, "join");
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
      assert.equal(await membershipOf(server, roomId, bob.userId), null);
    });

    it("invite, then join an invite-only room", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      const inv = await roomAction(base, alice, roomId, "invite", { user_id: bob.userId, reason: "come in" });
      assert.equal(inv.status, 200, JSON.stringify(inv.body));
      await assertMatchesSpec("inviting.yaml", "/rooms/{roomId}/invite ", "post", 200, inv.body);
      const invite = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", bob.userId);
      assert.equal(invite?.pdu.content.membership, "invite");
      assert.equal(invite?.pdu.content.reason, "come in");
      assert.equal((await roomAction(base, bob, roomId, "join")).status, 200);
      assert.equal(await membershipOf(server, roomId, bob.userId), "join");
    });

    it("leave: membership becomes leave, the answer matches the spec", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const res = await roomAction(base, bob, roomId, "leave", { reason: "bye" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("leaving.yaml", "/rooms/{roomId}/leave", "post", 200, res.body);
      const ev = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", bob.userId);
      assert.equal(ev?.pdu.content.membership, "leave");
      assert.equal(ev?.pdu.content.reason, "bye");
    });

    it("kick needs the kick level: a plain member → 403; the creator → the target leaves", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      await joinRoom(base, carol, roomId);
      const denied = await roomAction(base, bob, roomId, "kick", { user_id: carol.userId });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.errcode, "M_FORBIDDEN");
      assert.equal(await membershipOf(server, roomId, carol.userId), "join");
      const res = await roomAction(base, alice, roomId, "kick", { user_id: carol.userId, reason: "too loud" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("kicking.yaml", "/rooms/{roomId}/kick", "post", 200, res.body);
      const ev = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", carol.userId);
      assert.equal(ev?.pdu.sender, alice.userId);
      assert.equal(ev?.pdu.content.membership, "leave");
      assert.equal(ev?.pdu.content.reason, "too loud");
    });

    it("ban → join refused with 403; unban → leave, and the user may join again", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const ban = await roomAction(base, alice, roomId, "ban", { user_id: bob.userId, reason: "spam" });
      assert.equal(ban.status, 200, JSON.stringify(ban.body));
      await assertMatchesSpec("banning.yaml", "/rooms/{roomId}/ban", "post", 200, ban.body);
      assert.equal(await membershipOf(server, roomId, bob.userId), "ban");
      const join = await roomAction(base, bob, roomId, "join");
      assert.equal(join.status, 403);
      assert.equal(join.body.errcode, "M_FORBIDDEN");
      assert.equal(await membershipOf(server, roomId, bob.userId), "ban");
      const unban = await roomAction(base, alice, roomId, "unban", { user_id: bob.userId });
      assert.equal(unban.status, 200, JSON.stringify(unban.body));
      await assertMatchesSpec("banning.yaml", "/rooms/{roomId}/unban", "post", 200, unban.body);
      assert.equal(await membershipOf(server, roomId, bob.userId), "leave");
      await joinRoom(base, bob, roomId);
      assert.equal(await membershipOf(server, roomId, bob.userId), "join");
    });

    it("a plain member may not ban → 403", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      await joinRoom(base, carol, roomId);
      const res = await roomAction(base, bob, roomId, "ban", { user_id: carol.userId });
      assert.equal(res.status, 403);
      assert.equal(await membershipOf(server, roomId, carol.userId), "join");
    });

    it("knock on a knock room → membership knock; knocking on a public room → 403", async () => {
      const knockRoom = await createRoom(base, alice, { initial_state: [{ type: "m.room.join_rules", content: { join_rule: "knock" } }] });
      const res = await api(base, "POST", `${V3}/knock/${enc(knockRoom)}`, { token: bob.accessToken, body: { reason: "let me in" } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("knocking.yaml", "/knock/{roomIdOrAlias}", "post", 200, res.body);
      assert.deepEqual(res.body, { room_id: knockRoom });
      assert.equal(await membershipOf(server, knockRoom, bob.userId), "knock");
      const publicRoom = await createRoom(base, alice, { preset: "public_chat" });
      const refused = await api(base, "POST", `${V3}/knock/${enc(publicRoom)}`, { token: bob.accessToken, body: {} });
      assert.equal(refused.status, 403);
      assert.equal(refused.body.errcode, "M_FORBIDDEN");
    });

    it("forget: 400 M_BAD_STATE while joined; 200 after leaving, and the room is forgotten", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const early = await roomAction(base, bob, roomId, "forget");
      assert.equal(early.status, 400);
      assert.equal(early.body.errcode, "M_BAD_STATE");
      assert.equal((await roomAction(base, bob, roomId, "leave")).status, 200);
      const res = await roomAction(base, bob, roomId, "forget");
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("leaving.yaml", "/rooms/{roomId}/forget", "post", 200, res.body);
      assert.equal(await storageOf(server).rooms.isForgotten(roomId, bob.userId as never), true);
    });

    it("join by alias (POST /join/{roomAlias}) answers the room id", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat", room_alias_name: "join-by-alias" });
      const res = await api(base, "POST", `${V3}/join/${enc("#join-by-alias:test.local")}`, { token: bob.accessToken, body: {} });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { room_id: roomId });
      assert.equal(await membershipOf(server, roomId, bob.userId), "join");
    });

    it("join of an unknown room or alias → 404 M_NOT_FOUND", async () => {
      for (const target of ["!doesnotexist:test.local", "#no-such-alias:test.local"]) {
        const res = await api(base, "POST", `${V3}/join/${enc(target)}`, { token: bob.accessToken, body: {} });
        assert.equal(res.status, 404, target);
        assert.equal(res.body.errcode, "M_NOT_FOUND", target);
      }
      const res = await roomAction(base, bob, "!doesnotexist:test.local", "join");
      assert.equal(res.status, 404);
    });

    it("invite of an unknown local user → 404; of a remote user → 403 (no federation)", async () => {
      const roomId = await createRoom(base, alice, { preset: "private_chat" });
      const unknown = await roomAction(base, alice, roomId, "invite", { user_id: "@nobody:test.local" });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.errcode, "M_NOT_FOUND");
      const remote = await roomAction(base, alice, roomId, "invite", { user_id: "@someone:elsewhere.example" });
      assert.equal(remote.status, 403);
      assert.equal(remote.body.errcode, "M_FORBIDDEN");
      assert.equal(await membershipOf(server, roomId, "@someone:elsewhere.example"), null);
    });

    it("joining a room one is already in answers the same room and writes no duplicate event (Synapse)", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      const first = await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", bob.userId);
      const count = (await roomEvents(server, roomId)).length;
      const again = await roomAction(base, bob, roomId, "join");
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, { room_id: roomId });
      assert.equal((await roomEvents(server, roomId)).length, count, "no second join event");
      assert.equal((await storageOf(server).rooms.currentStateEvent(roomId, "m.room.member", bob.userId))?.eventId, first?.eventId);
      const withReason = await roomAction(base, bob, roomId, "join", { reason: "changed content" });
      assert.equal(withReason.status, 200);
      assert.equal((await roomEvents(server, roomId)).length, count + 1, "a join with different content is a new event");
    });

    it("a non-member may not invite → 403; leaving a room one is not in → 403", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      const invite = await roomAction(base, bob, roomId, "invite", { user_id: carol.userId });
      assert.equal(invite.status, 403);
      assert.equal(invite.body.errcode, "M_FORBIDDEN");
      assert.equal(await membershipOf(server, roomId, carol.userId), null);
      const leave = await roomAction(base, bob, roomId, "leave");
      assert.equal(leave.status, 403);
      assert.equal(await membershipOf(server, roomId, bob.userId), null);
    });

    it("after leaving, sending is refused → 403", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      assert.equal((await roomAction(base, bob, roomId, "leave")).status, 200);
      const res = await sendMessage(base, bob, roomId, { msgtype: "m.text", body: "still here?" });
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
    });

    it("GET /joined_rooms lists the rooms the user is joined to, not those left", async () => {
      const dave = await registerUser(base, "dave-joined");
      const a = await createRoom(base, dave, {});
      const b = await createRoom(base, dave, {});
      assert.equal((await roomAction(base, dave, b, "leave")).status, 200);
      const res = await api<{ joined_rooms: string[] }>(base, "GET", `${V3}/joined_rooms`, { token: dave.accessToken });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.joined_rooms, [a]);
    });
  });

  describe("sending", () => {
    let roomId: string;
    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
    });

    it("PUT /send answers an event id matching the spec; the event is stored as sent", async () => {
      const res = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "hello" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("room_send.yaml", "/rooms/{roomId}/send/{eventType}/{txnId}", "put", 200, res.body);
      const ev = await storageOf(server).events.get(res.body.event_id);
      assert.equal(ev?.roomId, roomId);
      assert.equal(ev?.pdu.sender, alice.userId);
      assert.equal(ev?.pdu.type, "m.room.message");
      assert.deepEqual(ev?.pdu.content, { msgtype: "m.text", body: "hello" });
    });

    it("is idempotent per device and txn id: the same request twice gives one event", async () => {
      const txnId = nextTxnId();
      const before = (await roomEvents(server, roomId)).length;
      const first = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "once" }, { txnId });
      const second = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "once" }, { txnId });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(second.body.event_id, first.body.event_id);
      assert.equal((await roomEvents(server, roomId)).length, before + 1);
    });

    it("the same txn id from another device of the same user is a new event", async () => {
      const txnId = nextTxnId();
      const otherDevice = await loginNewDevice(base, alice);
      assert.notEqual(otherDevice.deviceId, alice.deviceId);
      const first = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "a" }, { txnId });
      const second = await sendMessage(base, otherDevice, roomId, { msgtype: "m.text", body: "a" }, { txnId });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.notEqual(second.body.event_id, first.body.event_id);
    });

    it("a non-member may not send → 403 M_FORBIDDEN", async () => {
      const res = await sendMessage(base, carol, roomId, { msgtype: "m.text", body: "let me talk" });
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
    });

    it("a state event above the sender's power level → 403 M_FORBIDDEN", async () => {
      const res = await putState(base, bob, roomId, "m.room.name", "", { name: "bob's room now" });
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
      assert.equal(await stateContent(server, roomId, "m.room.name"), null);
    });

    it("an event over 65,536 bytes → 413 M_TOO_LARGE; one comfortably under is accepted", async () => {
      const big = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "x".repeat(65_536) });
      assert.equal(big.status, 413);
      assert.equal(big.body.errcode, "M_TOO_LARGE");
      const fits = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "x".repeat(60_000) });
      assert.equal(fits.status, 200, JSON.stringify(fits.body));
    });

    it("floats in content → 400 M_BAD_JSON (canonical JSON has none)", async () => {
      const res = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "pi", value: 3.14 });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_BAD_JSON");
      const nested = await putState(base, alice, roomId, "org.example.float", "", { nested: { list: [1, 2.5] } });
      assert.equal(nested.status, 400);
      assert.equal(nested.body.errcode, "M_BAD_JSON");
    });

    it("state with an empty state key (with and without the trailing slash) and with a non-empty one", async () => {
      const noKey = await api<{ event_id: string }>(base, "PUT", `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, {
        token: alice.accessToken,
        body: { topic: "first" },
      });
      assert.equal(noKey.status, 200, JSON.stringify(noKey.body));
      await assertMatchesSpec("room_state.yaml", "/rooms/{roomId}/state/{eventType}/{stateKey}", "put", 200, noKey.body);
      assert.deepEqual(await stateContent(server, roomId, "m.room.topic"), { topic: "first" });

      const slash = await putState(base, alice, roomId, "m.room.topic", "", { topic: "second" });
      assert.equal(slash.status, 200, JSON.stringify(slash.body));
      assert.deepEqual(await stateContent(server, roomId, "m.room.topic"), { topic: "second" });
      assert.equal((await storageOf(server).events.get(slash.body.event_id))?.pdu.state_key, "");

      const keyed = await putState(base, alice, roomId, "org.example.widget", "w1", { url: "https://example.org" });
      assert.equal(keyed.status, 200, JSON.stringify(keyed.body));
      assert.deepEqual(await stateContent(server, roomId, "org.example.widget", "w1"), { url: "https://example.org" });
      assert.equal(await stateContent(server, roomId, "org.example.widget", ""), null);
    });

    it("a state key naming another user is refused → 403", async () => {
      const res = await putState(base, alice, roomId, "org.example.per_user", bob.userId, { v: 1 });
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
    });

    it("m.room.redaction through /send is refused → 400 M_BAD_JSON", async () => {
      const target = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "keep me" });
      const res = await sendMessage(base, alice, roomId, { redacts: target.body.event_id }, { type: "m.room.redaction" });
      assert.equal(res.status, 400);
      assert.equal(res.body.errcode, "M_BAD_JSON");
      assert.equal((await storageOf(server).events.get(target.body.event_id))?.redactedBy, null);
    });

    it("content that is not a JSON object → 400 M_BAD_JSON; a body that is not JSON → 400 M_NOT_JSON", async () => {
      const array = await sendMessage(base, alice, roomId, [1, 2]);
      assert.equal(array.status, 400);
      assert.equal(array.body.errcode, "M_BAD_JSON");
      const notJson = await sendMessage(base, alice, roomId, "{not json");
      assert.equal(notJson.status, 400);
      assert.equal(notJson.body.errcode, "M_NOT_JSON");
    });

    it("send into an unknown room → 404 M_NOT_FOUND", async () => {
      const res = await sendMessage(base, alice, "!nowhere:test.local", { msgtype: "m.text", body: "?" });
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
    });
  });

  describe("redaction", () => {
    let roomId: string;
    before(async () => {
      roomId = await createRoom(base, alice, { preset: "public_chat" });
      await joinRoom(base, bob, roomId);
      await joinRoom(base, carol, roomId);
    });

    const redact = (user: TestUser, eventId: string, body: Record<string, unknown> = {}) =>
      api<{ event_id: string; errcode?: string }>(base, "PUT", `${V3}/rooms/${enc(roomId)}/redact/${enc(eventId)}/${nextTxnId()}`, { token: user.accessToken, body });

    it("of one's own event: the answer matches the spec; the target is pruned and marked", async () => {
      const target = await sendMessage(base, bob, roomId, { msgtype: "m.text", body: "oops" });
      const res = await redact(bob, target.body.event_id, { reason: "typo" });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      await assertMatchesSpec("redaction.yaml", "/rooms/{roomId}/redact/{eventId}/{txnId}", "put", 200, res.body);
      const stored = await storageOf(server).events.get(target.body.event_id);
      assert.equal(stored?.redactedBy, res.body.event_id);
      assert.deepEqual(stored?.pdu.content, {});
      const redaction = await storageOf(server).events.get(res.body.event_id);
      assert.equal(redaction?.pdu.type, "m.room.redaction");
      assert.equal(redaction?.pdu.content.reason, "typo");
    });

    it("is idempotent per txn id: the same redaction request twice gives one redaction event", async () => {
      const target = await sendMessage(base, bob, roomId, { msgtype: "m.text", body: "twice" });
      const txnId = nextTxnId();
      const path = `${V3}/rooms/${enc(roomId)}/redact/${enc(target.body.event_id)}/${txnId}`;
      const first = await api<{ event_id: string }>(base, "PUT", path, { token: bob.accessToken, body: {} });
      const second = await api<{ event_id: string }>(base, "PUT", path, { token: bob.accessToken, body: {} });
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(second.body.event_id, first.body.event_id);
      const redactions = (await roomEvents(server, roomId)).filter((e) => e.pdu.type === "m.room.redaction" && e.pdu.redacts === target.body.event_id);
      assert.equal(redactions.length, 1);
    });

    it("of another's event without the redact level → 403, and nothing is pruned", async () => {
      const target = await sendMessage(base, carol, roomId, { msgtype: "m.text", body: "carol's" });
      const res = await redact(bob, target.body.event_id);
      assert.equal(res.status, 403);
      assert.equal(res.body.errcode, "M_FORBIDDEN");
      const stored = await storageOf(server).events.get(target.body.event_id);
      assert.equal(stored?.redactedBy, null);
      assert.equal(stored?.pdu.content.body, "carol's");
    });

    it("of another's event with the redact level (the creator) → pruned", async () => {
      const target = await sendMessage(base, carol, roomId, { msgtype: "m.text", body: "remove me" });
      const res = await redact(alice, target.body.event_id);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const stored = await storageOf(server).events.get(target.body.event_id);
      assert.equal(stored?.redactedBy, res.body.event_id);
      assert.equal(stored?.pdu.content.body, undefined);
    });

    it("of an unknown event → 404 M_NOT_FOUND", async () => {
      const res = await redact(alice, "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
    });

    it("an event id from another room → 404 M_NOT_FOUND, and the event is untouched", async () => {
      const elsewhere = await createRoom(base, alice, {});
      const target = await sendMessage(base, alice, elsewhere, { msgtype: "m.text", body: "other room" });
      const res = await redact(alice, target.body.event_id);
      assert.equal(res.status, 404);
      assert.equal(res.body.errcode, "M_NOT_FOUND");
      assert.equal((await storageOf(server).events.get(target.body.event_id))?.redactedBy, null);
    });

    it("in a room version 11 room: `redacts` is in the content; own and moderator redactions apply", async () => {
      const v11 = await createRoom(base, alice, { room_version: "11", preset: "public_chat" });
      await joinRoom(base, bob, v11);
      const own = await sendMessage(base, bob, v11, { msgtype: "m.text", body: "mine" });
      const theirs = await sendMessage(base, bob, v11, { msgtype: "m.text", body: "moderated" });
      const byBob = await api<{ event_id: string }>(base, "PUT", `${V3}/rooms/${enc(v11)}/redact/${enc(own.body.event_id)}/${nextTxnId()}`, { token: bob.accessToken, body: {} });
      assert.equal(byBob.status, 200, JSON.stringify(byBob.body));
      const redaction = await storageOf(server).events.get(byBob.body.event_id);
      assert.equal(redaction?.pdu.content.redacts, own.body.event_id);
      assert.equal((await storageOf(server).events.get(own.body.event_id))?.redactedBy, byBob.body.event_id);
      const byAlice = await api<{ event_id: string }>(base, "PUT", `${V3}/rooms/${enc(v11)}/redact/${enc(theirs.body.event_id)}/${nextTxnId()}`, { token: alice.accessToken, body: {} });
      assert.equal(byAlice.status, 200, JSON.stringify(byAlice.body));
      assert.equal((await storageOf(server).events.get(theirs.body.event_id))?.redactedBy, byAlice.body.event_id);
    });

    it("redacting the room name clears it from the summary", async () => {
      const named = await putState(base, alice, roomId, "m.room.name", "", { name: "Soon gone" });
      assert.equal((await storageOf(server).rooms.summary(roomId))?.name, "Soon gone");
      const res = await redact(alice, named.body.event_id);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await storageOf(server).rooms.summary(roomId))?.name, null);
    });
  });

  describe("room summary kept at write time", () => {
    it("name, topic, joined and invited counts, heroes", async () => {
      const dan = await registerUser(base, "dan-summary");
      const roomId = await createRoom(base, dan, { preset: "public_chat", name: "Summary room", topic: "About summaries", invite: [carol.userId] });
      await joinRoom(base, bob, roomId);
      const s = await storageOf(server).rooms.summary(roomId);
      assert.equal(s?.name, "Summary room");
      assert.equal(s?.topic, "About summaries");
      assert.equal(s?.joinRule, "public");
      assert.equal(s?.historyVisibility, "shared");
      assert.equal(s?.joinedCount, 2);
      assert.equal(s?.invitedCount, 1);
      assert.deepEqual(s?.heroes, [dan.userId, bob.userId, carol.userId], "joined first (oldest first), then invited");

      await joinRoom(base, carol, roomId);
      assert.equal((await roomAction(base, bob, roomId, "leave")).status, 200);
      const after = await storageOf(server).rooms.summary(roomId);
      assert.equal(after?.joinedCount, 2);
      assert.equal(after?.invitedCount, 0);
      assert.deepEqual(after?.heroes, [dan.userId, carol.userId]);

      assert.equal((await putState(base, dan, roomId, "m.room.name", "", { name: "Renamed" })).status, 200);
      assert.equal((await storageOf(server).rooms.summary(roomId))?.name, "Renamed");
    });

    it("the bump position moves on messages, not on state or membership changes", async () => {
      const roomId = await createRoom(base, alice, { preset: "public_chat" });
      const storage = storageOf(server);
      const created = await storage.rooms.summary(roomId);
      const createEvent = await storage.rooms.currentStateEvent(roomId, "m.room.create", "");
      assert.equal(created?.bumpPos, createEvent?.pos, "the create event bumps");

      const msg = await sendMessage(base, alice, roomId, { msgtype: "m.text", body: "bump" });
      const msgPos = (await storage.events.get(msg.body.event_id))?.pos;
      assert.equal((await storage.rooms.summary(roomId))?.bumpPos, msgPos);

      assert.equal((await putState(base, alice, roomId, "m.room.topic", "", { topic: "no bump" })).status, 200);
      await joinRoom(base, bob, roomId);
      assert.equal((await storage.rooms.summary(roomId))?.bumpPos, msgPos, "state and membership do not bump");

      const msg2 = await sendMessage(base, bob, roomId, { msgtype: "m.text", body: "bump again" });
      const msg2Pos = (await storage.events.get(msg2.body.event_id))?.pos;
      assert.ok(msg2Pos !== undefined && msgPos !== undefined && msg2Pos > msgPos);
      assert.equal((await storage.rooms.summary(roomId))?.bumpPos, msg2Pos);
    });
  });
});
