/**
 * Property test of /sync: a seeded PRNG drives random interleavings, over 3 users and 3
 * rooms, of sends, state changes (topic, name, history visibility), joins, leaves, invites
 * and syncs, and a few server restarts on the same data. Each sync starts from a token chosen at random among those the user was issued
 * before (or none), with a random timeline limit (1..10) and a random state mode (classic,
 * use_state_after, or its unstable name). The client's view is rebuilt from the answers the
 * way a client does it: apply the timeline; when it is limited, back-paginate with
 * /messages from prev_batch until an event already known appears. Then, for every room:
 *   - the section the client holds matches the user's membership now;
 *   - a joined room's timeline equals the room's true history as the user may see it
 *     (the stored events, ordered, filtered by an independent implementation of the spec's
 *     history visibility rules), and its state equals the room's current state;
 *   - a left room's timeline ends with the user's last membership event, and equals the
 *     visible history when the client followed the room up to the leave;
 *   - no response repeats an event the client already had.
 * Bounded by operation count, never by time. Seeds: SYNC_PROPERTY_SEEDS (comma-separated)
 * or the defaults below; the failing seed and the last operations are printed on failure.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { api, registerUser, startServer, type TestServer, type TestUser } from "./harness.js";
import { V3, createRoom, enc, nextTxnId } from "./room-helpers.js";
import { checkSyncBody, messages, stateAfterKey, syncRaw, type SyncBody, type SyncEvent, type SyncParams, type SyncRoom } from "./sync-helpers.js";
import type { EventRow } from "../../src/storage/rows.js";
import type { UserId } from "../../src/events/ids.js";

const OPS_PER_RUN = 300;
const DEFAULT_SEEDS = [11, 23, 37];
const SEEDS = process.env.SYNC_PROPERTY_SEEDS ? process.env.SYNC_PROPERTY_SEEDS.split(",").map(Number) : DEFAULT_SEEDS;
/** linearMaxDelta values: the default (mostly linear), 0 (polylog for every range), small (both). */
const MODES = [1024, 0, 6];

/** mulberry32: small, seedable, good enough to pick operations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Section = "join" | "leave" | "invite" | "knock";

interface RoomView {
  section: Section;
  timeline: string[];
  /** "type|state_key" → event id, as the client maintains it. */
  state: Map<string, string>;
  /** The client followed the room without a hole: its timeline is the whole visible history. */
  complete: boolean;
}

interface Snapshot {
  token: string;
  rooms: Map<string, RoomView>;
}

const VISIBILITIES = ["shared", "invited", "joined", "world_readable"] as const;

/**
 * The spec's history visibility algorithm ("Room History Visibility"), written independently
 * of src/rooms/visibility.ts: which events of the room (oldest first) `userId` may see.
 * Visibility and membership are taken from the state before each event; a
 * history_visibility event also counts with its own value, the user's own member event with
 * the membership it sets (and a leave that rejects an invite is visible, as Synapse does).
 */
