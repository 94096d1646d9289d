/**
 * Reads the access token from a request: `Authorization: Bearer <token>` or the legacy
 * `?access_token=` query parameter (still used by matrix-nio). The header wins if both are sent.
 */
import type { FastifyRequest } from "fastify";
import { MissingTokenError, UnknownTokenError } from "../errors/matrix-error.js";

export function accessTokenOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw new UnknownTokenError("Malformed Authorization header");
    return m[1]!;
  }
  const q = (request.query as Record<string, unknown> | undefined)?.access_token;
  const token = Array.isArray(q) ? q[0] : q;
  return typeof token === "string" && token.length > 0 ? token : null;
}

export function requireAccessToken(request: FastifyRequest): string {
  const token = accessTokenOf(request);
  if (token === null) throw new MissingTokenError("Missing access token");
  return token;
}

/** For logs: the URL with any access_token value hidden. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]access_token=)[^&]*/gi, "$1<redacted>");
}
