/**
 * ClientRouter: how api/* modules declare endpoints. A route under the client API is
 * mounted at both /_matrix/client/v3 and /_matrix/client/r0 (Hydrogen and matrix-nio
 * still use r0). The router authenticates (per route: required, optional or none),
 * validates the body with its TypeBox schema (M_BAD_JSON), and sends the handler's result
 * as JSON with status 200.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Static, TSchema } from "typebox";
import { MissingTokenError } from "../errors/matrix-error.js";
import type { Authenticator } from "../accounts/authenticator.js";
import type { Requester } from "../accounts/requester.js";
import { accessTokenOf, requireAccessToken } from "./auth.js";

export type AuthMode = "required" | "optional" | "none";
type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface RouteContext<B> {
  body: B;
  params: Record<string, string>;
  /** First value of each query parameter. */
  query: Record<string, string | undefined>;
  /** The caller; throws M_MISSING_TOKEN when read on a route that did not authenticate. */
  readonly requester: Requester;
  readonly maybeRequester: Requester | null;
  ip: string;
  request: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<S extends TSchema | undefined> {
  method: Method;
  /** Path below the API prefix, fastify syntax (`/devices/:deviceId`). */
  path: string;
  auth: AuthMode;
  body?: S;
  handler(ctx: RouteContext<S extends TSchema ? Static<S> : Record<string, unknown>>): Promise<unknown>;
}

export const CLIENT_PREFIXES = ["/_matrix/client/v3", "/_matrix/client/r0"] as const;

export class ClientRouter {
  constructor(private readonly app: FastifyInstance, private readonly authenticator: Authenticator) {}

  /** A client-server API route, mounted under every prefix in CLIENT_PREFIXES. */
  route<S extends TSchema | undefined>(def: RouteDef<S>): void {
    for (const prefix of CLIENT_PREFIXES) this.mount(prefix + def.path, def);
  }

  /** A route at an exact path (e.g. /_matrix/client/versions, /.well-known/matrix/client). */
  exact<S extends TSchema | undefined>(def: RouteDef<S>): void {
    this.mount(def.path, def);
  }

  private mount<S extends TSchema | undefined>(url: string, def: RouteDef<S>): void {
    const authenticator = this.authenticator;
    this.app.route({
      method: def.method,
      url,
      ...(def.body ? { schema: { body: def.body as object } } : {}),
      handler: async (request, reply) => {
        let requester: Requester | null = null;
        if (def.auth === "required") {
          requester = await authenticator.authenticate(requireAccessToken(request), request.ip);
        } else if (def.auth === "optional") {
          const token = accessTokenOf(request);
          if (token !== null) requester = await authenticator.authenticate(token, request.ip);
        }
        const ctx: RouteContext<never> = {
          body: request.body as never,
          params: request.params as Record<string, string>,
          query: firstValues(request.query),
          get requester(): Requester {
            if (!requester) throw new MissingTokenError("Missing access token");
            return requester;
          },
          maybeRequester: requester,
          ip: request.ip,
          request,
          reply,
        };
        const result = await def.handler(ctx as never);
        if (!reply.sent) return reply.code(200).send(result ?? {});
        return reply;
      },
    });
  }
}

function firstValues(q: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (typeof q !== "object" || q === null) return out;
  for (const [k, v] of Object.entries(q as Record<string, unknown>)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === "string") out[k] = first;
  }
  return out;
}
