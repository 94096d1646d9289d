/** Device management (GET/PUT/DELETE /devices, POST /delete_devices). */
import { NotFoundError } from "../errors/matrix-error.js";
import type { DeviceId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { DeviceRow } from "../storage/rows.js";
import type { Clock } from "../util/clock.js";
import type { Requester } from "./requester.js";
import { STAGE_PASSWORD, type UserInteractiveAuth } from "./uia.js";

/** The spec's Device object. */
export interface DeviceBody {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

export function toDeviceBody(d: DeviceRow): DeviceBody {
  const body: DeviceBody = { device_id: d.deviceId };
  if (d.displayName !== null) body.display_name = d.displayName;
  if (d.lastSeenIp !== null) body.last_seen_ip = d.lastSeenIp;
  if (d.lastSeenTs !== null) body.last_seen_ts = d.lastSeenTs;
  return body;
}

export class Devices {
  constructor(private readonly storage: Storage, private readonly uia: UserInteractiveAuth, private readonly clock: Clock) {}

  async list(requester: Requester): Promise<DeviceBody[]> {
    return (await this.storage.devices.list(requester.userId)).map(toDeviceBody);
  }

  async get(requester: Requester, deviceId: DeviceId): Promise<DeviceBody> {
    const d = await this.storage.devices.get(requester.userId, deviceId);
    if (!d) throw new NotFoundError("Device not found");
    return toDeviceBody(d);
  }

  async rename(requester: Requester, deviceId: DeviceId, displayName: string | null): Promise<void> {
    if (!(await this.storage.devices.setDisplayName(requester.userId, deviceId, displayName))) throw new NotFoundError("Device not found");
  }

  /**
   * DELETE /devices/{id}. The spec lists only 200 and 401 here (and Synapse answers 200 for
   * an unknown id after UIA), so an id that is not one of the caller's devices is a no-op.
   */
  async deleteOne(requester: Requester, deviceId: DeviceId, auth: unknown): Promise<void> {
    await this.deleteMany(requester, [deviceId], auth);
  }

  /** POST /delete_devices: unknown ids are ignored, as the spec allows. */
  async deleteMany(requester: Requester, deviceIds: DeviceId[], auth: unknown): Promise<void> {
    await this.uia.require({ auth, flows: [{ stages: [STAGE_PASSWORD] }], purpose: "delete_devices", userId: requester.userId });
    await this.storage.devices.delete(requester.userId, deviceIds, this.clock.now());
  }
}
