/** SQLite AccountStore: users, passwords, admin flag, deactivation and profile fields. */
import type { Database } from "better-sqlite3";
import type { DeviceId, UserId } from "../../events/ids.js";
import type { AccountStore } from "../storage.js";
import type { NewSession, NewUser, UserRow } from "../rows.js";
import type { Generations } from "./generation.js";
import type { ChangeLog } from "./change-log.js";
import { insertSession } from "./tokens.js";
import { deleteKeysOfRemovedDevices } from "./keys.js";

interface UserSqlRow {
  user_id: string;
  password_hash: string | null;
  is_admin: number;
  deactivated: number;
  created_ts: number;
  displayname: string | null;
  avatar_url: string | null;
}

export class SqliteAccountStore implements AccountStore {
  constructor(private readonly db: Database, private readonly log: ChangeLog, private readonly generations: Generations) {}

  async createUser(user: NewUser, firstSession: NewSession | null, nowTs: number): Promise<"created" | "exists"> {
    return this.log.transaction((record) => {
      const r = this.db
        .prepare("INSERT INTO users (user_id, password_hash, is_admin, created_ts, displayname) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")
        .run(user.userId, user.passwordHash, user.isAdmin ? 1 : 0, nowTs, user.displayname);
      if (r.changes === 0) return "exists" as const;
      if (firstSession) insertSession(this.db, record, firstSession, nowTs);
      return "created" as const;
    });
  }

  async getUser(userId: UserId): Promise<UserRow | null> {
    const r = this.db.prepare("SELECT * FROM users WHERE user_id = ?").get(userId) as UserSqlRow | undefined;
    if (!r) return null;
    return {
      userId: r.user_id as UserId,
      passwordHash: r.password_hash,
      isAdmin: r.is_admin === 1,
      deactivated: r.deactivated === 1,
      createdTs: r.created_ts,
      displayname: r.displayname,
      avatarUrl: r.avatar_url,
    };
  }

  async userExists(userId: UserId): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM users WHERE user_id = ?").get(userId) !== undefined;
  }

  async setPassword(userId: UserId, passwordHash: string, logout: { keepDevice: DeviceId | null } | null, _nowTs: number): Promise<void> {
    this.log.transaction((record) => {
      this.db.prepare("UPDATE users SET password_hash = ? WHERE user_id = ?").run(passwordHash, userId);
      if (!logout) return;
      const keep = logout.keepDevice ?? "";
      const gone = this.db.prepare("DELETE FROM devices WHERE user_id = ? AND device_id != ?").run(userId, keep).changes;
      this.db.prepare("DELETE FROM access_tokens WHERE user_id = ? AND device_id != ?").run(userId, keep);
      this.generations.access.bump();
      this.db.prepare("DELETE FROM refresh_tokens WHERE user_id = ? AND device_id != ?").run(userId, keep);
      this.db.prepare("DELETE FROM device_inbox WHERE user_id = ? AND device_id != ?").run(userId, keep);
      deleteKeysOfRemovedDevices(this.db, userId, this.generations.deviceKeys);
      if (gone > 0) record({ kind: "device_list", userId });
    });
  }

  async setAdmin(userId: UserId, isAdmin: boolean): Promise<boolean> {
    const changed = this.db.prepare("UPDATE users SET is_admin = ? WHERE user_id = ?").run(isAdmin ? 1 : 0, userId).changes > 0;
    this.generations.access.bump();
    return changed;
  }

  async deactivate(userId: UserId, _nowTs: number): Promise<void> {
    this.log.transaction((record) => {
      this.db.prepare("UPDATE users SET deactivated = 1, password_hash = NULL WHERE user_id = ?").run(userId);
      const gone = this.db.prepare("DELETE FROM devices WHERE user_id = ?").run(userId).changes;
      this.db.prepare("DELETE FROM access_tokens WHERE user_id = ?").run(userId);
      this.generations.access.bump();
      this.db.prepare("DELETE FROM refresh_tokens WHERE user_id = ?").run(userId);
      this.db.prepare("DELETE FROM device_inbox WHERE user_id = ?").run(userId);
      deleteKeysOfRemovedDevices(this.db, userId, this.generations.deviceKeys);
      if (gone > 0) record({ kind: "device_list", userId });
    });
  }

  async setProfileField(userId: UserId, field: "displayname" | "avatar_url", value: string | null, _nowTs: number): Promise<boolean> {
    // `field` is one of two literals, never client text, so interpolating it is safe.
    return this.log.transaction((record) => {
      const changed = this.db.prepare(`UPDATE users SET ${field} = ? WHERE user_id = ?`).run(value, userId).changes > 0;
      if (changed) record({ kind: "profile", userId });
      return changed;
    });
  }
}
