/**
 * Base64 as the Matrix spec uses it (appendices, "Unpadded Base64" and "URL-safe unpadded Base64").
 * In:  bytes to encode; strings to decode (padded or not, as the spec asks decoders to accept).
 * Out: unpadded standard or URL-safe text; decoded bytes, or null when the text is not base64.
 * Invariants: encoders never emit "="; the decoder refuses characters outside the alphabet
 * instead of skipping them silently (Buffer.from alone would).
 */

/** Unpadded standard Base64 (RFC 4648 §4 without "="): signatures, keys, content hashes. */
export function encodeUnpaddedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64").replace(/=+$/, "");
}

/** URL-safe unpadded Base64 (RFC 4648 §5 without "="): event ids from room version 4. */
export function encodeUrlSafeUnpaddedBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard Base64 with or without padding. Trailing bits of the last character are
 * not checked: well-known keys (the spec's own test seed among them) carry non-zero ones.
 */
export function decodeBase64(text: string): Buffer | null {
  if (!STANDARD.test(text) || text.replace(/=+$/, "").length % 4 === 1) return null;
  return Buffer.from(text, "base64");
}
