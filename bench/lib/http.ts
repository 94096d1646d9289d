/**
 * The benchmarks' HTTP client: node:http over keep-alive connections.
 * Why not `fetch`: undici's fetch costs the load generator ~0.15–0.2 ms per request on
 * these machines (measured side by side against the same server: /versions p50 0.27 ms
 * with fetch, 0.14 ms with node:http). That time is added to every measured request of
 * every server alike, so it shrinks the ratios between a fast server and a slow one; the
 * lighter client measures the servers more exactly.
 */
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 2048 });

export interface HttpResponse {
  status: number;
  ok: boolean;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface HttpRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** Socket errors retried once: a keep-alive connection the server closed just as a request went out on it. */
export const socketRetries = { count: 0 };

function once(url: string, init: HttpRequestInit): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers["content-length"] = Buffer.byteLength(init.body);
    const req = http.request(url, { method: init.method ?? "GET", headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        resolve({ status, ok: status >= 200 && status < 300, body, text: () => body.toString("utf8"), json: <T>() => JSON.parse(body.toString("utf8")) as T });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/**
 * One request; retried once when the connection was closed under it (Synapse closes idle
 * keep-alive connections). Every call the benchmarks make is safe to repeat: GETs, and
 * PUT /send with the same transaction id.
 */
export async function httpRequest(url: string, init: HttpRequestInit = {}): Promise<HttpResponse> {
  try {
    return await once(url, init);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (init.signal?.aborted || (code !== "ECONNRESET" && code !== "EPIPE")) throw e;
    socketRetries.count++;
    return once(url, init);
  }
}
