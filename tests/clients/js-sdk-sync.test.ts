/**
 * matrix-js-sdk 43 syncing against a real Sluice server over classic /sync (v2), with the
 * SDK's MemoryStore: start-up states, two live clients (messages, typing, read receipts),
 * the room list and room models, an invite joined through the SDK, a live redaction, account
 * data, to-device messages, and a client that stops, misses 200 events, restarts from its
 * stored token, gets a limited timeline and back-paginates to exactly the other client's
 * timeline. That suite runs against the engine's linear and polylog paths and with
 * lazy-loaded members; a last suite keeps both clients running through a restart of the
 * server itself.
 *
 * Every request the SDKs send to /sync, /messages and /members goes through a recording
 * fetch, so the tests can check the wire (the `since` the restarted client sends,
 * `limited`, the /messages pages) as well as what the SDK made of it. Waits are bounded
 * (WAIT_MS each) and fail naming what they waited for; nothing asserts on elapsed time.
 *
 * The SDK needs Promise.withResolvers (Node 22+): the polyfill is imported first and the
 * SDK is loaded with a dynamic import in before().
 */
import "./node20-polyfills.js";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type * as Sdk from "matrix-js-sdk";
import { api, registerUser, startServer, type TestServer, type TestUser } from "../integration/harness.js";
import { WAIT_MS, eventually, quietLogger, realSetTimeout, recordingFetch, loadSilencedSdk, tokenKeepingStore, unrefLongTimers, type WireCall } from "./js-sdk-support.js";

/** Upper bound of a single wait for something the server should deliver (a slow shared machine). */

/** This file's own timers (bounded waits) are set with the real setTimeout, never unref'd. */


type Listener = (...args: never[]) => void;
interface Emitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/**
 * Resolves with the arguments of the first `event` for which `match` is true; rejects after
 * WAIT_MS naming `what`. Register it before triggering the action it waits for.
 */
