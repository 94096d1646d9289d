/**
 * SQLite KeyStore: device keys, one-time keys and fallback keys for end-to-end encryption.
 * Key JSON is stored as canonical JSON, so "the same key" means the same bytes whatever the
 * client's key order. One-time keys are handed out oldest upload first: SQLite gives every
 * new row a rowid above all existing ones, so rowid order is upload order.
 */
import type { Database } from "better-sqlite3";
import { canonicalJson } from "../../events/canonical-json.js";
import type { DeviceId, UserId } from "../../events/ids.js";
import type { KeyStore } from "../storage.js";
import type { ChangeLog } from "./change-log.js";
import type { Generation, Generations } from "./generation.js";
import { LruCache } from "../../util/lru-cache.js";
import { pairKey } from "../../util/pair-key.js";
import type { DeviceKeyCounts } from "../rows.js";

interface NewKey {
  algorithm: string;
  keyId: string;
  key: unknown;
}

/**
 * Deletes the end-to-end keys of the user's devices that no longer exist. Device deletions
 * (DeviceStore.delete, AccountStore.setPassword with logout, deactivate) call it inside their
 * transaction, so a device id used again later starts without the old device's keys.
 */
export function deleteKeysOfRemovedDevices(db: Database, userId: string, deviceKeys: Generation): void {
  for (const table of ["e2e_device_keys", "e2e_one_time_keys", "e2e_fallback_keys"]) {
    db.prepare(`DELETE FROM ${table} WHERE user_id = ? AND device_id NOT IN (SELECT device_id FROM devices WHERE user_id = ?)`).run(userId, userId);
  }
  deviceKeys.bump();
}

export class SqliteKeyStore implements KeyStore {
  /**
   * deviceKeyCounts answers per device, kept while generations.deviceKeys stays put (every
   * /sync asks; keys change only on upload, claim and device removal, which all move it).
   */
  private readonly counts = new LruCache<string, { generation: number; counts: DeviceKeyCounts }>(100_000);

  constructor(private readonly db: Database, private readonly log: ChangeLog, private readonly generations: Generations) {}

  async putDeviceKeys(userId: UserId, deviceId: DeviceId, keys: Record<string, unknown>): Promise<boolean> {
    const json = canonicalJson(keys);
    return this.log.transaction((record) => {
      const current = this.db.prepare("SELECT json FROM e2e_device_keys WHERE user_id = ? AND device_id = ?").get(userId, deviceId) as { json: string } | undefined;
      if (current?.json === json) return false;
      this.db
        .prepare("INSERT INTO e2e_device_keys (user_id, device_id, json) VALUES (?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET json = excluded.json")
        .run(userId, deviceId, json);
      record({ kind: "device_list", userId });
      return true;
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

  async addOneTimeKeys(userId: UserId, deviceId: DeviceId, keys: NewKey[]): Promise<string[]> {
    const existing = this.db.prepare("SELECT json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?");
    const insert = this.db.prepare("INSERT INTO e2e_one_time_keys (user_id, device_id, algorithm, key_id, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING");
    return this.db.transaction(() => {
      const conflicts: string[] = [];
      const fresh: { k: NewKey; json: string }[] = [];
      for (const k of keys) {
        const json = canonicalJson(k.key);
        const stored = existing.get(userId, deviceId, k.algorithm, k.keyId) as { json: string } | undefined;
        if (stored === undefined) fresh.push({ k, json });
        else if (stored.json !== json) conflicts.push(`${k.algorithm}:${k.keyId}`);
      }
      if (conflicts.length > 0) return conflicts;
      for (const { k, json } of fresh) insert.run(userId, deviceId, k.algorithm, k.keyId, json);
      this.generations.deviceKeys.bump();
      return [];
    })();
  }

  async setFallbackKeys(userId: UserId, deviceId: DeviceId, keys: NewKey[]): Promise<void> {
    // The same key uploaded again keeps its `used` flag (Synapse does the same): a client
    // re-sending its current fallback key must not make a used key look fresh.
    const upsert = this.db.prepare(
      `INSERT INTO e2e_fallback_keys (user_id, device_id, algorithm, key_id, json, used) VALUES (?, ?, ?, ?, ?, 0)
       ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = excluded.key_id, json = excluded.json, used = 0
       WHERE e2e_fallback_keys.key_id != excluded.key_id OR e2e_fallback_keys.json != excluded.json`,
    );
    this.db.transaction(() => {
      for (const k of keys) upsert.run(userId, deviceId, k.algorithm, k.keyId, canonicalJson(k.key));
      this.generations.deviceKeys.bump();
    })();
  }

  async oneTimeKeyCounts(userId: UserId, deviceId: DeviceId): Promise<Record<string, number>> {
    const rows = this.db
      .prepare("SELECT algorithm, COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm")
      .all(userId, deviceId) as { algorithm: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.algorithm, r.n]));
  }

  async deviceKeyCounts(userId: UserId, deviceId: DeviceId): Promise<DeviceKeyCounts> {
    const key = pairKey(userId, deviceId);
    const generation = this.generations.deviceKeys.value;
    const held = this.counts.get(key);
    // A copy each time: the caller puts it in a response (and may change it).
    if (held?.generation === generation) return { oneTimeKeys: { ...held.counts.oneTimeKeys }, unusedFallbackTypes: [...held.counts.unusedFallbackTypes] };
    const rows = this.db
      .prepare(
        `SELECT 'otk' AS kind, algorithm, COUNT(*) AS n FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm
         UNION ALL
         SELECT 'fallback', algorithm, 0 FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0
         ORDER BY algorithm`,
      )
      .all(userId, deviceId, userId, deviceId) as { kind: "otk" | "fallback"; algorithm: string; n: number }[];
    const oneTimeKeys: Record<string, number> = {};
    const unusedFallbackTypes: string[] = [];
    for (const r of rows) {
      if (r.kind === "otk") oneTimeKeys[r.algorithm] = r.n;
      else unusedFallbackTypes.push(r.algorithm);
    }
    this.counts.set(key, { generation, counts: { oneTimeKeys: { ...oneTimeKeys }, unusedFallbackTypes: [...unusedFallbackTypes] } });
    return { oneTimeKeys, unusedFallbackTypes };
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
        .prepare("SELECT rowid, key_id, json FROM e2e_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? ORDER BY rowid LIMIT 1")
        .get(userId, deviceId, algorithm) as { rowid: number; key_id: string; json: string } | undefined;
      if (otk) {
        this.db.prepare("DELETE FROM e2e_one_time_keys WHERE rowid = ?").run(otk.rowid);
        this.generations.deviceKeys.bump();
        return { keyId: otk.key_id, key: JSON.parse(otk.json) as unknown };
      }
      const fb = this.db
        .prepare("SELECT key_id, json FROM e2e_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?")
        .get(userId, deviceId, algorithm) as { key_id: string; json: string } | undefined;
      if (!fb) return null;
      this.db.prepare("UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND algorithm = ?").run(userId, deviceId, algorithm);
      this.generations.deviceKeys.bump();
      return { keyId: fb.key_id, key: JSON.parse(fb.json) as unknown };
    })();
  }
}
