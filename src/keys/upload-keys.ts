/**
 * POST /keys/upload: a device publishes its identity keys, one-time keys and fallback keys.
 * In:  the device (from the access token) and the body, already shaped by the API schema.
 * Out: the device's one-time key counts after the upload.
 * Refusals (all 400, checked before anything is written):
 *   device_keys naming another user or device: M_BAD_JSON (Synapse's code);
 *   device_keys without the device's `ed25519:<device_id>` key: M_BAD_JSON;
 *   device_keys whose self-signature does not verify: M_INVALID_SIGNATURE (the spec says the
 *     object "must be signed by that key"; Synapse stores it unchecked);
 *   identity keys different from those the device already published: M_INVALID_PARAM (a
 *     device's ed25519 key is its fingerprint; clients refuse a changed one anyway);
 *   a key name that is not `<algorithm>:<key_id>`, an unsigned `signed_*` key, two fallback
 *     keys of one algorithm: M_BAD_JSON; a signed key that the device's ed25519 key does not
 *     verify: M_INVALID_SIGNATURE;
 *   a one-time key id already holding a different key: M_UNKNOWN (as Synapse).
 * Concurrency: the caller runs uploads of one device one at a time (read, check, write).
 */
import { BadJsonError, InvalidSignatureError, UnknownError } from "../errors/matrix-error.js";
import type { DeviceId, UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import { deviceEd25519Key, isSignedByDevice } from "./device-signatures.js";

export type SignaturesBody = Record<string, Record<string, string>>;

/** The spec's DeviceKeys object (extra fields are kept: they are covered by the signature). */
export interface DeviceKeysBody {
  user_id: string;
  device_id: string;
  algorithms: string[];
  keys: Record<string, string>;
  signatures: SignaturesBody;
  [field: string]: unknown;
}

/** The spec's KeyObject: a signed key (`fallback: true` marks a signed fallback key). */
export interface SignedKeyBody {
  key: string;
  signatures: SignaturesBody;
  fallback?: boolean;
  [field: string]: unknown;
}

/** `<algorithm>:<key_id>` → a key (unsigned algorithms) or a signed key object. */
export type KeyMapBody = Record<string, string | SignedKeyBody>;

export interface KeysUploadBody {
  device_keys?: DeviceKeysBody;
  one_time_keys?: KeyMapBody | null;
  fallback_keys?: KeyMapBody | null;
  /** MSC2732's unstable name, still sent by older clients; the stable name wins when both are set. */
  "org.matrix.msc2732.fallback_keys"?: KeyMapBody | null;
}

interface NamedKey {
  algorithm: string;
  keyId: string;
  key: unknown;
}

interface Device {
  userId: UserId;
  deviceId: DeviceId;
}

/** Checks and stores everything in `body` for the device; see the header for refusals. */
export async function uploadKeys(storage: Storage, device: Device, body: KeysUploadBody): Promise<void> {
  const { userId, deviceId } = device;
  const stored = (await storage.keys.deviceKeys(userId, [deviceId]))[0]?.keys ?? null;
  const deviceKeys = body.device_keys ? checkDeviceKeys(body.device_keys, device) : null;
  // Signed one-time and fallback keys are checked with the identity key of this upload, or
  // the one published before (clients top up one-time keys without re-sending device keys).
  const signingKey = deviceEd25519Key(deviceKeys ?? stored ?? {}, deviceId);
  const oneTimeKeys = checkKeyMap(body.one_time_keys, "one_time_keys", device, signingKey);
  const fallbackKeys = checkKeyMap(body.fallback_keys ?? body["org.matrix.msc2732.fallback_keys"], "fallback_keys", device, signingKey);
  const algorithms = new Set<string>();
  for (const k of fallbackKeys) {
    if (algorithms.has(k.algorithm)) throw new BadJsonError(`fallback_keys: more than one key for algorithm ${k.algorithm}`);
    algorithms.add(k.algorithm);
  }

  if (oneTimeKeys.length > 0) {
    const conflicts = await storage.keys.addOneTimeKeys(userId, deviceId, oneTimeKeys);
    if (conflicts.length > 0) throw new UnknownError(`One time key ${conflicts[0]!} already exists with a different key`);
  }
  if (deviceKeys) await storage.keys.putDeviceKeys(userId, deviceId, deviceKeys);
  if (fallbackKeys.length > 0) await storage.keys.setFallbackKeys(userId, deviceId, fallbackKeys);
}

/** The device keys to store (without `unsigned`, which no signature covers), or a refusal. */
function checkDeviceKeys(body: DeviceKeysBody, device: Device): Record<string, unknown> {
  if (body.user_id !== device.userId) throw new BadJsonError("device_keys.user_id does not match the authenticated user");
  if (body.device_id !== device.deviceId) throw new BadJsonError("device_keys.device_id does not match the authenticated device");
  const ed25519 = deviceEd25519Key(body, device.deviceId);
  if (ed25519 === null) throw new BadJsonError(`device_keys.keys must contain the device's key ed25519:${device.deviceId}`);
  if (!isSignedByDevice(body, device.userId, device.deviceId, ed25519)) {
    throw new InvalidSignatureError(`device_keys is not signed by ed25519:${device.deviceId}`);
  }
  // New identity keys for an existing device replace the old ones (and the change is
  // announced in device lists), as Synapse does: a client that lost its crypto store but
  // kept its access token must be able to publish fresh keys. Clients detect the change.
  const { unsigned: _unsigned, ...keys } = body;
  return keys;
}

/** Parses `<algorithm>:<key_id>` names and checks signed keys; throws on the first bad entry. */
function checkKeyMap(map: KeyMapBody | null | undefined, field: string, device: Device, signingKey: string | null): NamedKey[] {
  if (!map) return [];
  const out: NamedKey[] = [];
  for (const [name, key] of Object.entries(map)) {
    const parts = name.split(":");
    if (parts.length !== 2 || parts[0] === "" || parts[1] === "") {
      throw new BadJsonError(`${field}: invalid key name ${JSON.stringify(name)}, expected "<algorithm>:<key_id>"`);
    }
    const [algorithm, keyId] = parts as [string, string];
    if (typeof key === "string") {
      if (algorithm.startsWith("signed_")) throw new BadJsonError(`${field}.${name}: a ${algorithm} key must be a signed key object`);
    } else if (signingKey === null) {
      throw new InvalidSignatureError(`${field}.${name}: the device has no ed25519 key to check the signature with; upload device_keys first`);
    } else if (!isSignedByDevice(key, device.userId, device.deviceId, signingKey)) {
      throw new InvalidSignatureError(`${field}.${name} is not signed by ed25519:${device.deviceId}`);
    }
    out.push({ algorithm, keyId, key });
  }
  return out;
}