function visibleEvents(events: readonly EventRow[], userId: string): { visible: string[]; optional: Set<string> } {
  const known = (v: unknown) => (typeof v === "string" && (VISIBILITIES as readonly string[]).includes(v) ? v : "shared");
  const own = events.filter((e) => e.pdu.type === "m.room.member" && e.pdu.state_key === userId);
  const lastJoin = own.filter((e) => e.pdu.content.membership === "join").at(-1)?.pos ?? -1;
  const allows = (vis: string, mem: string, pos: number) =>
    vis === "world_readable" || mem === "join" || (vis === "shared" && lastJoin > pos) || (vis === "invited" && mem === "invite");
  // "shared" history becomes visible when the user joins later, also history the client may
  // already have been handed a timeline over while it was hidden: the leave that rejected an
  // invite (or withdrew a knock) comes as a left room whose timeline skips it. No protocol
  // mechanism resends that history (short of duplicating what the client holds), so such
  // events are optional: the client may or may not have them, depending on how it synced.
  const rejections = own.filter((e, i) => e.pdu.content.membership === "leave" && ["invite", "knock"].includes(String(own[i - 1]?.pdu.content.membership)));
  const revealedAfterRejection = (pos: number) => {
    const join = own.find((e) => e.pos > pos && e.pdu.content.membership === "join");
    return join !== undefined && rejections.some((r) => r.pos > pos && r.pos < join.pos);
  };
  let vis = "shared";
  let mem = "leave";
  const out: string[] = [];
  const optional = new Set<string>();
  for (const e of events) {
    let ok = allows(vis, mem, e.pos);
    let viaShared = ok && vis === "shared";
    if (!ok && e.pdu.type === "m.room.history_visibility" && e.pdu.state_key === "") {
      const own = known(e.pdu.content.history_visibility);
      ok = allows(own, mem, e.pos);
      viaShared = ok && own === "shared";
    }
    if (viaShared && mem !== "join" && revealedAfterRejection(e.pos)) optional.add(e.eventId);
    if (!ok && e.pdu.type === "m.room.member" && e.pdu.state_key === userId) {
      const after = String(e.pdu.content.membership);
      ok = allows(vis, after, e.pos) || (after === "leave" && mem === "invite");
    }
    if (ok) out.push(e.eventId);
    if (e.pdu.type === "m.room.history_visibility" && e.pdu.state_key === "") vis = known(e.pdu.content.history_visibility);
    if (e.pdu.type === "m.room.member" && e.pdu.state_key === userId) mem = String(e.pdu.content.membership);
  }
  return { visible: out, optional };
}

class Run {
  private readonly rand: () => number;
  /** Page sizes for back-pagination: a stream apart, so the operations do not depend on them. */
  private readonly pageRand: () => number;
  private readonly log: string[] = [];
  private server!: TestServer;
  private users: TestUser[] = [];
  private rooms: string[] = [];
  private readonly issued = new Map<string, Snapshot[]>();
  syncs = 0;
  limitedSyncs = 0;
  /** The last /sync answer, printed on failure with SYNC_PROPERTY_DEBUG=1. */
  private lastBody: SyncBody | null = null;

