/** Shared fixtures for the event-model tests. */
import { decodeBase64 } from "../../../src/events/base64.js";
import { SigningKey } from "../../../src/events/signing.js";
import { roomVersion, type RoomVersion } from "../../../src/events/room-versions.js";

/** Appendices, "Cryptographic Test Vectors" → "Signing Key": seed, server name "domain", key id "ed25519:1". */
export const TEST_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";

export function testKey(): SigningKey {
  return SigningKey.fromSeed(decodeBase64(TEST_SEED)!, "1");
}

export const V10: RoomVersion = roomVersion("10")!;
export const V11: RoomVersion = roomVersion("11")!;
