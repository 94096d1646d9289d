/**
 * GET /_matrix/key/v2/server (server-server API, "Retrieving server keys" → "Publishing Keys").
 * In:  this server's name and signing key.
 * Out: the Server Keys object — `server_name`, `verify_keys`, `old_verify_keys` (none yet),
 *      `valid_until_ts` — signed by the key it publishes, so a fetcher can check it at once.
 * The response is built per request (signing costs microseconds) so `valid_until_ts` moves on.
 */
import type { FastifyInstance } from "fastify";
import type { SigningKey } from "../../events/signing.js";

/** Receivers use the lesser of `valid_until_ts` and now + 7 days, so more is pointless. */
export const DEFAULT_KEY_VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

export interface ServerKeyRouteDeps {
  serverName: string;
  signingKey: SigningKey;
  validForMs?: number;
  /** Milliseconds since the epoch; tests pin it. */
  now?: () => number;
}

/** The signed key response as of `nowMs`. */
export function serverKeysResponse(deps: ServerKeyRouteDeps, nowMs: number): Record<string, unknown> {
  const body = {
    server_name: deps.serverName,
    verify_keys: { [deps.signingKey.keyId]: { key: deps.signingKey.publicKeyBase64 } },
    old_verify_keys: {},
    valid_until_ts: nowMs + (deps.validForMs ?? DEFAULT_KEY_VALIDITY_MS),
  };
  return deps.signingKey.signJson(body, deps.serverName);
}

export function registerServerKeyRoutes(app: FastifyInstance, deps: ServerKeyRouteDeps): void {
  const now = deps.now ?? Date.now;
  app.get("/_matrix/key/v2/server", async () => serverKeysResponse(deps, now()));
}
