/**
 * Event hashes (server-server API, "Signing Events": "Calculating the content hash for an
 * event", "Calculating the reference hash for an event") and event ids from them (room
 * versions 4+, "Event IDs").
 * In:  a PDU; the room version for anything that goes through the redaction algorithm.
 * Out: SHA-256 digests; unpadded Base64 for `hashes.sha256`, URL-safe unpadded Base64 for ids.
 * Invariants: pure. `unsigned` never affects a hash; the content hash covers unredacted content,
 * the reference hash (and so the event id) covers only what survives redaction plus `hashes`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { canonicalJsonBytes } from "./canonical-json.js";
import { decodeBase64, encodeUnpaddedBase64, encodeUrlSafeUnpaddedBase64 } from "./base64.js";
import { redact } from "./redaction.js";
import type { Pdu } from "./pdu.js";
import type { RoomVersion } from "./room-versions.js";

function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** SHA-256 of the canonical event without `unsigned`, `signatures` and `hashes`. */
export function contentHash(pdu: Record<string, unknown>): Buffer {
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = pdu;
  return sha256(canonicalJsonBytes(rest));
}

/** A copy of `pdu` with `hashes.sha256` set to its content hash (unpadded Base64). */
export function addContentHash<T extends Record<string, unknown> = Pdu>(pdu: T): T & { hashes: { sha256: string } } {
  return { ...pdu, hashes: { sha256: encodeUnpaddedBase64(contentHash(pdu)) } };
}

/**
 * Whether `hashes.sha256` matches the content. A mismatch means the event was redacted on
 * the way (server-server API, "Validating hashes and signatures on received events").
 */
export function checkContentHash(pdu: Record<string, unknown>): boolean {
  const hashes = pdu.hashes;
  if (typeof hashes !== "object" || hashes === null) return false;
  const claimed = (hashes as Record<string, unknown>).sha256;
  if (typeof claimed !== "string") return false;
  const expected = decodeBase64(claimed);
  if (expected === null || expected.length !== 32) return false;
  return timingSafeEqual(expected, contentHash(pdu));
}

/** SHA-256 of the canonical redacted event without `signatures` and `unsigned`. */
export function referenceHash(pdu: Record<string, unknown>, version: RoomVersion): Buffer {
  const { signatures: _s, unsigned: _u, ...rest } = redact(pdu, version);
  return sha256(canonicalJsonBytes(rest));
}

/** The event id of a room version 4+ event: `$` + URL-safe unpadded Base64 reference hash. */
export function eventIdFor(pdu: Record<string, unknown>, version: RoomVersion): string {
  return `$${encodeUrlSafeUnpaddedBase64(referenceHash(pdu, version))}`;
}
