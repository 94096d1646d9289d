/**
 * Hashing and signing whole events (server-server API, "Adding hashes and signatures to
 * outgoing events", "Validating hashes and signatures on received events").
 * In:  an event object, its room version, the signing server's name and key.
 * Out: a copy with `hashes.sha256` set and this server's signature added; the signature
 *      covers the *redacted* event, so it stays valid after a redaction.
 * Invariants: pure (no I/O); never mutates its input.
 */
import { addContentHash } from "./hashes.js";
import { redact } from "./redaction.js";
import { verifyJsonSignature, type SigningKey, type Signatures } from "./signing.js";
import type { Pdu } from "./pdu.js";
import type { RoomVersion } from "./room-versions.js";

/** Content hash, then redact, then sign, then copy the signatures back onto the full event. */
export function hashAndSignEvent<T extends Record<string, unknown> = Pdu>(
  event: T,
  version: RoomVersion,
  serverName: string,
  key: SigningKey,
): T & { hashes: { sha256: string }; signatures: Signatures } {
  const hashed = addContentHash(event);
  const signedRedacted = key.signJson(redact(hashed, version), serverName);
  return { ...hashed, signatures: signedRedacted.signatures };
}

/**
 * Whether `serverName` signed the event with `keyId` (checked over the redacted form, so it
 * holds for full and redacted copies alike). The content hash is a separate check.
 */
export function verifyEventSignature(
  event: Record<string, unknown>,
  version: RoomVersion,
  serverName: string,
  keyId: string,
  publicKeyBase64: string,
): boolean {
  return verifyJsonSignature(redact(event, version), serverName, keyId, publicKeyBase64);
}
