/**
 * bench/send.ts — the cost of the event write path (issue 4).
 * One server (child process, SQLite default), one run, three workloads side by side:
 *   versions:   GET /_matrix/client/versions (the bare HTTP request cost)
 *   one-room:   PUT /send into a single room (every send waits for that room's lock)
 *   100-rooms:  PUT /send spread over 100 rooms
 * Prints one JSON object and writes it to bench/results/send.json. Goal: a send costs no
 * more than 3× a bare request (ratio of per-request time, i.e. inverse throughput).
 * Usage: npm run build && node dist/bench/send.js [requests=3000] [concurrency=16]
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startServerProcess } from "./lib/server-process.js";
import { round, runLoad } from "./lib/load.js";

const total = Number(process.argv[2] ?? 3000);
const concurrency = Number(process.argv[3] ?? 16);

async function post(url: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const json = (await r.json()) as Record<string, unknown>;
  if (!r.ok) throw new Error(`${url}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const server = await startServerProcess();
  const api = `${server.baseUrl}/_matrix/client/v3`;
  try {
    const user = await post(`${api}/register`, { username: "bench", password: "pw", auth: { type: "m.login.dummy" } });
    const token = String(user.access_token);
    const rooms: string[] = [];
    for (let i = 0; i < 100; i++) rooms.push(String((await post(`${api}/createRoom`, { name: `room ${i}` }, token)).room_id));
    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const send = (room: string, i: number, tag: string) => ({
      url: `${api}/rooms/${encodeURIComponent(room)}/send/m.room.message/${tag}-${i}`,
      init: { method: "PUT", headers, body: JSON.stringify({ msgtype: "m.text", body: `message ${i}` }) },
    });

    // Warm up both paths so JIT and SQLite caches do not favour whichever runs second.
    await runLoad("warmup", 300, concurrency, () => ({ url: `${server.baseUrl}/_matrix/client/versions`, init: {} }));
    await runLoad("warmup-send", 300, concurrency, (i) => send(rooms[0]!, i, "w"));

    const versions = await runLoad("versions", total, concurrency, () => ({ url: `${server.baseUrl}/_matrix/client/versions`, init: { headers: { authorization: `Bearer ${token}` } } }));
    const oneRoom = await runLoad("send-one-room", total, concurrency, (i) => send(rooms[0]!, i, "a"));
    const manyRooms = await runLoad("send-100-rooms", total, concurrency, (i) => send(rooms[i % rooms.length]!, i, "b"));

    const result = {
      bench: "send",
      date: new Date().toISOString(),
      node: process.version,
      requests: total,
      concurrency,
      workloads: [versions, oneRoom, manyRooms],
      ratios: {
        sendOneRoomCostVsVersions: round(versions.perSecond / oneRoom.perSecond),
        send100RoomsCostVsVersions: round(versions.perSecond / manyRooms.perSecond),
        sendOneRoomP50VsVersionsP50: round(oneRoom.p50ms / versions.p50ms),
      },
      goal: "a send costs no more than 3x a bare request (sendOneRoomCostVsVersions <= 3)",
    };
    console.log(JSON.stringify(result, null, 2));
    const out = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bench", "results");
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "send.json"), JSON.stringify(result, null, 2) + "\n");
  } finally {
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
