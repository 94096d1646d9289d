/**
 * Helpers for the /sync (v2) integration tests (sync-*.test.ts): one call that syncs,
 * asserts 200, validates the body against sync.yaml and checks the rules every response
 * must keep whatever the test (never both `state` and a `state_after`; `state_after` present
 * on every room when it was asked for), plus typed accessors for the parts tests read.
 */
import assert from "node:assert/strict";
import { get as httpGet } from "node:http";
import { api, type ApiResponse, type TestServer, type TestUser } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";
import { V3, enc, nextTxnId } from "./room-helpers.js";

export type Json = Record<string, unknown>;

export interface SyncEvent {
  event_id: string;
  type: string;
  sender: string;
  content: Json;
  state_key?: string;
  origin_server_ts: number;
  unsigned?: Json;
  [k: string]: unknown;
}

export interface EventList<E = SyncEvent> {
  events: E[];
}

export interface SyncRoom {
  timeline: EventList & { limited?: boolean; prev_batch?: string };
  state?: EventList;
  state_after?: EventList;
  "org.matrix.msc4222.state_after"?: EventList;
  account_data?: EventList<Json & { type: string; content: Json }>;
  ephemeral?: EventList<Json & { type: string; content: Json }>;
  summary?: { "m.heroes"?: string[]; "m.joined_member_count"?: number; "m.invited_member_count"?: number };
  unread_notifications?: { notification_count: number; highlight_count: number };
  unread_thread_notifications?: Record<string, { notification_count: number; highlight_count: number }>;
}

export interface StrippedEvent {
  type: string;
  state_key: string;
  sender: string;
  content: Json;
}

export interface SyncBody {
  next_batch: string;
  rooms?: {
    join?: Record<string, SyncRoom>;
    leave?: Record<string, SyncRoom>;
    invite?: Record<string, { invite_state: EventList<StrippedEvent> }>;
    knock?: Record<string, { knock_state: EventList<StrippedEvent> }>;
  };
  account_data?: EventList<{ type: string; content: Json }>;
  presence?: EventList<{ type: string; sender: string; content: Json }>;
  to_device?: EventList<{ type: string; sender: string; content: Json }>;
  device_lists?: { changed?: string[]; left?: string[] };
  device_one_time_keys_count?: Record<string, number>;
  device_unused_fallback_key_types?: string[];
}

export interface SyncParams {
  since?: string;
  /** A stored filter id, or a filter object sent inline as JSON. */
  filter?: string | Json;
  timeout?: number;
  full_state?: boolean;
  set_presence?: string;
  use_state_after?: boolean;
  /** Sends org.matrix.msc4222.use_state_after=true. */
  unstable_state_after?: boolean;
  /** Use /r0 instead of /v3. */
  r0?: boolean;
  /** Extra raw query parameters. */
  extra?: Record<string, string>;
}

