/**
 * The fastify instance: strict JSON body parsing (any content type: Matrix clients do not
 * all send one), body limit, no type coercion of bodies, CORS for browser clients, one
 * log line per request (status and duration, access tokens redacted), metrics, the error
 * handler, and 404/405 M_UNRECOGNIZED for unknown endpoints and wrong methods.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import cors from "@fastify/cors";
import FindMyWay, { type HTTPMethod } from "find-my-way";
import type { Logger } from "pino";
import { NotJsonError, UnrecognizedError } from "../errors/matrix-error.js";
import { errorHandler } from "./error-handler.js";
import type { HttpMetrics } from "./metrics.js";
import { redactUrl } from "./auth.js";

export interface HttpServerOptions {
  logger: Logger;
  metrics: HttpMetrics;
  maxBodyBytes: number;
  trustProxy: boolean;
}

const METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"] as const;

export async function buildHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }), // our onResponse hook logs one line instead
    bodyLimit: opts.maxBodyBytes,
    trustProxy: opts.trustProxy,
    return503OnClosing: false,
    forceCloseConnections: "idle",
    // Matrix ids contain characters that must stay encoded in paths (%2F in state keys).
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // Malformed percent-encoding and over-long path parameters get Matrix error bodies too.
    frameworkErrors: errorHandler,
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false } },
  });

  // Every route is also recorded in a shadow router, so a miss can tell "no such path"
  // (404) from "path exists with another method" (405), as the spec asks.
  const shadow = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 2048 });
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) {
      const method = m.toUpperCase() as HTTPMethod;
      if (method !== "OPTIONS" && !shadow.hasRoute(method, route.url)) shadow.on(method, route.url, () => {});
    }
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (req, body, done) => {
    const text = body as string;
    // No route matched: the answer is 404/405 M_UNRECOGNIZED whatever the body is (e.g. a
    // binary upload to an endpoint we do not implement), so do not fail on it first.
    if (text.trim() === "" || req.is404) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new NotJsonError("Content not JSON"), undefined);
    }
  });
  // Bodyless POST/PUT/DELETE (e.g. /logout, DELETE /devices/{id} asking for its UIA challenge) behave as `{}`.
  app.addHook("preValidation", async (request) => {
    if ((request.method === "POST" || request.method === "PUT" || request.method === "DELETE") && request.body === undefined) request.body = {};
  });

  await app.register(cors, {
    origin: "*",
    methods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
    allowedHeaders: ["X-Requested-With", "Content-Type", "Authorization"],
    strictPreflight: false,
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const ms = reply.elapsedTime;
    opts.metrics.observe(request.method, route, reply.statusCode, ms / 1000);
    // Redacting the URL costs more than the rest of this hook: only when the line is written.
    if (!(request.log as Logger).isLevelEnabled("info")) return;
    request.log.info(
      { method: request.method, url: redactUrl(request.url), status: reply.statusCode, ms: Math.round(ms * 10) / 10, ip: request.ip },
      "request",
    );
  });

  // Requests already in flight when close() starts answer with `Connection: close`; otherwise
  // their keep-alive sockets hold close() open until the client or keepAliveTimeout drops them
  // (fastify only does this for requests that arrive after closing began).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (request, reply, payload) => {
    if (closing && request.raw.httpVersionMajor < 2) reply.header("connection", "close");
    return payload;
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(async (request) => {
    const path = request.url.split("?")[0]!;
    const other = METHODS.some((m) => m !== request.method && shadow.find(m, path) !== null);
    throw new UnrecognizedError(other ? "Method not allowed" : "Unrecognized request", other);
  });
  return app;
}
