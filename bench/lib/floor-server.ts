/**
 * The floor of one HTTP request on this machine: a bare node:http server (no framework, no
 * database) answering every request with a constant small JSON body. bench/sync.ts measures
 * it exactly like the syncs (same client, same pauses), so the tables can say how much of a
 * sync's time is the request itself, which no homeserver can go below.
 * Run as a child process: `node dist/bench/lib/floor-server.js <port>`.
 */
import http from "node:http";
import { pathToFileURL } from "node:url";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cpuTimeMs, freePort, waitForHttp } from "./server-process.js";

const BODY = JSON.stringify({ versions: ["v1.11", "v1.12"] });

export interface FloorServer {
  url: string;
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startFloorServer(): Promise<FloorServer> {
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(port)], { stdio: ["ignore", "ignore", "inherit"] });
  let exited = false;
  const exit = new Promise((r) => child.once("exit", () => ((exited = true), r(undefined))));
  const url = `http://127.0.0.1:${port}/_matrix/client/versions`;
  await waitForHttp(url, 10_000, () => exited);
  return {
    url,
    cpuMs: () => cpuTimeMs(child.pid!),
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await exit;
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  http
    .createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) });
      res.end(BODY);
    })
    .listen(Number(process.argv[2]), "127.0.0.1");
}
