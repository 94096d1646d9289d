/**
 * The few client-server calls the benchmarks make, over node:http (./http.ts), for any homeserver
 * (Sluice or Synapse): register, login, createRoom, join, send, sync. Errors throw with
 * the status and body, so a seeding or benchmark step never goes on after a refusal.
 */
import { httpRequest } from "./http.js";

export type Json = Record<string, unknown>;

export { socketRetries } from "./http.js";

export class MatrixClient {
  private txn = 0;
  constructor(
    readonly baseUrl: string,
    readonly accessToken = "",
    readonly userId = "",
    readonly deviceId = "",
  ) {}

  get api(): string {
    return `${this.baseUrl}/_matrix/client/v3`;
  }

  private headers(): Record<string, string> {
    return { "content-type": "application/json", ...(this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {}) };
  }

  async request(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Json> {
    const r = await httpRequest(`${this.api}${path}`, { method, headers: this.headers(), ...(body !== undefined ? { body: JSON.stringify(body) } : {}), ...(signal ? { signal } : {}) });
    const text = r.text();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Json;
  }

  /** Open registration with the m.login.dummy stage (asks for a UIA session first, as Synapse wants). */
  static async register(baseUrl: string, username: string, password: string): Promise<MatrixClient> {
    const url = `${baseUrl}/_matrix/client/v3/register`;
    const post = (body: Json) => httpRequest(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    let r = await post({ username, password, inhibit_login: false });
    let json = r.json<Json>();
    if (r.status === 401) {
      r = await post({ username, password, inhibit_login: false, auth: { type: "m.login.dummy", session: json.session } });
      json = r.json<Json>();
    }
    if (!r.ok) throw new Error(`register ${username}: ${r.status} ${JSON.stringify(json)}`);
    return new MatrixClient(baseUrl, String(json.access_token), String(json.user_id), String(json.device_id));
  }

  static async login(baseUrl: string, user: string, password: string, deviceId?: string): Promise<MatrixClient> {
    const r = await httpRequest(`${baseUrl}/_matrix/client/v3/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user }, password, ...(deviceId ? { device_id: deviceId } : {}) }),
    });
    const json = r.json<Json>();
    if (!r.ok) throw new Error(`login ${user}: ${r.status} ${JSON.stringify(json)}`);
    return new MatrixClient(baseUrl, String(json.access_token), String(json.user_id), String(json.device_id));
  }

  async createRoom(body: Json): Promise<string> {
    return String((await this.request("POST", "/createRoom", body)).room_id);
  }

  async join(roomId: string): Promise<void> {
    await this.request("POST", `/join/${encodeURIComponent(roomId)}`, {});
  }

  async send(roomId: string, body: string, signal?: AbortSignal): Promise<string> {
    const txn = `b${Date.now()}-${this.txn++}`;
    return String((await this.request("PUT", `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`, { msgtype: "m.text", body }, signal)).event_id);
  }

  /** URL of GET /sync; presence stays off so syncing itself changes nothing. */
  syncUrl(params: { since?: string | null; timeoutMs?: number; filter?: string }): string {
    const q = new URLSearchParams({ timeout: String(params.timeoutMs ?? 0), set_presence: "offline" });
    if (params.since) q.set("since", params.since);
    if (params.filter) q.set("filter", params.filter);
    return `${this.api}/sync?${q.toString()}`;
  }

  /** GET /sync, returning the raw body size and the parsed body. */
  async sync(params: { since?: string | null; timeoutMs?: number; filter?: string }, signal?: AbortSignal): Promise<{ bytes: number; body: Json }> {
    const r = await httpRequest(this.syncUrl(params), { headers: this.headers(), ...(signal ? { signal } : {}) });
    const buf = r.body;
    if (!r.ok) throw new Error(`sync: ${r.status} ${buf.toString("utf8", 0, 300)}`);
    return { bytes: buf.length, body: JSON.parse(buf.toString("utf8")) as Json };
  }
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
