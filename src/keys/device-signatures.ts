/**
 * Device self-signatures (spec: end-to-end encryption, "Uploading keys" and "Key algorithms";
 * appendices, "Checking for a Signature").
 * In:  a device keys object or a signed key object, its owner (user and device) and the
 *      device's ed25519 key (unpadded Base64).
 * Out: whether `signatures[userId]["ed25519:<deviceId>"]` verifies over the canonical JSON of
 *      the object without `signatures` and `unsigned`. Never throws for bad input.
 */
import { verifyJsonSignature } from "../events/signing.js";

/** The key id a device signs with, also the name of its ed25519 key in `keys`. */
export function deviceSigningKeyId(deviceId: string): string {
  return `ed25519:${deviceId}`;
}

/** The device's own ed25519 key from its device keys object, or null when absent. */
export function deviceEd25519Key(deviceKeys: { keys?: unknown }, deviceId: string): string | null {
  const keys = deviceKeys.keys;
  if (typeof keys !== "object" || keys === null) return null;
  const key = (keys as Record<string, unknown>)[deviceSigningKeyId(deviceId)];
  return typeof key === "string" ? key : null;
}

/** True if the device signed `obj` with the ed25519 key `ed25519Key`. */
export function isSignedByDevice(obj: Record<string, unknown>, userId: string, deviceId: string, ed25519Key: string): boolean {
  return verifyJsonSignature(obj, userId, deviceSigningKeyId(deviceId), ed25519Key);
}
