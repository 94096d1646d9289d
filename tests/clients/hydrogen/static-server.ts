/**
 * A tiny static server for the Hydrogen browser test: serves the page in this folder, the
 * prebuilt files of the hydrogen-view-sdk npm package (ES build, service worker, themes,
 * fonts, olm worker), @matrix-org/olm and dompurify straight from node_modules, and the
 * three CommonJS dependencies of Hydrogen (another-json, base64-arraybuffer, off-color)
 * wrapped as ES modules on the fly, so no bundler and no build output is needed. Nothing
 * outside those folders is reachable. `/config.json` names the homeserver under test.
 */
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { AddressInfo } from "node:net";

export interface StaticServer {
  url: string;
  /** Every path asked for, with the status given (for failure messages). */
  requests: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".svg": "image/svg+xml",
  ".png": "image/png",
};

/** Packages served as they are (ES modules or plain scripts). */
const RAW_PACKAGES = ["dompurify", "@matrix-org/olm"];
/** CommonJS packages without requires, wrapped as an ES module with a default export. */
const CJS_PACKAGES = ["another-json", "base64-arraybuffer", "off-color"];

/** `rel` inside `root`, or null if it would escape it. */
function inside(root: string, rel: string): string | null {
  const full = normalize(join(root, rel));
  return full.startsWith(root + sep) ? full : null;
}

/** `/prefix/<package>/<file>` → the file in node_modules, for an allowed package. */
function packageFile(nodeModules: string, rest: string, allowed: string[]): string | null {
  const pkg = allowed.find((p) => rest.startsWith(p + "/"));
  return pkg ? inside(join(nodeModules, pkg), rest.slice(pkg.length + 1)) : null;
}

export async function startStaticServer(opts: { pageDir: string; nodeModules: string; homeserver: string }): Promise<StaticServer> {
  const pageDir = resolve(opts.pageDir);
  const nodeModules = resolve(opts.nodeModules);
  const hydrogen = join(nodeModules, "hydrogen-view-sdk");
  const requests: string[] = [];

  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const send = (status: number, type: string, body: string | Buffer): void => {
      requests.push(`${status} ${req.method} ${path}`);
      // The service worker is served from the root, so it may control the whole origin.
      res.writeHead(status, { "content-type": type, "cache-control": "no-store", "service-worker-allowed": "/" });
      res.end(body);
    };
    void (async () => {
      let file: string | null = null;
      let wrapCjs = false;
      if (path === "/favicon.ico") {
        send(204, "text/plain", "");
        return;
      } else if (path === "/config.json") {
        send(200, TYPES[".json"]!, JSON.stringify({ defaultHomeServer: opts.homeserver }));
        return;
      } else if (path === "/" || path === "/index.html") file = join(pageDir, "index.html");
      else if (path === "/app.js") file = join(pageDir, "app.js");
      else if (path === "/sw.js") file = join(hydrogen, "lib-build", "sw.js");
      else if (path.startsWith("/hydrogen/")) file = inside(join(hydrogen, "lib-build"), path.slice("/hydrogen/".length));
      else if (path.startsWith("/assets/")) file = inside(join(hydrogen, "asset-build", "assets"), path.slice("/assets/".length));
      else if (path.startsWith("/npm/")) file = packageFile(nodeModules, path.slice("/npm/".length), RAW_PACKAGES);
      else if (path.startsWith("/cjs/")) {
        file = packageFile(nodeModules, path.slice("/cjs/".length), CJS_PACKAGES);
        wrapCjs = true;
      }
      if (!file) {
        send(404, "text/plain", "not found");
        return;
      }
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        send(404, "text/plain", "not found");
        return;
      }
      if (wrapCjs) {
        const src = `const module = { exports: {} }; const exports = module.exports;\n${body.toString("utf8")}\nexport default module.exports;\n`;
        send(200, TYPES[".js"]!, src);
      } else {
        send(200, TYPES[extname(file)] ?? "application/octet-stream", body);
      }
    })().catch((e: unknown) => send(500, "text/plain", String(e)));
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
