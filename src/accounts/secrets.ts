/**
 * Access and refresh tokens. Clients get the clear token once; storage keeps only its
 * SHA-256, so a leaked database does not leak live sessions.
 */
import { createHash } from "node:crypto";
import { randomString } from "../util/random.js";

export function newAccessToken(): string {
  return `slt_${randomString(32)}`;
}

export function newRefreshToken(): string {
  return `slr_${randomString(32)}`;
}

export function hashSecret(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
