/**
 * POST /keys/query: the identity keys of users' devices.
 * In:  `device_keys`: user id → device ids (an empty list means every device).
 * Out: `device_keys`: user id → device id → the keys as uploaded, plus
 *      `unsigned.device_display_name` when the device has a name; `failures`: one entry per
 *      remote server asked about (Sluice has no federation yet, so it cannot reach them).
 * Local users that exist get an entry even without keys (Synapse); unknown users and
 * devices without keys are left out (spec: "no failure is recorded"). A malformed user id
 * is 400 M_INVALID_PARAM. Read-only.
 */
import { parseUserId, userIdParts, type DeviceId, type ServerName } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";

export interface KeysQueryBody {
  device_keys: Record<string, string[]>;
  /** How long to wait for remote servers; accepted and unused without federation. */
  timeout?: number;
}

export interface KeysQueryResponse {
  device_keys: Record<string, Record<string, Record<string, unknown>>>;
  failures: Record<string, Record<string, unknown>>;
}

/** What `failures` says about a server Sluice cannot ask (Synapse's shape for an unreachable one). */
export function unreachableServer(): Record<string, unknown> {
  return { status: 503, message: "Federation is not supported by this server yet" };
}

export async function queryKeys(storage: Storage, serverName: ServerName, body: KeysQueryBody): Promise<KeysQueryResponse> {
  const out: KeysQueryResponse = { device_keys: {}, failures: {} };
  for (const [user, deviceIds] of Object.entries(body.device_keys)) {
    const userId = parseUserId(user);
    const server = userIdParts(userId).serverName;
    if (server !== serverName) {
      out.failures[server] = unreachableServer();
      continue;
    }
    if (!(await storage.accounts.userExists(userId))) continue;
    const [keys, devices] = await Promise.all([storage.keys.deviceKeys(userId, deviceIds as DeviceId[]), storage.devices.list(userId)]);
    const names = new Map(devices.map((d) => [d.deviceId as string, d.displayName]));
    const byDevice: Record<string, Record<string, unknown>> = {};
    for (const { deviceId, keys: deviceKeys } of keys) {
      const name = names.get(deviceId) ?? null;
      byDevice[deviceId] = { ...deviceKeys, unsigned: name === null ? {} : { device_display_name: name } };
    }
    out.device_keys[userId] = byDevice;
  }
  return out;
}
