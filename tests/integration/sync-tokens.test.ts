/**
 * /sync tokens and parameters: malformed `since` and other bad parameters are 400
 * M_INVALID_PARAM (never read as "no since"); `from` is refused; stale tokens (another epoch,
 * a future position, a changed stamp) are answered as an initial sync (issue 7 refines
 * this); next_batch never goes backwards and never makes a client see an event twice or miss
 * one, across many syncs and a restart of the server on the same data directory.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { createRoom, joinRoom } from "./room-helpers.js";
import { assertSyncError, ids, mustJoined, send, stateKeys, sync, syncRaw, type SyncBody } from "./sync-helpers.js";
import { decodeSyncToken, encodeSyncToken } from "../../src/streams/sync-token.js";
import { asStreamPos } from "../../src/streams/position.js";

describe("sync tokens and parameters", () => {
  let server: TestServer;
  let base: string;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;

  before(async () => {
    server = await startServer();
    base = server.baseUrl;
    alice = await registerUser(base, "alice");
    bob = await registerUser(base, "bob");
    roomId = await createRoom(base, alice, { preset: "public_chat", name: "Tokens" });
    await joinRoom(base, bob, roomId);
    for (let i = 0; i < 12; i++) await send(base, alice, roomId, `t${i}`); // more than a timeline: initial syncs carry state
  });
  after(async () => {
    await server.close();
  });

  it("a malformed since is 400 M_INVALID_PARAM, never an initial sync", async () => {
    const good = (await sync(base, bob)).next_batch;
    for (const since of ["garbage", "0", "s12", "s-1_a_b", "t5", "s1_ABC_x", `${good}!`, `s99999999999999999_1_x`, "x".repeat(5000)]) {
      assertSyncError(await syncRaw(base, bob, { since }), 400, "M_INVALID_PARAM");
    }
  });

  it("`from` instead of since is 400, with a hint", async () => {
    const good = (await sync(base, bob)).next_batch;
    const res = await syncRaw(base, bob, { extra: { from: good } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(String(res.body.error), /since/);
  });

  it("a bad timeout, set_presence, full_state or use_state_after is 400 M_INVALID_PARAM", async () => {
    const cases: Record<string, string>[] = [
      { timeout: "abc" },
      { timeout: "-1" },
      { timeout: "1.5" },
      { set_presence: "away" },
      { full_state: "yes" },
      { use_state_after: "1" },
      { "org.matrix.msc4222.use_state_after": "maybe" },
    ];
    for (const extra of cases) assertSyncError(await syncRaw(base, bob, { extra }), 400, "M_INVALID_PARAM");
  });

  describe("stale tokens are answered as an initial sync", () => {
    async function initialShape(body: SyncBody): Promise<void> {
      const room = mustJoined(body, roomId);
      const initial = mustJoined(await sync(base, bob), roomId);
      assert.deepEqual(ids(room.timeline.events), ids(initial.timeline.events));
      assert.deepEqual(stateKeys(room.state?.events), stateKeys(initial.state?.events));
      assert.ok((room.state?.events.length ?? 0) > 0, "full state");
      // the answer's next_batch is a good token: the next sync is incremental and quiet
      const next = await sync(base, bob, { since: body.next_batch, set_presence: "offline" });
      assert.equal(next.rooms, undefined, JSON.stringify(next.rooms));
    }

    async function current(): Promise<{ pos: number; stamp: number; epoch: string }> {
      const t = decodeSyncToken((await sync(base, bob, { set_presence: "offline" })).next_batch);
      return { pos: t.pos, stamp: t.stamp, epoch: t.epoch };
    }

    it("a token of another epoch", async () => {
      const t = await current();
      const since = encodeSyncToken({ pos: asStreamPos(t.pos), stamp: t.stamp, epoch: "AnotherEpoch0000" });
      await initialShape(await sync(base, bob, { since }));
    });

    it("a token from the future (a position this database never reached)", async () => {
      const t = await current();
      const since = encodeSyncToken({ pos: asStreamPos(t.pos + 1000), stamp: 12345, epoch: t.epoch });
      await initialShape(await sync(base, bob, { since }));
    });

    it("a token whose stamp differs from the row at its position", async () => {
      const t = await current();
      const since = encodeSyncToken({ pos: asStreamPos(t.pos), stamp: t.stamp + 1, epoch: t.epoch });
      await initialShape(await sync(base, bob, { since }));
    });
  });

  it("next_batch never goes backwards, even on a quiet sync", async () => {
    let token = (await sync(base, bob)).next_batch;
    for (let i = 0; i < 5; i++) {
      if (i % 2 === 0) await send(base, alice, roomId, `fwd ${i}`);
      const next = (await sync(base, bob, { since: token, set_presence: "offline" })).next_batch;
      assert.ok(decodeSyncToken(next).pos >= decodeSyncToken(token).pos, `${next} after ${token}`);
      token = next;
    }
  });

  it("across many syncs and a server restart on the same data, every event arrives exactly once", async () => {
    const own = await startServer();
    let dataDir = own.dataDir;
    let srv: TestServer = own;
    try {
      const u1 = await registerUser(srv.baseUrl, "writer");
      const u2 = await registerUser(srv.baseUrl, "reader");
      const rooms = [await createRoom(srv.baseUrl, u1, { preset: "public_chat" }), await createRoom(srv.baseUrl, u1, { preset: "public_chat" })];
      for (const r of rooms) await joinRoom(srv.baseUrl, u2, r);
      let token = (await sync(srv.baseUrl, u2)).next_batch;
      const sent: string[] = [];
      const received: string[] = [];
      const collect = (body: SyncBody) => {
        for (const r of rooms) received.push(...ids(body.rooms?.join?.[r]?.timeline.events).filter((id) => sent.includes(id)));
        return body.next_batch;
      };
      const round = async (n: number) => {
        for (let i = 0; i < n; i++) {
          for (let k = 0; k <= i % 3; k++) sent.push(await send(srv.baseUrl, u1, rooms[(i + k) % 2]!, `r${i}.${k}`));
          token = collect(await sync(srv.baseUrl, u2, { since: token, filter: { room: { timeline: { limit: 50 } } } }));
        }
      };
      await round(6);
      const beforeRestart = token;
      await srv.close({ keepData: true });
      srv = await startServer({}, { dataDir });
      dataDir = srv.dataDir;
      // the old token is still good: an incremental, quiet sync, not an initial one
      const quiet = await sync(srv.baseUrl, u2, { since: beforeRestart, set_presence: "offline" });
      assert.equal(quiet.rooms, undefined, `the token survived the restart: ${JSON.stringify(quiet.rooms)}`);
      await round(6);
      // a gap across the restart: events sent while the client was away, then one sync
      for (let i = 0; i < 4; i++) sent.push(await send(srv.baseUrl, u1, rooms[i % 2]!, `away ${i}`));
      await srv.close({ keepData: true });
      srv = await startServer({}, { dataDir });
      token = collect(await sync(srv.baseUrl, u2, { since: token, filter: { room: { timeline: { limit: 50 } } } }));
      await round(3);
      assert.deepEqual([...received].sort(), [...sent].sort(), "every event once");
      assert.equal(new Set(received).size, received.length, "no event twice");
      // and in order within each room
      for (const r of rooms) {
        const inRoom = (await srv.app.services.storage.events.inRoom(r, { dir: "f", from: null, to: null, limit: 1000 })).map((e) => e.eventId);
        const order = (list: string[]) => list.filter((id) => inRoom.includes(id));
        assert.deepEqual(order(received), inRoom.filter((id) => sent.includes(id)));
      }
    } finally {
      await srv.close();
    }
  });
});
