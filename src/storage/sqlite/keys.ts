/** SQLite KeyStore: device keys, one-time keys and fallback keys for end-to-end encryption. */
import type { Database } from "better-sqlite3";
import type { DeviceId, UserId } from "../../events/ids.js";
import type { KeyStore } from "../storage.js";
import type { ChangeLog } from "./change-log.js";

export class SqliteKeyStore implements KeyStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog) {}

  async putDeviceKeys(userId: UserId, deviceId: DeviceId, keys: Record<string, unknown>): Promise<void> {
    const json = JSON.stringify(keys);
    this.log.transaction((record) => {
      const current = this.db.prepare("SELECT json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?").get(userId, deviceId) as { json: string } | undefined;
      if (current?.json === json) return;
      this.db
        .prepare("INSERT INTO e2e_device_keys (user_id, device_id, json) VALUES (?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET json = excluded.json")
        .run(userId, deviceId, json);
      record({ kind: "device_list", userId });
    });
  }

  async deviceKeys(userId: UserId, deviceIds?: readonly DeviceId[]): Promise<{ deviceId: DeviceId; keys: Record<string, unknown> }[]> {
    // Keys of deleted devices stay out: only devices that still exist are reported.
    const rows = this.db
      .prepare(
        `SELECT k.device_id, k.json FROM e2e_device_keys k JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id
         WHERE k.user_id = ? ORDER BY k.device_id`,
      )
      .all(userId) as { device_id: string; json: string }[];
    const wanted = deviceIds && deviceIds.length > 0 ? new Set<string>(deviceIds) : null;
    return rows
      .filter((r) => !wanted || wanted.has(r.device_id))
      .map((r) => ({ deviceId: r.device_id as DeviceId, keys: JSON.parse(r.json) as Record<string, unknown> }));
  }

  async addOneTimeKeys(userId: UserId, deviceId: DeviceId, keys: { algorithm: string; keyId: string; key: unknown }[]): Promise<void> {
    const insert = this.db.prepare("INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    this.db.transaction(() => {
      for (const k of keys) insert.run(userId, deviceId, k.algorithm, k.keyId, JSON.stringify(k.key));
    })();
  }

  async setFallbackKeys(userId: UserId, deviceId: DeviceId, keys: { algorithm: string; keyId: string; key: unknown }[]): Promise<void> {
    const upsert = this.db.prepare(
      `INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, json, used) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, json = excluded.json, used = 0`,
    );
    this.db.transaction(() => {
      for (const k of keys) upsert.run(userId, deviceId, k.algorithm, k.keyId, JSON.stringify(k.key));
    })();
  }

  async oneTimeKeyCounts(userId: UserId, deviceId: DeviceId): Promise<Record<string, number>> {
    const rows = this.db
      .prepare("SELECT algorithm, COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm")
      .all(userId, deviceId) as { algorithm: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.algorithm, r.n]));
  }

  async unusedFallbackKeyTypes(userId: UserId, deviceId: DeviceId): Promise<string[]> {
    const rows = this.db
      .prepare("SELECT algorithm FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0 ORDER BY algorithm")
      .all(userId, deviceId) as { algorithm: string }[];
    return rows.map((r) => r.algorithm);
  }

  async claim(userId: UserId, deviceId: DeviceId, algorithm: string): Promise<{ keyId: string; key: unknown } | null> {
    return this.db.transaction(() => {
      const otk = this.db
        .prepare("SELECT key_id, json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? ORDER BY key_id LIMIT 1")
        .get(userId, deviceId, algorithm) as { key_id: string; json: string } | undefined;
      if (otk) {
        this.db.prepare("DELETE FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?").run(userId, deviceId, algorithm, otk.key_id);
        return { keyId: otk.key_id, key: JSON.parse(otk.json) as unknown };
      }
      const fb = this.db
        .prepare("SELECT key_id, json FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?")
        .get(userId, deviceId, algorithm) as { key_id: string; json: string } | undefined;
      if (!fb) return null;
      this.db.prepare("UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND algorithm = ?").run(userId, deviceId, algorithm);
      return { keyId: fb.key_id, key: JSON.parse(fb.json) as unknown };
    })();
  }
}
