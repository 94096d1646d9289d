/**
 * Push rules evaluated at write time, over real HTTP: notification and highlight counts per
 * room and per thread (what sync reports), reset by read receipts (POST /receipt, m.read and
 * m.read.private, threaded receipts), and GET /notifications (notifications.yaml); a
 * recipient who ignores the sender (m.ignored_user_list) is not notified of their non-state
 * events, in the counts, /sync (checked against sync.yaml) or /notifications (as Synapse).
 * Counts are read through the UnreadCounts use case (app.services.unreadCounts).
 */
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, createRoom, enc, joinRoom, putState, sendMessage } from "./room-helpers.js";
import { sync, type SyncBody } from "./sync-helpers.js";
import type { UserId } from "../../src/events/ids.js";
import type { RoomUnreadCounts } from "../../src/push/unread-counts.js";

describe("push counts and notifications", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let room: string;

  const counts = (user: TestUser, roomId = room): Promise<RoomUnreadCounts> => server.app.services.unreadCounts.unreadCounts(user.userId as UserId, roomId);
  const pair = async (user: TestUser, roomId = room) => {
    const c = await counts(user, roomId);
    return [c.notification_count, c.highlight_count];
  };
  async function send(user: TestUser, content: Record<string, unknown>, roomId = room, type?: string): Promise<string> {
    const res = await sendMessage(base, user, roomId, content, type ? { type } : {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event_id;
  }
  const text = (body: string, extra: Record<string, unknown> = {}) => ({ msgtype: "m.text", body, ...extra });
  async function receipt(user: TestUser, eventId: string, type = "m.read", body: Record<string, unknown> = {}, roomId = room): Promise<void> {
    const res = await api(base, "POST", `${V3}/rooms/${enc(roomId)}/receipt/${type}/${enc(eventId)}`, { token: user.accessToken, body });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    carol = await registerUser(base, "carol");
    room = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, bob, room);
    await joinRoom(base, carol, room);
  });
  after(async () => {
    await server.close();
  });

  it("a message from another user counts for every other member, not for its sender", async () => {
    await send(bob, text("hello all"));
    assert.deepEqual(await pair(alice), [1, 0]);
    assert.deepEqual(await pair(carol), [1, 0]);
    assert.deepEqual(await pair(bob), [0, 0], "nobody is notified of their own events");
  });

  it("a mention (m.mentions.user_ids) counts as a highlight for the mentioned user only", async () => {
    await send(bob, text("alice: look", { "m.mentions": { user_ids: [alice.userId] } }));
    assert.deepEqual(await pair(alice), [2, 1]);
    assert.deepEqual(await pair(carol), [2, 0]);
  });

  it("@room (m.mentions.room) highlights for everyone when the sender has the power", async () => {
    await send(bob, text("@room hi", { "m.mentions": { room: true } }));
    assert.deepEqual(await pair(carol), [3, 0], "bob (power 0) may not notify the room");
    await send(alice, text("@room hi", { "m.mentions": { room: true } }));
    assert.deepEqual(await pair(carol), [4, 1], "alice (power 100) may");
    assert.deepEqual(await pair(bob), [1, 1]);
  });

  it("notices, reactions, edits and member events do not count", async () => {
    const target = await send(bob, text("to react to"));
    const before = await pair(alice);
    await send(bob, { msgtype: "m.notice", body: "bot says" });
    await send(bob, { "m.relates_to": { rel_type: "m.annotation", event_id: target, key: "👍" } }, room, "m.reaction");
    await send(bob, text("* fixed", { "m.new_content": text("fixed"), "m.relates_to": { rel_type: "m.replace", event_id: target } }));
    assert.equal((await putState(base, bob, room, "m.room.member", bob.userId, { membership: "join", displayname: "Bobby" })).status, 200);
    assert.deepEqual(await pair(alice), before);
  });

  it("a read receipt resets the counts; later events count again; m.read.private works too", async () => {
    const last = await send(bob, text("read up to here"));
    await receipt(alice, last);
    assert.deepEqual(await pair(alice), [0, 0]);
    assert.notDeepEqual(await pair(carol), [0, 0], "carol's counts are her own");
    await send(bob, text("one"));
    const two = await send(bob, text("two", { "m.mentions": { user_ids: [alice.userId] } }));
    assert.deepEqual(await pair(alice), [2, 1]);
    await receipt(alice, two, "m.read.private");
    assert.deepEqual(await pair(alice), [0, 0]);
  });

  it("a receipt on an earlier event leaves the later ones counted; the newer of m.read and m.read.private wins", async () => {
    const first = await send(bob, text("first"));
    await send(bob, text("second"));
    const third = await send(bob, text("third"));
    await receipt(carol, third, "m.read.private");
    await receipt(carol, first, "m.read");
    assert.deepEqual(await pair(carol), [0, 0], "the private receipt is further ahead");
    const dave = await registerUser(base, "dave");
    await joinRoom(base, dave, room);
    const a = await send(bob, text("a"));
    await send(bob, text("b"));
    await send(bob, text("c"));
    await receipt(dave, a);
    assert.deepEqual(await pair(dave), [2, 0]);
  });

  it("counts per thread; a threaded receipt clears only its thread; an unthreaded one clears all", async () => {
    const r = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, bob, r);
    await joinRoom(base, carol, r);
    const root = await send(bob, text("thread root"), r);
    const inThread = (body: string, extra: Record<string, unknown> = {}) => text(body, { "m.relates_to": { rel_type: "m.thread", event_id: root }, ...extra });
    await send(bob, inThread("reply 1"), r);
    const reply2 = await send(bob, inThread("reply 2", { "m.mentions": { user_ids: [alice.userId] } }), r);
    const main2 = await send(bob, text("main again"), r);
    let c = await counts(alice, r);
    assert.deepEqual([c.notification_count, c.highlight_count], [4, 1]);
    assert.deepEqual(c.main, { notification_count: 2, highlight_count: 0 });
    assert.deepEqual(c.threads, { [root]: { notification_count: 2, highlight_count: 1 } });

    await receipt(alice, reply2, "m.read", { thread_id: root }, r);
    c = await counts(alice, r);
    assert.deepEqual(c.threads, {}, "the thread is read");
    assert.deepEqual(c.main, { notification_count: 2, highlight_count: 0 }, "the main timeline is not");

    await receipt(alice, main2, "m.read", { thread_id: "main" }, r);
    assert.deepEqual(await pair(alice, r), [0, 0]);

    await send(bob, inThread("reply 3"), r);
    await send(bob, text("main 3"), r);
    c = await counts(carol, r);
    assert.deepEqual([c.notification_count, c.main.notification_count, c.threads[root]?.notification_count], [6, 3, 3]);
    const latest = await send(alice, text("from alice"), r);
    await receipt(carol, latest, "m.read", {}, r);
    assert.deepEqual(await pair(carol, r), [0, 0], "an unthreaded receipt covers every thread");
  });

  it("one-to-one rooms notify with sound, muted rooms not at all, invites notify the invitee", async () => {
    const dm = await createRoom(base, alice, { preset: "trusted_private_chat", invite: [bob.userId], is_direct: true });
    const invites = await api<{ notifications: { event: { type: string; state_key?: string } }[] }>(base, "GET", `${V3}/notifications`, { token: bob.accessToken });
    assert.equal(invites.body.notifications[0]?.event.type, "m.room.member", ".m.rule.invite_for_me notified bob");
    assert.equal(invites.body.notifications[0]?.event.state_key, bob.userId);
    await joinRoom(base, bob, dm);
    await send(alice, text("just us"), dm);
    const page = await api<{ notifications: { actions: unknown[]; room_id: string }[] }>(base, "GET", `${V3}/notifications?limit=1`, { token: bob.accessToken });
    assert.equal(page.body.notifications[0]?.room_id, dm);
    assert.deepEqual(page.body.notifications[0]?.actions, ["notify", { set_tweak: "sound", value: "default" }], ".m.rule.room_one_to_one");

    const muted = await api(base, "PUT", `${V3}/pushrules/global/room/${enc(dm)}`, { token: bob.accessToken, body: { actions: [] } });
    assert.equal(muted.status, 200);
    const before = await pair(bob, dm);
    await send(alice, text("muted?"), dm);
    assert.deepEqual(await pair(bob, dm), before, "the room rule (changed after the room was cached) applies at once");
  });

  it("GET /notifications lists notifying events newest first, with read flags, highlights only on request, and paging", async () => {
    const erin = await registerUser(base, "erin");
    const r = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, erin, r);
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(alice, text(`n${i}`, i % 2 === 0 ? { "m.mentions": { user_ids: [erin.userId] } } : {}), r));
    await receipt(erin, sent[1]!, "m.read", {}, r);

    const all = await api<{ notifications: { event: { event_id: string; room_id?: string }; read: boolean; room_id: string; ts: number; actions: unknown[] }[]; next_token?: string }>(
      base, "GET", `${V3}/notifications`, { token: erin.accessToken });
    assert.equal(all.status, 200);
    await assertMatchesSpec("notifications.yaml", "/notifications", "get", 200, all.body);
    assert.deepEqual(all.body.notifications.map((n) => n.event.event_id), [...sent].reverse());
    assert.deepEqual(all.body.notifications.map((n) => n.read), [false, false, false, true, true]);
    assert.ok(all.body.notifications.every((n) => n.room_id === r && typeof n.ts === "number" && n.event.room_id === undefined));
    assert.equal(all.body.next_token, undefined, "no next_token on the last page");

    const highlights = await api<{ notifications: { event: { event_id: string } }[] }>(base, "GET", `${V3}/notifications?only=highlight`, { token: erin.accessToken });
    assert.deepEqual(highlights.body.notifications.map((n) => n.event.event_id), [sent[4], sent[2], sent[0]]);

    const seen: string[] = [];
    let from: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const res = await api<{ notifications: { event: { event_id: string } }[]; next_token?: string }>(
        base, "GET", `${V3}/notifications?limit=2${from ? `&from=${enc(from)}` : ""}`, { token: erin.accessToken });
      assert.equal(res.status, 200);
      seen.push(...res.body.notifications.map((n) => n.event.event_id));
      if (!res.body.next_token) break;
      from = res.body.next_token;
    }
    assert.deepEqual(seen, [...sent].reverse());

    for (const bad of ["from=abc", "from=-1", "limit=x"]) {
      const res = await api(base, "GET", `${V3}/notifications?${bad}`, { token: erin.accessToken });
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.errcode, "M_INVALID_PARAM", bad);
    }
  });

  it("events from a user the recipient ignores do not notify them (counts, /sync, /notifications) until unignored", async () => {
    const r = await createRoom(base, alice, { preset: "public_chat" });
    await joinRoom(base, bob, r);
    await joinRoom(base, carol, r);
    const ignore = async (user: TestUser, ignored: string[]) => {
      const body = { ignored_users: Object.fromEntries(ignored.map((u) => [u, {}])) };
      const res = await api(base, "PUT", `${V3}/user/${enc(user.userId)}/account_data/m.ignored_user_list`, { token: user.accessToken, body });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const threadFilter = { room: { timeline: { unread_thread_notifications: true } } };
    /** An initial sync (every joined room is listed), checked against sync.yaml: the room's counts. */
    const synced = async (user: TestUser) => {
      const body: SyncBody = await sync(base, user, { filter: threadFilter });
      const room = body.rooms?.join?.[r];
      assert.ok(room, `${user.userId} is joined to the room`);
      return { main: room.unread_notifications, threads: room.unread_thread_notifications };
    };
    type Listed = { notifications: { event: { event_id: string; type: string }; room_id: string }[] };
    const notified = async (user: TestUser) => {
      const res = await api<Listed>(base, "GET", `${V3}/notifications`, { token: user.accessToken });
      assert.equal(res.status, 200);
      await assertMatchesSpec("notifications.yaml", "/notifications", "get", 200, res.body);
      return res.body.notifications.filter((n) => n.room_id === r).map((n) => n.event.event_id);
    };

    // Bob ignores alice (an entry for someone else too: the whole list is read, not one key).
    await ignore(bob, [alice.userId, "@nobody:elsewhere"]);
    const sentIgnored = [
      await send(alice, text("hello"), r),
      await send(alice, text("bob: look", { "m.mentions": { user_ids: [bob.userId, carol.userId] } }), r),
    ];
    const root = sentIgnored[0]!;
    sentIgnored.push(await send(alice, text("in a thread", { "m.relates_to": { rel_type: "m.thread", event_id: root }, "m.mentions": { user_ids: [bob.userId] } }), r));
    assert.deepEqual(await pair(bob, r), [0, 0], "nothing alice sent counts for bob");
    assert.deepEqual(await synced(bob), { main: { notification_count: 0, highlight_count: 0 }, threads: {} });
    assert.deepEqual(await notified(bob), []);
    assert.deepEqual(await pair(carol, r), [3, 1], "carol ignores no one: alice's messages count for her");
    assert.deepEqual(await synced(carol), { main: { notification_count: 2, highlight_count: 1 }, threads: { [root]: { notification_count: 1, highlight_count: 0 } } });
    assert.deepEqual(await notified(carol), [...sentIgnored].reverse());

    // Alice's state events still notify bob (Synapse withholds only non-state events): her invite to another room.
    const other = await createRoom(base, alice, { preset: "private_chat", invite: [bob.userId] });
    const invites = await api<Listed>(base, "GET", `${V3}/notifications?limit=1`, { token: bob.accessToken });
    assert.equal(invites.body.notifications[0]?.room_id, other, ".m.rule.invite_for_me still applies to an ignored inviter");
    assert.equal(invites.body.notifications[0]?.event.type, "m.room.member");

    // Unignored: her new messages count again; the earlier ones stay uncounted (decided when they were sent).
    await ignore(bob, []);
    const later = await send(alice, text("bob: again", { "m.mentions": { user_ids: [bob.userId] } }), r);
    const laterInThread = await send(alice, text("thread again", { "m.relates_to": { rel_type: "m.thread", event_id: root } }), r);
    assert.deepEqual(await pair(bob, r), [2, 1]);
    assert.deepEqual(await synced(bob), { main: { notification_count: 1, highlight_count: 1 }, threads: { [root]: { notification_count: 1, highlight_count: 0 } } });
    assert.deepEqual(await notified(bob), [laterInThread, later]);
    assert.deepEqual(await pair(carol, r), [5, 1]);

    // Ignoring again takes effect at once (the cached list was dropped by the change).
    await ignore(bob, [alice.userId]);
    await send(alice, text("bob: once more", { "m.mentions": { user_ids: [bob.userId] } }), r);
    assert.deepEqual(await pair(bob, r), [2, 1]);
    assert.deepEqual(await pair(carol, r), [6, 1]);
  });
});