export function syncQuery(p: SyncParams = {}): string {
  const q = new URLSearchParams();
  if (p.since !== undefined) q.set("since", p.since);
  if (p.filter !== undefined) q.set("filter", typeof p.filter === "string" ? p.filter : JSON.stringify(p.filter));
  if (p.timeout !== undefined) q.set("timeout", String(p.timeout));
  if (p.full_state !== undefined) q.set("full_state", String(p.full_state));
  if (p.set_presence !== undefined) q.set("set_presence", p.set_presence);
  if (p.use_state_after) q.set("use_state_after", "true");
  if (p.unstable_state_after) q.set("org.matrix.msc4222.use_state_after", "true");
  for (const [k, v] of Object.entries(p.extra ?? {})) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/**
 * GET /sync with no assertion (for error cases). With `signal`, the request goes over its own
 * connection (node:http, no keep-alive pool) and aborting it closes that connection, as a
 * client going away does; fetch's pool would instead open a spare connection that holds the
 * server's graceful close until the keep-alive timeout.
 */
export function syncRaw(base: string, user: TestUser, p: SyncParams = {}, init: { signal?: AbortSignal } = {}): Promise<ApiResponse<SyncBody & Json>> {
  const path = `/_matrix/client/${p.r0 ? "r0" : "v3"}/sync${syncQuery(p)}`;
  if (!init.signal) return api(base, "GET", path, { token: user.accessToken });
  return new Promise((resolve, reject) => {
    const req = httpGet(base + path, { agent: false, headers: { authorization: `Bearer ${user.accessToken}` }, signal: init.signal }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as SyncBody & Json, headers: new Headers() }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

/** The field a room's state_after travels in for these parameters (null: classic `state`). */
export function stateAfterKey(p: SyncParams): "state_after" | "org.matrix.msc4222.state_after" | null {
  return p.unstable_state_after ? "org.matrix.msc4222.state_after" : p.use_state_after ? "state_after" : null;
}

/** Checks every response must pass: spec schema, and the state / state_after exclusivity. */
export async function checkSyncBody(body: SyncBody, p: SyncParams = {}): Promise<void> {
  await assertMatchesSpec("sync.yaml", "/sync", "get", 200, body);
  assert.equal(typeof body.next_batch, "string");
  assert.ok(body.next_batch.length > 0, "next_batch is never empty");
  const key = stateAfterKey(p);
  for (const section of ["join", "leave"] as const) {
    for (const [roomId, room] of Object.entries(body.rooms?.[section] ?? {})) {
      const present = (["state", "state_after", "org.matrix.msc4222.state_after"] as const).filter((k) => k in room);
      if (key === null) {
        assert.ok(!present.includes("state_after") && !present.includes("org.matrix.msc4222.state_after"), `${section} ${roomId}: state_after without use_state_after`);
      } else {
        assert.deepEqual(present, [key], `${section} ${roomId}: with use_state_after exactly ${key} must be present (MUST omit state), got ${present.join(",")}`);
      }
      assert.ok(Array.isArray(room.timeline.events), `${section} ${roomId}: timeline.events`);
    }
  }
}

/** GET /sync: asserts 200 and the checks of checkSyncBody. */
export async function sync(base: string, user: TestUser, p: SyncParams = {}): Promise<SyncBody> {
  const res = await syncRaw(base, user, p);
  assert.equal(res.status, 200, `sync ${syncQuery(p)}: ${JSON.stringify(res.body)}`);
  await checkSyncBody(res.body, p);
  return res.body;
}

export function assertSyncError(res: ApiResponse<Json>, status: number, errcode: string): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, "string");
}

export function joinedRoom(body: SyncBody, roomId: string): SyncRoom | undefined {
  return body.rooms?.join?.[roomId];
}

export function leftRoom(body: SyncBody, roomId: string): SyncRoom | undefined {
  return body.rooms?.leave?.[roomId];
}

export function mustJoined(body: SyncBody, roomId: string): SyncRoom {
  const room = joinedRoom(body, roomId);
  assert.ok(room, `room ${roomId} not in rooms.join: ${JSON.stringify(body.rooms ?? {})}`);
  return room;
}

export function mustLeft(body: SyncBody, roomId: string): SyncRoom {
  const room = leftRoom(body, roomId);
  assert.ok(room, `room ${roomId} not in rooms.leave: ${JSON.stringify(body.rooms ?? {})}`);
  return room;
}

export function ids(events: readonly { event_id: string }[] | undefined): string[] {
  return (events ?? []).map((e) => e.event_id);
}

export function bodies(room: SyncRoom | undefined): unknown[] {
  return (room?.timeline.events ?? []).filter((e) => e.type === "m.room.message").map((e) => e.content.body);
}

/** (type, state_key) pairs of a state list, sorted, for comparisons. */
export function stateKeys(events: readonly SyncEvent[] | undefined): string[] {
  return (events ?? []).map((e) => `${e.type}|${e.state_key}`).sort();
}

/** Sends a text message; asserts 200 and returns the event id. */
export async function send(base: string, user: TestUser, roomId: string, body: string, extra: Json = {}): Promise<string> {
  const res = await api<{ event_id: string }>(base, "PUT", `${V3}/rooms/${enc(roomId)}/send/m.room.message/${enc(nextTxnId())}`, {
    token: user.accessToken,
    body: { msgtype: "m.text", body, ...extra },
  });
  assert.equal(res.status, 200, `send: ${JSON.stringify(res.body)}`);
  return res.body.event_id;
}

/** PUT a state event; asserts 200 and returns the event id. */
export async function setState(base: string, user: TestUser, roomId: string, type: string, stateKey: string, content: Json): Promise<string> {
  const res = await api<{ event_id: string }>(base, "PUT", `${V3}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token: user.accessToken, body: content });
  assert.equal(res.status, 200, `state ${type}: ${JSON.stringify(res.body)}`);
  return res.body.event_id;
}

/** POST /rooms/{roomId}/{action}; asserts 200. */
export async function act(base: string, user: TestUser, roomId: string, action: string, body: Json = {}): Promise<void> {
  const res = await api(base, "POST", `${V3}/rooms/${enc(roomId)}/${action}`, { token: user.accessToken, body });
  assert.equal(res.status, 200, `${action}: ${JSON.stringify(res.body)}`);
}

/** Uploads a filter; returns its id. */
export async function uploadFilter(base: string, user: TestUser, filter: Json): Promise<string> {
  const res = await api<{ filter_id: string }>(base, "POST", `${V3}/user/${enc(user.userId)}/filter`, { token: user.accessToken, body: filter });
  assert.equal(res.status, 200, `filter: ${JSON.stringify(res.body)}`);
  return res.body.filter_id;
}

/** GET /rooms/{roomId}/messages; asserts 200. */
export async function messages(base: string, user: TestUser, roomId: string, q: Record<string, string>): Promise<{ chunk: SyncEvent[]; start: string; end?: string }> {
  const res = await api<{ chunk: SyncEvent[]; start: string; end?: string }>(base, "GET", `${V3}/rooms/${enc(roomId)}/messages?${new URLSearchParams(q).toString()}`, { token: user.accessToken });
  assert.equal(res.status, 200, `messages: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls until `cond` holds (checked every few ms, at most `tries` times). */
export async function waitUntil(cond: () => boolean, what: string, tries = 2000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** Resolves once the server has a long-poll parked for someone (waiting() reaches n). */
export function parked(server: TestServer, n = 1): Promise<void> {
  return waitUntil(() => server.app.services.notifier.waiting() >= n, `${n} parked long-poll(s)`);
}

/** The sync engine's private parts the sharing tests look at. */
interface EngineInternals {
  shared: { size(): number };
  compute: (...args: unknown[]) => Promise<unknown>;
}

/**
 * Counts the sync engine's computations (identical concurrent requests share one).
 * `shared()` is the number of computations in flight; restore() undoes the counting.
 */
export function countComputations(server: TestServer): { count(): number; reset(): void; shared(): number; restore(): void } {
  const internals = server.app.services.syncV2 as unknown as EngineInternals;
  const original = internals.compute;
  let computations = 0;
  internals.compute = function (this: unknown, ...args: unknown[]) {
    computations++;
    return original.apply(this, args);
  };
  return {
    count: () => computations,
    reset: () => void (computations = 0),
    shared: () => internals.shared.size(),
    restore: () => void (internals.compute = original),
  };
}

/**
 * Holds every sync computation at its first step (reading the database epoch) until
 * release(), so a test can line up a second request behind it; restore() undoes it.
 */
export function holdComputations(server: TestServer): { release(): void; restore(): void } {
  const meta = server.app.services.storage.meta;
  const epoch = meta.epoch.bind(meta);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  meta.epoch = async () => {
    await gate;
    return epoch();
  };
  return {
    release: () => release(),
    restore: () => {
      release();
      meta.epoch = epoch;
    },
  };
}
