/**
 * POST /keys/claim: takes one key per requested device to start an Olm session with it.
 * In:  `one_time_keys`: user id → device id → algorithm.
 * Out: `one_time_keys`: user id → device id → { "<algorithm>:<key_id>": key }, a one-time key
 *      (never handed out twice) or, when those ran out, the device's fallback key, which is
 *      then reported used; `failures`: one entry per remote server asked about.
 * Devices without a key of that algorithm are left out. A malformed user id is 400
 * M_INVALID_PARAM, refused before any key is taken. Each claim is its own storage transaction.
 */
import { parseUserId, userIdParts, type DeviceId, type ServerName } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import { unreachableServer } from "./query-keys.js";

export interface KeysClaimBody {
  one_time_keys: Record<string, Record<string, string>>;
  /** How long to wait for remote servers; accepted and unused without federation. */
  timeout?: number;
}

export interface KeysClaimResponse {
  one_time_keys: Record<string, Record<string, Record<string, unknown>>>;
  failures: Record<string, Record<string, unknown>>;
}

export async function claimKeys(storage: Storage, serverName: ServerName, body: KeysClaimBody): Promise<KeysClaimResponse> {
  const out: KeysClaimResponse = { one_time_keys: {}, failures: {} };
  // Every user id is checked before the first claim: a refused request must not use up keys.
  const requests = Object.entries(body.one_time_keys).map(([user, devices]) => [parseUserId(user), devices] as const);
  for (const [userId, devices] of requests) {
    const server = userIdParts(userId).serverName;
    if (server !== serverName) {
      out.failures[server] = unreachableServer();
      continue;
    }
    for (const [deviceId, algorithm] of Object.entries(devices)) {
      const claimed = await storage.keys.claim(userId, deviceId as DeviceId, algorithm);
      if (!claimed) continue;
      (out.one_time_keys[userId] ??= {})[deviceId] = { [`${algorithm}:${claimed.keyId}`]: claimed.key };
    }
  }
  return out;
}