  constructor(readonly seed: number, readonly linearMaxDelta: number) {
    this.rand = prng(seed);
    this.pageRand = prng(seed ^ 0x5bd1e995);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)]!;
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  private get base(): string {
    return this.server.baseUrl;
  }

  async run(): Promise<void> {
    this.server = await startServer({ sync: { linearMaxDelta: this.linearMaxDelta } });
    try {
      for (let i = 0; i < 3; i++) this.users.push(await registerUser(this.base, `p${i}`));
      const everyone = Object.fromEntries(this.users.map((u) => [u.userId, 100]));
      for (let i = 0; i < 3; i++) {
        const creator = this.users[i]!;
        this.rooms.push(
          await createRoom(this.base, creator, {
            preset: "public_chat",
            power_level_content_override: { users: everyone },
            initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: VISIBILITIES[i] } }],
          }),
        );
      }
      for (const u of this.users) this.issued.set(u.userId, []);
      for (let op = 0; op < OPS_PER_RUN; op++) await this.step(op);
    } catch (e) {
      const last = process.env.SYNC_PROPERTY_DEBUG ? `\nlast answer: ${JSON.stringify(this.lastBody?.rooms)}` : "";
      const detail = `seed ${this.seed} (linearMaxDelta ${this.linearMaxDelta}); last operations:\n  ${this.log.slice(-25).join("\n  ")}${last}`;
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${detail}`, { cause: e });
    } finally {
      await this.server.close();
    }
  }

  private membership(roomId: string, user: TestUser): Promise<string> {
    return this.server.app.services.storage.rooms.membership(roomId, user.userId as UserId).then((m) => m?.membership ?? "none");
  }

  private async ok(res: { status: number; body: unknown }, what: string): Promise<void> {
    assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body)}`);
  }

  private async step(op: number): Promise<void> {
    const r = this.rand();
    const user = this.pick(this.users);
    const roomId = this.pick(this.rooms);
    const room = `room${this.rooms.indexOf(roomId)}`;
    const who = `p${this.users.indexOf(user)}`;
    const mem = await this.membership(roomId, user);
    if (r < 0.3) {
      if (mem !== "join") return;
      this.log.push(`#${op} ${who} sends in ${room}`);
      await this.ok(await api(this.base, "PUT", `${V3}/rooms/${enc(roomId)}/send/m.room.message/${nextTxnId()}`, { token: user.accessToken, body: { msgtype: "m.text", body: `op ${op}` } }), "send");
    } else if (r < 0.4) {
      if (mem !== "join") return;
      const kind = this.int(0, 2);
      const [type, content] =
        kind === 0 ? ["m.room.topic", { topic: `topic ${op}` }] : kind === 1 ? ["m.room.name", { name: `name ${op}` }] : ["m.room.history_visibility", { history_visibility: this.pick(VISIBILITIES) }];
      this.log.push(`#${op} ${who} sets ${type} ${JSON.stringify(content)} in ${room}`);
      await this.ok(await api(this.base, "PUT", `${V3}/rooms/${enc(roomId)}/state/${type}/`, { token: user.accessToken, body: content }), "state");
    } else if (r < 0.52) {
      if (mem === "join") return;
      this.log.push(`#${op} ${who} joins ${room} (was ${mem})`);
      await this.ok(await api(this.base, "POST", `${V3}/join/${enc(roomId)}`, { token: user.accessToken, body: {} }), "join");
    } else if (r < 0.6) {
      if (mem !== "join" && mem !== "invite") return;
      this.log.push(`#${op} ${who} leaves ${room} (was ${mem})`);
      await this.ok(await api(this.base, "POST", `${V3}/rooms/${enc(roomId)}/leave`, { token: user.accessToken, body: {} }), "leave");
    } else if (r < 0.68) {
      if (mem !== "join") return;
      const target = this.pick(this.users);
      const theirs = await this.membership(roomId, target);
      if (theirs === "join" || theirs === "invite") return;
      this.log.push(`#${op} ${who} invites p${this.users.indexOf(target)} to ${room}`);
      await this.ok(await api(this.base, "POST", `${V3}/rooms/${enc(roomId)}/invite`, { token: user.accessToken, body: { user_id: target.userId } }), "invite");
    } else if (r < 0.69) {
      // A restart on the same data: every token issued so far must stay good.
      this.log.push(`#${op} restart`);
      const dataDir = this.server.dataDir;
      await this.server.close({ keepData: true });
      this.server = await startServer({ sync: { linearMaxDelta: this.linearMaxDelta } }, { dataDir });
    } else {
      await this.sync(op, user, who);
    }
  }

  private async sync(op: number, user: TestUser, who: string): Promise<void> {
    const previous = this.issued.get(user.userId)!;
    const from: Snapshot | null = previous.length > 0 && this.rand() < 0.9 ? this.pick(previous) : null;
    const limit = this.rand() < 0.8 ? this.int(1, 10) : null;
    const modeRoll = this.rand();
    const p: SyncParams = {
      set_presence: "offline",
      ...(from ? { since: from.token } : {}),
      ...(limit !== null ? { filter: { room: { timeline: { limit } } } } : {}),
      ...(modeRoll < 1 / 3 ? {} : modeRoll < 2 / 3 ? { use_state_after: true } : { unstable_state_after: true }),
    };
    this.log.push(`#${op} ${who} syncs from ${from ? `token #${previous.indexOf(from)} (${from.token.split("_")[0]})` : "nothing"}, limit ${limit ?? "default"}, ${stateAfterKey(p) ?? "state"}`);
    const res = await syncRaw(this.base, user, p);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body;
    this.lastBody = body;
    await checkSyncBody(body, p);
    if (from && this.linearMaxDelta > 0) {
      // Differential check: the same request answered by polylog (point look-ups) instead of a
      // log scan must be the same answer (nothing changed in between: writes are sequential).
      const opts = (this.server.app.services.syncV2 as unknown as { opts: { linearMaxDelta: number } }).opts;
      opts.linearMaxDelta = 0;
      try {
        const again = await syncRaw(this.base, user, p);
        // Known and harmless: polylog resends m.push_rules (it cannot tell whether they changed).
        const withoutRules = (b: SyncBody): SyncBody => {
          const events = (b.account_data?.events ?? []).filter((e) => e.type !== "m.push_rules");
          const { account_data: _a, ...rest } = b;
          return events.length > 0 ? { ...rest, account_data: { events } } : rest;
        };
        assert.deepEqual(withoutRules(again.body), withoutRules(body), "polylog and linear answer the same request differently");
      } finally {
        opts.linearMaxDelta = this.linearMaxDelta;
      }
    }
    this.syncs++;
    const view = await this.apply(user, from, body, p);
    previous.push(view);
    await this.check(user, view);
  }

  /** The client's new view: the old one with the response applied (and gaps back-filled). */
  private async apply(user: TestUser, from: Snapshot | null, body: SyncBody, p: SyncParams): Promise<Snapshot> {
    const rooms = new Map<string, RoomView>();
    for (const [id, v] of from?.rooms ?? []) rooms.set(id, { ...v, timeline: [...v.timeline], state: new Map(v.state) });
    const stateKey = stateAfterKey(p) ?? "state";
    for (const section of ["join", "leave"] as const) {
      for (const [roomId, room] of Object.entries(body.rooms?.[section] ?? {}) as [string, SyncRoom][]) {
        const existing = rooms.get(roomId);
        const view = existing ?? { section, timeline: [], state: new Map<string, string>(), complete: false };
        const known = new Set(view.timeline);
        const events = room.timeline.events;
        for (const e of events) assert.ok(!known.has(e.event_id), `${section} ${roomId}: event ${e.event_id} sent again (the client had it)`);
        let gap: SyncEvent[] = [];
        if (room.timeline.limited) {
          this.limitedSyncs++;
          assert.ok(room.timeline.prev_batch, "a limited timeline has a prev_batch");
          gap = await this.fillGap(user, roomId, room.timeline.prev_batch, known, view.timeline.at(-1) ?? null);
        }
        const added = [...gap, ...events].map((e) => e.event_id);
        assert.equal(new Set(added).size, added.length, `${roomId}: an event twice in one response and its gap`);
        view.timeline.push(...added);
        // Complete if the gap was filled back to what the client had (or to the room's start),
        // or the client was following the room (joined) and nothing was cut.
        view.complete = room.timeline.limited ? (existing?.complete ?? true) : existing !== undefined && existing.complete && existing.section === "join";
        view.section = section;
        // State as a client keeps it: state_after replaces; classic applies state then the timeline.
        const stateEvents = (room as unknown as Record<string, { events: SyncEvent[] } | undefined>)[stateKey]?.events ?? [];
        for (const e of stateEvents) view.state.set(`${e.type}|${e.state_key}`, e.event_id);
        if (stateKey === "state") for (const e of events) if (e.state_key !== undefined) view.state.set(`${e.type}|${e.state_key}`, e.event_id);
        rooms.set(roomId, view);
      }
    }
    for (const roomId of Object.keys(body.rooms?.invite ?? {})) {
      const view = rooms.get(roomId) ?? { section: "invite" as Section, timeline: [], state: new Map<string, string>(), complete: false };
      view.section = "invite";
      rooms.set(roomId, view);
    }
    return { token: body.next_batch, rooms };
  }

  /** Back-paginates from prev_batch until an event the client knows; returns the gap, oldest first. */
  private async fillGap(user: TestUser, roomId: string, from: string, known: ReadonlySet<string>, last: string | null): Promise<SyncEvent[]> {
    const out: SyncEvent[] = [];
    let token: string | undefined = from;
    for (let pages = 0; token; pages++) {
      assert.ok(pages < 500, "back-pagination does not end");
      const page = await messages(this.base, user, roomId, { dir: "b", from: token, limit: String(1 + Math.floor(this.pageRand() * 7)) });
      for (const e of page.chunk) {
        if (known.has(e.event_id)) {
          assert.equal(e.event_id, last, `${roomId}: back-pagination reached a known event that is not the newest known one (a duplicate or a hole)`);
          return out.reverse();
        }
        out.push(e);
      }
      token = page.end;
    }
    assert.equal(last, null, `${roomId}: back-pagination ran out before reaching the newest known event ${last}`);
    return out.reverse();
  }

  private async check(user: TestUser, view: Snapshot): Promise<void> {
    const storage = this.server.app.services.storage;
    for (const roomId of this.rooms) {
      const mem = await this.membership(roomId, user);
      const held = view.rooms.get(roomId);
      const where = `${user.userId} in room${this.rooms.indexOf(roomId)}`;
      if (mem === "join" || mem === "invite") assert.equal(held?.section, mem, `${where}: membership ${mem}, the client holds ${held?.section ?? "nothing"}`);
      else assert.ok(!held || held.section === "leave", `${where}: membership ${mem}, the client holds ${held?.section}`);
      if (!held || (held.section !== "join" && held.section !== "leave")) continue;
      const events = await storage.events.inRoom(roomId, { dir: "f", from: null, to: null, limit: 100_000 });
      const model = visibleEvents(events, user.userId);
      const visible = model.visible;
      const order = new Map(events.map((e, i) => [e.eventId, i]));
      for (let i = 1; i < held.timeline.length; i++) {
        assert.ok((order.get(held.timeline[i - 1]!) ?? -1) < (order.get(held.timeline[i]!) ?? -1), `${where}: the client's timeline is out of order or holds an unknown event at ${i}`);
      }
      const strict = (list: readonly string[]) => list.filter((id) => !model.optional.has(id));
      const posOf = new Map(events.map((e) => [e.eventId, e.pos]));
      const diff = (want: readonly string[]) => {
        const have = new Set(strict(held.timeline));
        const wanted = new Set(strict(want));
        return `\nmissing positions: ${[...wanted].filter((id) => !have.has(id)).map((id) => posOf.get(id)).join(",")}; unexpected: ${[...have].filter((id) => !wanted.has(id)).map((id) => posOf.get(id) ?? id).join(",")}; optional: ${[...model.optional].map((id) => posOf.get(id)).join(",")}`;
      };
      const dump = () =>
        process.env.SYNC_PROPERTY_DEBUG
          ? "\n" +
            events
              .map((e) => `${visible.includes(e.eventId) ? "V" : " "}${held.timeline.includes(e.eventId) ? "C" : " "} ${e.pos} ${e.pdu.type} ${e.pdu.state_key ?? ""} ${JSON.stringify(e.pdu.content.membership ?? e.pdu.content.history_visibility ?? "")} by p${this.users.findIndex((u) => u.userId === e.pdu.sender)}`)
              .join("\n")
          : "";
      if (held.section === "join") {
        assert.deepEqual(strict(held.timeline), strict(visible), `${where}: the client's timeline differs from the visible history${diff(visible)}${dump()}`);
        const current = await storage.rooms.currentState(roomId);
        const expected = new Map(current.map((r) => [`${r.pdu.type}|${r.pdu.state_key}`, r.eventId]));
        assert.deepEqual(new Map([...held.state].sort()), new Map([...expected].sort()), `${where}: the client's state differs from the room's`);
      } else {
        const mine = events.filter((e) => e.pdu.type === "m.room.member" && e.pdu.state_key === user.userId).at(-1);
        assert.equal(held.timeline.at(-1), mine?.eventId, `${where}: a left room's timeline ends at the user's leave`);
        const upToLeave = visible.slice(0, visible.indexOf(mine!.eventId) + 1);
        if (held.complete) assert.deepEqual(strict(held.timeline), strict(upToLeave), `${where}: a left room the client followed: its timeline is the visible history up to the leave${diff(upToLeave)}${dump()}`);
        // Every event shown is visible history up to the leave, in order (a left room is not
        // followed, so a client may lack what happened while it was out).
        let i = 0;
        for (const id of held.timeline) {
          while (i < upToLeave.length && upToLeave[i] !== id) i++;
          assert.ok(i < upToLeave.length, `${where}: left-room event ${id} is not visible history up to the leave, in order`);
        }
      }
    }
  }

  summary(): string {
    return `${this.syncs} syncs, ${this.limitedSyncs} limited timelines`;
  }
}

describe("sync property: client-visible timelines equal the visible history", () => {
  for (const seed of SEEDS) {
    for (const linearMaxDelta of MODES) {
      it(`seed ${seed}, linearMaxDelta ${linearMaxDelta}: ${OPS_PER_RUN} random operations`, async (t) => {
        const run = new Run(seed, linearMaxDelta);
        await run.run();
        t.diagnostic(run.summary());
      });
    }
  }
});
