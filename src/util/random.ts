/** Random identifiers and secrets. All from node:crypto's CSPRNG. */
import { randomBytes, randomInt } from "node:crypto";

/** URL-safe random string carrying `bytes` bytes of entropy. */
export function randomString(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

const DEVICE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Ten upper-case letters, the shape Synapse uses for device ids. */
export function randomDeviceId(): string {
  let s = "";
  for (let i = 0; i < 10; i++) s += DEVICE_ALPHABET[randomInt(DEVICE_ALPHABET.length)];
  return s;
}
