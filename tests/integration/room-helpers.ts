/**
 * Small helpers for integration tests that write into rooms over HTTP and read the result
 * back from storage (app.services.storage), shared by room-writes, directory and
 * concurrency tests. Every helper that expects success asserts it, with the body in the message.
 */
import assert from "node:assert/strict";
import type { UserId } from "../../src/events/ids.js";
import type { Storage } from "../../src/storage/storage.js";
import type { EventRow } from "../../src/storage/rows.js";
import { api, type ApiResponse, type TestServer, type TestUser } from "./harness.js";

export const V3 = "/_matrix/client/v3";
export const enc = encodeURIComponent;

let txnCounter = 0;
/** A transaction id unique within this process. */
export function nextTxnId(): string {
  txnCounter += 1;
  return `t${process.pid}-${txnCounter}`;
}

export function storageOf(server: TestServer): Storage {
  return server.app.services.storage;
}

/** POST /createRoom; asserts 200 and returns the room id. */
export async function createRoom(base: string, user: TestUser, body: Record<string, unknown> = {}): Promise<string> {
  const res = await api<{ room_id: string }>(base, "POST", `${V3}/createRoom`, { token: user.accessToken, body });
  assert.equal(res.status, 200, `createRoom: ${JSON.stringify(res.body)}`);
  return res.body.room_id;
}

export function sendMessage(base: string, user: TestUser, roomId: string, content: unknown, opts: { txnId?: string; type?: string } = {}): Promise<ApiResponse<{ event_id: string; errcode?: string }>> {
  const type = opts.type ?? "m.room.message";
  return api(base, "PUT", `${V3}/rooms/${enc(roomId)}/send/${enc(type)}/${enc(opts.txnId ?? nextTxnId())}`, { token: user.accessToken, body: content });
}

/** PUT /rooms/{roomId}/state/{type}/{stateKey} (the state key may be ""). */
export function putState(base: string, user: TestUser, roomId: string, type: string, stateKey: string, content: unknown): Promise<ApiResponse<{ event_id: string; errcode?: string }>> {
  return api(base, "PUT", `${V3}/rooms/${enc(roomId)}/state/${enc(type)}/${enc(stateKey)}`, { token: user.accessToken, body: content });
}

/** POST /rooms/{roomId}/{action} with a body (join, leave, invite, kick, ban, unban, forget). */
export function roomAction(base: string, user: TestUser, roomId: string, action: string, body: Record<string, unknown> = {}): Promise<ApiResponse> {
  return api(base, "POST", `${V3}/rooms/${enc(roomId)}/${action}`, { token: user.accessToken, body });
}

export async function joinRoom(base: string, user: TestUser, roomIdOrAlias: string): Promise<void> {
  const res = await api(base, "POST", `${V3}/join/${enc(roomIdOrAlias)}`, { token: user.accessToken, body: {} });
  assert.equal(res.status, 200, `join ${roomIdOrAlias}: ${JSON.stringify(res.body)}`);
}

/** Current content of one state entry, or null when the room has none. */
export async function stateContent(server: TestServer, roomId: string, type: string, stateKey = ""): Promise<Record<string, unknown> | null> {
  const row = await storageOf(server).rooms.currentStateEvent(roomId, type, stateKey);
  return row ? row.pdu.content : null;
}

export async function membershipOf(server: TestServer, roomId: string, userId: string): Promise<string | null> {
  return (await storageOf(server).rooms.membership(roomId, userId as UserId))?.membership ?? null;
}

/** Every event of a room, oldest first. */
export function roomEvents(server: TestServer, roomId: string): Promise<EventRow[]> {
  return storageOf(server).events.inRoom(roomId, { dir: "f", from: null, to: null, limit: 100_000 });
}

/** Logs in again with the password: a new device (and access token) for the same user. */
export async function loginNewDevice(base: string, user: TestUser): Promise<TestUser> {
  const res = await api<{ user_id: string; access_token: string; device_id: string }>(base, "POST", `${V3}/login`, {
    body: { type: "m.login.password", identifier: { type: "m.id.user", user: user.userId }, password: user.password },
  });
  assert.equal(res.status, 200, `login: ${JSON.stringify(res.body)}`);
  return { userId: res.body.user_id, accessToken: res.body.access_token, deviceId: res.body.device_id, password: user.password };
}