function waitFor<A extends unknown[]>(emitter: unknown, event: string, what: string, match: (...args: A) => boolean = () => true): Promise<A> {
  const em = emitter as Emitter;
  const p = new Promise<A>((resolve, reject) => {
    const listener = (...args: A): void => {
      let ok: boolean;
      try {
        ok = match(...args);
      } catch (err) {
        done();
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (ok) {
        done();
        resolve(args);
      }
    };
    const timer = realSetTimeout(() => {
      done();
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    const done = (): void => {
      clearTimeout(timer);
      em.off(event, listener as unknown as Listener);
    };
    em.on(event, listener as unknown as Listener);
  });
  // Awaited by the caller; this only keeps a rejection that races a failing action from being "unhandled".
  p.catch(() => {});
  return p;
}





interface SyncJoinedRoom {
  timeline: { events: { event_id: string }[]; limited?: boolean; prev_batch?: string };
}

let sdk: typeof Sdk;
let restoreSetTimeout: (() => void) | undefined;

async function loadSdk(): Promise<void> {
  if (sdk) return;
  sdk = await loadSilencedSdk();
  restoreSetTimeout = unrefLongTimers();
}

after(() => restoreSetTimeout?.());

function makeClient(baseUrl: string, user: TestUser, calls: WireCall[], states: string[]): Sdk.MatrixClient {
  const client = sdk.createClient({
    baseUrl,
    userId: user.userId,
    accessToken: user.accessToken,
    deviceId: user.deviceId,
    logger: quietLogger,
    store: tokenKeepingStore(sdk),
    fetchFn: recordingFetch(calls, /\/sync$|\/messages$|\/members$/),
    // What Element runs with: a timeline set that keeps and links older timelines.
    timelineSupport: true,
  });
  client.on(sdk.ClientEvent.Sync, (state) => {
    states.push(state);
  });
  return client;
}

/** Starts a client and waits for its first SYNCING. */
async function start(client: Sdk.MatrixClient, who: string, lazyLoadMembers = false): Promise<void> {
  const settled = waitFor(client, sdk.ClientEvent.Sync, `${who} to reach SYNCING`, (s: Sdk.SyncState) => s === sdk.SyncState.Syncing || s === sdk.SyncState.Error);
  // Pending events kept aside until their remote echo arrives (Element's setting): the
  // timeline then holds events in the server's order.
  await client.startClient({
    initialSyncLimit: 8,
    pollTimeout: 10_000,
    pendingEventOrdering: sdk.PendingEventOrdering.Detached,
    lazyLoadMembers,
  });
  const [state] = await settled;
  assert.equal(state, sdk.SyncState.Syncing, `${who}'s sync loop went to ERROR`);
}

function roomOf(client: Sdk.MatrixClient, id: string, who: string): Sdk.Room {
  const room = client.getRoom(id);
  assert.ok(room, `${who}'s client has no room ${id}`);
  return room;
}

/** Waits until `client` sees an event matching `match` in room `id` through RoomEvent.Timeline (live, not back-paginated). */
function liveEvent(client: Sdk.MatrixClient, id: string, what: string, match: (e: Sdk.MatrixEvent) => boolean): Promise<[Sdk.MatrixEvent, Sdk.Room | undefined, boolean | undefined, boolean, Sdk.IRoomTimelineData]> {
  return waitFor(
    client,
    sdk.RoomEvent.Timeline,
    what,
    (e: Sdk.MatrixEvent, room: Sdk.Room | undefined, toStart: boolean | undefined, _removed: boolean, data: Sdk.IRoomTimelineData) =>
      room?.roomId === id && !toStart && data.liveEvent === true && match(e),
  );
}

/**
 * Every event of a room as the client's timeline set holds it, after back-paginating it to
 * the room's creation: from the live timeline, step to the linked older timeline, or
 * paginate backwards where there is none, until the start; then read the chain forwards.
 * A client whose sync was limited holds several timelines until pagination joins them.
 */
async function stitchedTimeline(client: Sdk.MatrixClient, id: string, who: string): Promise<Sdk.MatrixEvent[]> {
  const B = sdk.EventTimeline.BACKWARDS;
  let t = roomOf(client, id, who).getLiveTimeline();
  for (let page = 0; ; page++) {
    assert.ok(page < 200, `${who}'s back-pagination did not reach the start of the room`);
    const older = t.getNeighbouringTimeline(B);
    if (older) t = older;
    else if (t.getPaginationToken(B) !== null) await client.paginateEventTimeline(t, { backwards: true, limit: 30 });
    else break;
  }
  const events: Sdk.MatrixEvent[] = [];
  for (let cur: Sdk.EventTimeline | null = t; cur; cur = cur.getNeighbouringTimeline(sdk.EventTimeline.FORWARDS)) events.push(...cur.getEvents());
  return events;
}

async function send(client: Sdk.MatrixClient, id: string, body: string): Promise<string> {
  const res = await client.sendMessage(id, { msgtype: sdk.MsgType.Text, body });
  assert.match(res.event_id, /^\$/);
  return res.event_id;
}


/**
 * The suite runs three times: with the default mode threshold (incremental syncs scan the
 * log: linear), with a threshold of 0 (every incremental sync by point look-ups: polylog), so
 * both of the engine's paths face the SDK, and with the SDK lazy-loading members (filter
 * `lazy_load_members`, GET /members when a member list is needed), as Element runs it.
 */
const MODES = [
  { label: "default modes (linear for small gaps)", config: {}, lazyLoadMembers: false, expect: { linear: true } },
  { label: "polylog for every gap", config: { sync: { linearMaxDelta: 0 } }, lazyLoadMembers: false, expect: { linear: false } },
  { label: "lazy-loaded members (as Element runs)", config: {}, lazyLoadMembers: true, expect: { linear: true } },
] as const;

for (const mode of MODES) describe(`matrix-js-sdk 43: v2 sync against Sluice, ${mode.label}`, () => {
  let server: TestServer;
  let aliceUser: TestUser;
  let bobUser: TestUser;
  let alice: Sdk.MatrixClient;
  let bob: Sdk.MatrixClient;
  const aliceCalls: WireCall[] = [];
  const bobCalls: WireCall[] = [];
  const aliceStates: string[] = [];
  const bobStates: string[] = [];
  let roomId: string;
  const modesUsed = new Set<string>();

  before(async () => {
    await loadSdk();
    server = await startServer(mode.config);
    // Note which mode answered each /sync (the engine reports it beside the body).
    const engine = server.app.services.syncV2;
    const realSync = engine.sync.bind(engine);
    engine.sync = async (...args) => {
      const result = await realSync(...args);
      modesUsed.add(result.mode);
      return result;
    };
    aliceUser = await registerUser(server.baseUrl, "alice");
    bobUser = await registerUser(server.baseUrl, "bob");
    alice = makeClient(server.baseUrl, aliceUser, aliceCalls, aliceStates);
    bob = makeClient(server.baseUrl, bobUser, bobCalls, bobStates);

    // The shared room exists before the clients start, so their initial syncs carry it.
    const created = await api<{ room_id: string }>(server.baseUrl, "POST", "/_matrix/client/v3/createRoom", {
      token: aliceUser.accessToken,
      body: { name: "Sync room", topic: "v2 sync with js-sdk", preset: "private_chat", invite: [bobUser.userId] },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    const joined = await api(server.baseUrl, "POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bobUser.accessToken, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server?.close();
  });

  it("startClient reaches PREPARED, then SYNCING, with an initial sync and then incremental long-polls", async () => {
    await Promise.all([start(alice, "alice", mode.lazyLoadMembers), start(bob, "bob", mode.lazyLoadMembers)]);
    for (const [who, states] of [["alice", aliceStates], ["bob", bobStates]] as const) {
      assert.deepEqual(states.slice(0, 2), [sdk.SyncState.Prepared, sdk.SyncState.Syncing], `${who}'s first sync states: ${JSON.stringify(states)}`);
    }
    for (const [who, calls] of [["alice", aliceCalls], ["bob", bobCalls]] as const) {
      const syncs = (): WireCall[] => calls.filter((c) => c.url.pathname.endsWith("/sync"));
      const first = syncs()[0]!;
      assert.equal(first.url.searchParams.get("since"), null, `${who}'s first /sync is an initial sync`);
      assert.equal(first.status, 200);
      assert.equal(typeof first.body?.next_batch, "string");
      const initialFilter = JSON.parse(first.url.searchParams.get("filter") ?? "{}") as { room?: { state?: { lazy_load_members?: boolean } } };
      assert.equal(initialFilter.room?.state?.lazy_load_members === true, mode.lazyLoadMembers, `${who}'s initial filter: ${JSON.stringify(initialFilter)}`);
      // The next request continues from the token the first one returned.
      const second = await eventually(`${who}'s second /sync`, () => syncs()[1]);
      assert.equal(second.url.searchParams.get("since"), first.body?.next_batch);
      // Once caught up, the SDK long-polls with its pollTimeout.
      await eventually(`${who} to long-poll`, () => syncs().find((c) => c.url.searchParams.get("since") && c.url.searchParams.get("timeout") === "10000"));
    }
  });

  it("the room list matches /joined_rooms; room name, topic and members are right", async () => {
    for (const [who, client, user, calls] of [["alice", alice, aliceUser, aliceCalls], ["bob", bob, bobUser, bobCalls]] as const) {
      const joined = await client.getJoinedRooms();
      const listed = client
        .getRooms()
        .filter((r) => r.getMyMembership() === sdk.KnownMembership.Join)
        .map((r) => r.roomId);
      assert.deepEqual(listed.sort(), [...joined.joined_rooms].sort(), `${who}'s room list`);
      const room = roomOf(client, roomId, who);
      // What a client does before showing the member list (a no-op unless members are lazy-loaded).
      const callsBefore = calls.length;
      await room.loadMembersIfNeeded();
      if (mode.lazyLoadMembers) {
        const members = calls.slice(callsBefore).find((c) => c.url.pathname.endsWith("/members"));
        assert.equal(members?.status, 200, `${who}'s GET /members (at=${members?.url.searchParams.get("at")}): ${JSON.stringify(members?.body)}`);
      }
      assert.equal(room.name, "Sync room");
      assert.equal(room.currentState.getStateEvents(sdk.EventType.RoomTopic, "")?.getContent().topic, "v2 sync with js-sdk");
      assert.deepEqual(room.getJoinedMembers().map((m) => m.userId).sort(), [aliceUser.userId, bobUser.userId].sort());
      assert.equal(room.getJoinedMemberCount(), 2);
      assert.equal(room.getMember(aliceUser.userId)?.name, "alice");
      assert.equal(room.getMember(bobUser.userId)?.name, "bob");
      assert.equal(room.getMyMembership(), sdk.KnownMembership.Join, `${who} (${user.userId}) is joined`);
      const create = room.currentState.getStateEvents(sdk.EventType.RoomCreate, "");
      assert.equal(create?.getSender(), aliceUser.userId);
    }
  });

  it("alice and bob chat; each sees the other's messages live, in order", async () => {
    const sentIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [from, to, fromName, toName] = i % 2 === 0 ? ([alice, bob, "alice", "bob"] as const) : ([bob, alice, "bob", "alice"] as const);
      const body = `chat ${i} from ${fromName}`;
      const seen = liveEvent(to, roomId, `${toName} to see "${body}"`, (e) => e.getContent().body === body);
      const echo = liveEvent(from, roomId, `${fromName} to see the remote echo of "${body}"`, (e) => e.getContent().body === body);
      const id = await send(from, roomId, body);
      sentIds.push(id);
      const [event] = await seen;
      assert.equal(event.getId(), id);
      assert.equal(event.getSender(), from.getUserId());
      assert.equal(event.getType(), sdk.EventType.RoomMessage);
      const [own] = await echo;
      assert.equal(own.getId(), id);
    }
    for (const [who, client] of [["alice", alice], ["bob", bob]] as const) {
      const ids = roomOf(client, roomId, who)
        .getLiveTimeline()
        .getEvents()
        .map((e) => e.getId());
      assert.deepEqual(ids.slice(-sentIds.length), sentIds, `${who}'s live timeline ends with the conversation in order`);
    }
  });

  it("typing notifications arrive live (sendTyping → RoomMemberEvent.Typing)", async () => {
    const starts = waitFor(alice, sdk.RoomMemberEvent.Typing, "alice to see bob typing", (_e: Sdk.MatrixEvent, m: Sdk.RoomMember) => m.roomId === roomId && m.userId === bobUser.userId && m.typing);
    await bob.sendTyping(roomId, true, 30_000);
    await starts;
    assert.equal(roomOf(alice, roomId, "alice").getMember(bobUser.userId)?.typing, true);

    const stops = waitFor(alice, sdk.RoomMemberEvent.Typing, "alice to see bob stop typing", (_e: Sdk.MatrixEvent, m: Sdk.RoomMember) => m.roomId === roomId && m.userId === bobUser.userId && !m.typing);
    await bob.sendTyping(roomId, false, 0);
    await stops;
    assert.equal(roomOf(alice, roomId, "alice").getMember(bobUser.userId)?.typing, false);

    // And the other way round.
    const aliceTypes = waitFor(bob, sdk.RoomMemberEvent.Typing, "bob to see alice typing", (_e: Sdk.MatrixEvent, m: Sdk.RoomMember) => m.roomId === roomId && m.userId === aliceUser.userId && m.typing);
    await alice.sendTyping(roomId, true, 30_000);
    await aliceTypes;
    const aliceStops = waitFor(bob, sdk.RoomMemberEvent.Typing, "bob to see alice stop typing", (_e: Sdk.MatrixEvent, m: Sdk.RoomMember) => m.roomId === roomId && m.userId === aliceUser.userId && !m.typing);
    await alice.sendTyping(roomId, false, 0);
    await aliceStops;
  });

  it("read receipts arrive live (sendReadReceipt → RoomEvent.Receipt)", async () => {
    const seen = liveEvent(bob, roomId, "bob to see alice's message to be read", (e) => e.getContent().body === "please read this");
    const id = await send(alice, roomId, "please read this");
    const [event] = await seen;
    // The count change an event causes comes in the same response as the event (push module):
    // bob has read nothing yet, and one-to-one messages notify by default.
    const bobRoom = roomOf(bob, roomId, "bob");
    const unread = bobRoom.getUnreadNotificationCount(sdk.NotificationCountType.Total);
    assert.ok(unread >= 1, `bob's client shows ${unread} unread notifications with alice's message in hand`);

    const receipt = waitFor(alice, sdk.RoomEvent.Receipt, "alice to receive bob's read receipt", (e: Sdk.MatrixEvent, room: Sdk.Room) => {
      if (room.roomId !== roomId) return false;
      const content = e.getContent() as Record<string, Record<string, Record<string, unknown>>>;
      return content[id]?.[sdk.ReceiptType.Read]?.[bobUser.userId] !== undefined;
    });
    await bob.sendReadReceipt(event);
    const [receiptEvent] = await receipt;
    await eventually(
      () => `bob's unread count to drop to 0 after his receipt (still ${bobRoom.getUnreadNotificationCount(sdk.NotificationCountType.Total)})`,
      () => bobRoom.getUnreadNotificationCount(sdk.NotificationCountType.Total) === 0,
    );
    const entry = (receiptEvent.getContent() as Record<string, Record<string, Record<string, { ts?: number }>>>)[id]![sdk.ReceiptType.Read]![bobUser.userId]!;
    assert.equal(typeof entry.ts, "number");
    const room = roomOf(alice, roomId, "alice");
    assert.equal(room.getEventReadUpTo(bobUser.userId), id, "alice's client places bob's read marker on the message");
    assert.ok(room.getUsersReadUpTo(room.findEventById(id)!).includes(bobUser.userId));

    // Alice reads bob's latest message; bob's client learns it.
    const bobSeen = liveEvent(alice, roomId, "alice to see bob's reply", (e) => e.getContent().body === "read mine too");
    const bobId = await send(bob, roomId, "read mine too");
    const [bobEvent] = await bobSeen;
    const back = waitFor(bob, sdk.RoomEvent.Receipt, "bob to receive alice's read receipt", (e: Sdk.MatrixEvent, r: Sdk.Room) => {
      const content = e.getContent() as Record<string, Record<string, Record<string, unknown>>>;
      return r.roomId === roomId && content[bobId]?.[sdk.ReceiptType.Read]?.[aliceUser.userId] !== undefined;
    });
    await alice.sendReadReceipt(bobEvent);
    await back;
    assert.equal(roomOf(bob, roomId, "bob").getEventReadUpTo(aliceUser.userId), bobId);
  });

  it("an invite shows up in bob's client, joining works through the SDK, and the room then behaves", async () => {
    const invited = waitFor(bob, sdk.RoomEvent.MyMembership, "bob's client to show the invite", (room: Sdk.Room, membership: string) => membership === sdk.KnownMembership.Invite && room.roomId !== roomId);
    // No name: both clients must name it from the summary's heroes.
    const created = await alice.createRoom({ preset: sdk.Preset.PrivateChat });
    const dmId = created.room_id;
    await alice.invite(dmId, bobUser.userId);
    const [inviteRoom] = await invited;
    assert.equal(inviteRoom.roomId, dmId);
    assert.equal(inviteRoom.getMyMembership(), sdk.KnownMembership.Invite);
    const me = inviteRoom.getMember(bobUser.userId);
    assert.equal(me?.membership, sdk.KnownMembership.Invite);
    assert.equal(me?.events.member?.getSender(), aliceUser.userId, "the invite names alice as the inviter");
    assert.ok(inviteRoom.currentState.getStateEvents(sdk.EventType.RoomCreate, ""), "the invite's stripped state carries m.room.create");
    assert.ok(!bob.getRooms().some((r) => r.roomId === dmId && r.getMyMembership() === sdk.KnownMembership.Join));

    const joinedSeen = waitFor(bob, sdk.RoomEvent.MyMembership, "bob's client to show the join", (room: Sdk.Room, membership: string) => room.roomId === dmId && membership === sdk.KnownMembership.Join);
    const aliceSeesJoin = waitFor(alice, sdk.RoomStateEvent.Members, "alice to see bob join", (_e: Sdk.MatrixEvent, _s: unknown, m: Sdk.RoomMember) => m.roomId === dmId && m.userId === bobUser.userId && m.membership === sdk.KnownMembership.Join);
    const room = await bob.joinRoom(dmId);
    assert.equal(room.roomId, dmId);
    await joinedSeen;
    await aliceSeesJoin;

    const message = liveEvent(bob, dmId, "bob to see alice's message in the joined room", (e) => e.getContent().body === "welcome");
    const id = await send(alice, dmId, "welcome");
    const [event] = await message;
    assert.equal(event.getId(), id);

    const bobRoom = roomOf(bob, dmId, "bob");
    const aliceRoom = roomOf(alice, dmId, "alice");
    assert.equal(bobRoom.getMyMembership(), sdk.KnownMembership.Join);
    assert.deepEqual(bobRoom.getJoinedMembers().map((m) => m.userId).sort(), [aliceUser.userId, bobUser.userId].sort());
    assert.deepEqual(aliceRoom.getJoinedMembers().map((m) => m.userId).sort(), [aliceUser.userId, bobUser.userId].sort());
    // Named from the heroes: each sees the other.
    await eventually(() => `alice's client to name the room after bob (still "${aliceRoom.name}")`, () => aliceRoom.name === "bob");
    assert.equal(bobRoom.name, "alice");

    for (const [who, client] of [["alice", alice], ["bob", bob]] as const) {
      const joined = await client.getJoinedRooms();
      const listed = client
        .getRooms()
        .filter((r) => r.getMyMembership() === sdk.KnownMembership.Join)
        .map((r) => r.roomId);
      assert.deepEqual(listed.sort(), [...joined.joined_rooms].sort(), `${who}'s room list after the join`);
      assert.ok(joined.joined_rooms.includes(dmId));
    }
  });

  it("a redaction arrives live and the SDK marks the event redacted", async () => {
    const seen = liveEvent(bob, roomId, "bob to see the message to be redacted", (e) => e.getContent().body === "regrettable");
    const id = await send(alice, roomId, "regrettable");
    await seen;
    const redaction = waitFor(bob, sdk.RoomEvent.Redaction, "bob's client to apply the redaction", (e: Sdk.MatrixEvent, room: Sdk.Room) => room.roomId === roomId && e.getAssociatedId() === id);
    const res = await alice.redactEvent(roomId, id, undefined, { reason: "oops" });
    const [redactionEvent] = await redaction;
    assert.equal(redactionEvent.getId(), res.event_id);
    const target = roomOf(bob, roomId, "bob").findEventById(id);
    assert.ok(target, "the redacted event stays in bob's timeline");
    assert.equal(target.isRedacted(), true);
    assert.deepEqual(target.getContent(), {});
    assert.equal(target.getUnsigned().redacted_because?.event_id, res.event_id);
    await eventually("alice's own client to mark her event redacted", () => roomOf(alice, roomId, "alice").findEventById(id)?.isRedacted() === true);
  });

  it("account data arrives live (setAccountData → ClientEvent.AccountData), and room account data too", async () => {
    const type = "org.example.sluice.settings";
    const content = { theme: "dark", n: 1 };
    const global = waitFor(bob, sdk.ClientEvent.AccountData, "bob's account data to arrive", (e: Sdk.MatrixEvent) => e.getType() === type);
    await bob.setAccountData(type as never, content as never);
    const [event] = await global;
    assert.deepEqual(event.getContent(), content);
    assert.deepEqual(bob.getAccountData(type as never)?.getContent(), content);
    assert.equal(alice.getAccountData(type as never), undefined, "another user's account data is private");

    const roomType = "org.example.sluice.room-note";
    const roomData = waitFor(bob, sdk.RoomEvent.AccountData, "bob's room account data to arrive", (e: Sdk.MatrixEvent, room: Sdk.Room) => room.roomId === roomId && e.getType() === roomType);
    await bob.setRoomAccountData(roomId, roomType as never, { note: "remember" } as never);
    await roomData;
    assert.deepEqual(roomOf(bob, roomId, "bob").getAccountData(roomType as never)?.getContent(), { note: "remember" });

    // The m.tag helper goes through room account data as well.
    const tagged = waitFor(bob, sdk.RoomEvent.Tags, "bob's room tag to arrive", (_e: Sdk.MatrixEvent, room: Sdk.Room) => room.roomId === roomId);
    await bob.setRoomTag(roomId, "m.favourite", { order: 0.5 });
    await tagged;
    assert.deepEqual(roomOf(bob, roomId, "bob").tags, { "m.favourite": { order: 0.5 } });
  });

  it("to-device messages arrive (sendToDevice → ClientEvent.ToDeviceEvent)", async () => {
    const received = waitFor(bob, sdk.ClientEvent.ToDeviceEvent, "bob's device to receive alice's to-device message", (e: Sdk.MatrixEvent) => e.getType() === "org.example.ping");
    await alice.sendToDevice("org.example.ping", new Map([[bobUser.userId, new Map([[bobUser.deviceId, { nonce: "n-1" }]])]]));
    const [event] = await received;
    assert.equal(event.getSender(), aliceUser.userId);
    assert.deepEqual(event.getContent(), { nonce: "n-1" });

    // A second one to every device of bob ("*"), delivered once.
    const all: Sdk.MatrixEvent[] = [];
    const onToDevice = (e: Sdk.MatrixEvent): void => {
      if (e.getType() === "org.example.ping") all.push(e);
    };
    bob.on(sdk.ClientEvent.ToDeviceEvent, onToDevice);
    try {
      const second = waitFor(bob, sdk.ClientEvent.ToDeviceEvent, "the wildcard to-device message", (e: Sdk.MatrixEvent) => e.getContent().nonce === "n-2");
      await alice.sendToDevice("org.example.ping", new Map([[bobUser.userId, new Map([["*", { nonce: "n-2" }]])]]));
      await second;
      // Later syncs must not deliver it again: let a message in the room go through first.
      const marker = liveEvent(bob, roomId, "bob to see the marker after the to-device message", (e) => e.getContent().body === "after to-device");
      await send(alice, roomId, "after to-device");
      await marker;
      assert.deepEqual(all.map((e) => e.getContent().nonce), ["n-2"]);
    } finally {
      bob.off(sdk.ClientEvent.ToDeviceEvent, onToDevice);
    }
  });

  it("bob stops; alice sends 200 events; bob restarts from his token, gets a limited timeline and back-paginates to alice's timeline", async () => {
    const lastSeenByBob = roomOf(bob, roomId, "bob").getLiveTimeline().getEvents().at(-1)!.getId()!;
    bob.stopClient();
    await eventually("bob's sync loop to stop", () => bobStates.at(-1) === sdk.SyncState.Stopped);
    const stoppedToken = bob.store.getSyncToken();
    assert.ok(stoppedToken, "bob's store holds a sync token");

    const sent: string[] = [];
    const lastId = (): string | undefined => sent.at(-1);
    // Two state changes hide in the gap, far from the limited timeline: bob's client can only
    // learn them from the state the sync sends with it.
    for (let i = 0; i < 200; i++) {
      if (i === 5) sent.push((await alice.setRoomTopic(roomId, "changed while bob was away")).event_id);
      else if (i === 100) sent.push((await alice.setRoomName(roomId, "Sync room, renamed")).event_id);
      else sent.push(await send(alice, roomId, `offline ${i}`));
    }
    await eventually("alice's client to receive her 200 events", () => roomOf(alice, roomId, "alice").getLiveTimeline().getEvents().at(-1)?.getId() === lastId());

    const callsBefore = bobCalls.length;
    const statesBefore = bobStates.length;
    const reset = waitFor(bob, sdk.RoomEvent.TimelineReset, "bob's live timeline to be reset by the limited sync", (room: Sdk.Room | undefined) => room?.roomId === roomId);
    await start(bob, "bob (restarted)", mode.lazyLoadMembers);
    await reset;
    assert.deepEqual(bobStates.slice(statesBefore, statesBefore + 2), [sdk.SyncState.Prepared, sdk.SyncState.Syncing]);

    // The first request after the restart resumes from the stored token.
    const first = bobCalls.slice(callsBefore).find((c) => c.url.pathname.endsWith("/sync"));
    assert.ok(first, "bob sent a /sync after the restart");
    assert.equal(first.url.searchParams.get("since"), stoppedToken, "the restarted client sent its stored token");
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const joinedRoom = (first.body?.rooms as { join?: Record<string, SyncJoinedRoom> } | undefined)?.join?.[roomId];
    assert.ok(joinedRoom, `the first sync after the restart carries the room: ${JSON.stringify(first.body).slice(0, 500)}`);
    assert.equal(joinedRoom.timeline.limited, true, "200 missed events give a limited timeline");
    assert.ok(joinedRoom.timeline.prev_batch, "a limited timeline has a prev_batch");
    const syncIds = joinedRoom.timeline.events.map((e) => e.event_id);
    assert.ok(syncIds.length > 0 && syncIds.length < 200);
    assert.deepEqual(syncIds, sent.slice(-syncIds.length), "the limited timeline holds the newest of the missed events, in order");

    const bobRoom = roomOf(bob, roomId, "bob");
    const live = bobRoom.getLiveTimeline();
    assert.deepEqual(live.getEvents().map((e) => e.getId()), syncIds, "the SDK reset its live timeline to the limited timeline");
    assert.ok(!bobRoom.getLiveTimeline().getEvents().some((e) => e.getId() === lastSeenByBob));
    assert.equal(bobRoom.name, "Sync room, renamed", "the rename in the gap reached bob's client");
    assert.equal(bobRoom.currentState.getStateEvents(sdk.EventType.RoomTopic, "")?.getContent().topic, "changed while bob was away");
    assert.deepEqual(bobRoom.getJoinedMembers().map((m) => m.userId).sort(), [aliceUser.userId, bobUser.userId].sort());

    // Back-paginate the live timeline until it joins the timeline bob had before stopping.
    const messagesBefore = bobCalls.length;
    const B = sdk.EventTimeline.BACKWARDS;
    for (let page = 0; !live.getNeighbouringTimeline(B); page++) {
      assert.ok(page < 100, "back-pagination did not reach the events bob already had");
      const more = await bob.paginateEventTimeline(live, { backwards: true, limit: 30 });
      assert.ok(more || live.getNeighbouringTimeline(B), "the server said the room starts before bob's older events");
    }
    // On the wire: the /messages pages continue the sync's prev_batch with no gap and no
    // duplicate, down to the last event bob had before stopping.
    const pages = bobCalls.slice(messagesBefore).filter((c) => c.url.pathname.endsWith("/messages"));
    assert.equal(pages[0]?.url.searchParams.get("from"), joinedRoom.timeline.prev_batch, "pagination starts at the sync's prev_batch");
    const paged = pages.flatMap((p) => (p.body?.chunk as { event_id: string }[] | undefined) ?? []).map((e) => e.event_id);
    const missed = [...sent].reverse().slice(syncIds.length);
    assert.deepEqual(paged.slice(0, missed.length), missed, "/messages returns the missed events newest first, none skipped or repeated");
    assert.equal(paged[missed.length], lastSeenByBob, "right after the missed events comes the last event bob saw before stopping");

    // Then on to the room's creation; alice does the same (her own live sync may have been
    // limited too while she sent 200 events quickly).
    const bobIds = (await stitchedTimeline(bob, roomId, "bob")).map((e) => e.getId()!);
    const aliceEvents = await stitchedTimeline(alice, roomId, "alice");
    const aliceIds = aliceEvents.map((e) => e.getId()!);
    assert.equal(aliceEvents[0]!.getType(), sdk.EventType.RoomCreate);
    assert.equal(new Set(aliceIds).size, aliceIds.length);
    assert.deepEqual(aliceIds.slice(-200), sent);
    assert.deepEqual(bobIds, aliceIds, "bob's timeline, stitched across the restart, is alice's");

    // And bob is live again.
    const afterwards = liveEvent(bob, roomId, "bob to see a message after the restart", (e) => e.getContent().body === "welcome back");
    const backId = await send(alice, roomId, "welcome back");
    assert.equal((await afterwards)[0].getId(), backId);
  });

  it("the engine answered in the modes this run is about", () => {
    assert.ok(modesUsed.has("polylog"), "initial syncs are polylog");
    assert.equal(modesUsed.has("linear"), mode.expect.linear, `modes used: ${[...modesUsed].join(", ")}`);
  });
});

describe("matrix-js-sdk 43: v2 sync across a restart of the server", () => {
  let server: TestServer;
  let aliceUser: TestUser;
  let bobUser: TestUser;
  let alice: Sdk.MatrixClient;
  let bob: Sdk.MatrixClient;
  const aliceCalls: WireCall[] = [];
  const bobCalls: WireCall[] = [];
  const aliceStates: string[] = [];
  const bobStates: string[] = [];
  let roomId: string;

  before(async () => {
    await loadSdk();
    server = await startServer();
    aliceUser = await registerUser(server.baseUrl, "alice");
    bobUser = await registerUser(server.baseUrl, "bob");
    const created = await api<{ room_id: string }>(server.baseUrl, "POST", "/_matrix/client/v3/createRoom", {
      token: aliceUser.accessToken,
      body: { name: "Restart room", preset: "private_chat", invite: [bobUser.userId] },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    roomId = created.body.room_id;
    const joined = await api(server.baseUrl, "POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bobUser.accessToken, body: {} });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    alice = makeClient(server.baseUrl, aliceUser, aliceCalls, aliceStates);
    bob = makeClient(server.baseUrl, bobUser, bobCalls, bobStates);
    await Promise.all([start(alice, "alice"), start(bob, "bob")]);
  });

  after(async () => {
    alice?.stopClient();
    bob?.stopClient();
    await server?.close();
  });

  it("running clients ride through the restart: same token, 200s, no event twice or missed", async () => {
    const before1 = liveEvent(bob, roomId, "bob to see the message before the restart", (e) => e.getContent().body === "before the restart");
    const beforeId = await send(alice, roomId, "before the restart");
    await before1;

    // Stop the server (parked long-polls are answered) and start it again on the same
    // port and data: the clients keep running and retry.
    const port = Number(new URL(server.baseUrl).port);
    const dataDir = server.dataDir;
    const errorsBefore = bobStates.length;
    await server.close({ keepData: true });
    await eventually("bob's client to notice the server is gone", () =>
      bobStates.slice(errorsBefore).some((s) => s === sdk.SyncState.Reconnecting || s === sdk.SyncState.Error),
    );
    const tokenWhileDown = bob.store.getSyncToken();
    const callsWhileDown = bobCalls.length;
    server = await startServer({ listen: { port } }, { dataDir });

    const back = bobStates.length;
    await eventually(() => `bob's client to sync again (states since: ${JSON.stringify(bobStates.slice(back))})`, () => bobStates.slice(back).includes(sdk.SyncState.Syncing));
    const retried = bobCalls.slice(callsWhileDown).filter((c) => c.url.pathname.endsWith("/sync") && c.status !== undefined);
    const firstAnswered = retried.find((c) => c.status === 200);
    assert.ok(firstAnswered, `bob's syncs after the restart: ${JSON.stringify(retried.map((c) => [c.url.search, c.status]))}`);
    assert.equal(firstAnswered.url.searchParams.get("since"), tokenWhileDown, "bob retried with the token he held");
    assert.ok(
      retried.every((c) => c.status === 200 || c.status === undefined),
      `the restarted server refused a token it issued: ${JSON.stringify(retried.map((c) => [c.status, c.body]))}`,
    );

    // Both clients are live again; nothing was delivered twice or skipped.
    const after1 = liveEvent(bob, roomId, "bob to see the message after the restart", (e) => e.getContent().body === "after the restart");
    const echo = liveEvent(alice, roomId, "alice to see her remote echo after the restart", (e) => e.getContent().body === "after the restart");
    const afterId = await send(alice, roomId, "after the restart");
    await after1;
    await echo;
    const bobIds = (await stitchedTimeline(bob, roomId, "bob")).map((e) => e.getId()!);
    const aliceIds = (await stitchedTimeline(alice, roomId, "alice")).map((e) => e.getId()!);
    assert.equal(new Set(bobIds).size, bobIds.length, "no event twice in bob's timeline");
    assert.deepEqual(bobIds, aliceIds);
    assert.deepEqual(bobIds.slice(-2), [beforeId, afterId]);
    assert.equal(roomOf(bob, roomId, "bob").getLiveTimeline().getEvents().at(-2)?.getId(), beforeId, "bob's live timeline was not reset");
  });
});
