/** SQLite DeviceStore. Deleting a device deletes its tokens and records a device-list change. */
import type { Database } from "better-sqlite3";
import type { DeviceId, UserId } from "../../events/ids.js";
import type { DeviceStore } from "../storage.js";
import type { DeviceRow } from "../rows.js";
import type { Generations } from "./generation.js";
import type { ChangeLog } from "./change-log.js";
import { deleteKeysOfRemovedDevices } from "./keys.js";

interface DeviceSqlRow {
  user_id: string;
  device_id: string;
  display_name: string | null;
  created_ts: number;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
}

const toRow = (r: DeviceSqlRow): DeviceRow => ({
  userId: r.user_id as UserId,
  deviceId: r.device_id as DeviceId,
  displayName: r.display_name,
  createdTs: r.created_ts,
  lastSeenTs: r.last_seen_ts,
  lastSeenIp: r.last_seen_ip,
});

export class SqliteDeviceStore implements DeviceStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog, private readonly generations: Generations) {}

  async list(userId: UserId): Promise<DeviceRow[]> {
    return (this.db.prepare("SELECT * FROM devices WHERE user_id = ? ORDER BY device_id").all(userId) as DeviceSqlRow[]).map(toRow);
  }

  async get(userId: UserId, deviceId: DeviceId): Promise<DeviceRow | null> {
    const r = this.db.prepare("SELECT * FROM devices WHERE user_id = ? AND device_id = ?").get(userId, deviceId) as DeviceSqlRow | undefined;
    return r ? toRow(r) : null;
  }

  async setDisplayName(userId: UserId, deviceId: DeviceId, displayName: string | null): Promise<boolean> {
    return this.db.prepare("UPDATE devices SET display_name = ? WHERE user_id = ? AND device_id = ?").run(displayName, userId, deviceId).changes > 0;
  }

  async delete(userId: UserId, deviceIds: readonly DeviceId[], _nowTs: number): Promise<number> {
    if (deviceIds.length === 0) return 0;
    return this.log.transaction((record) => {
      let gone = 0;
      for (const d of deviceIds) {
        gone += this.db.prepare("DELETE FROM devices WHERE user_id = ? AND device_id = ?").run(userId, d).changes;
        this.db.prepare("DELETE FROM access_tokens WHERE user_id = ? AND device_id = ?").run(userId, d);
        this.generations.access.bump();
        this.db.prepare("DELETE FROM refresh_tokens WHERE user_id = ? AND device_id = ?").run(userId, d);
        this.db.prepare("DELETE FROM device_inbox WHERE user_id = ? AND device_id = ?").run(userId, d);
      }
      deleteKeysOfRemovedDevices(this.db, userId, this.generations.deviceKeys);
      if (gone > 0) record({ kind: "device_list", userId });
      return gone;
    });
  }

  async touch(userId: UserId, deviceId: DeviceId, ts: number, ip: string | null): Promise<void> {
    this.db.prepare("UPDATE devices SET last_seen_ts = ?, last_seen_ip = ? WHERE user_id = ? AND device_id = ?").run(ts, ip, userId, deviceId);
  }
}
