/**
 * Opens the SQLite backend: file (or ":memory:"), pragmas, migrations, epoch, and the
 * sequencer starting at the highest durable position. Only app.ts (and tests) call this.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import BetterSqlite3, { type Database } from "better-sqlite3";
import { Sequencer } from "../../streams/sequencer.js";
import type { Storage } from "../storage.js";
import { ChangeLog } from "./change-log.js";
import { Generation } from "./generation.js";
import { MembershipCache } from "./membership-cache.js";
import { MIGRATIONS } from "./migrations.js";
import { cacheStatements } from "./statement-cache.js";
import { SqliteAccountStore } from "./accounts.js";
import { SqliteDeviceStore } from "./devices.js";
import { SqliteTokenStore } from "./tokens.js";
import { SqliteEventStore } from "./events.js";
import { SqliteAccountDataStore, SqlitePresenceStore, SqliteReceiptStore, SqliteToDeviceStore } from "./user-data.js";
import { SqlitePushStore } from "./push.js";
import { SqliteKeyStore } from "./keys.js";
import { SqliteAliasStore, SqliteRoomStore } from "./rooms.js";
import { SqliteFilterStore, SqliteMetaStore, SqliteStreamStore, SqliteUiaStore, highestPositionSync } from "./small-stores.js";

export interface SqliteOptions {
  /** File path, or ":memory:" for tests. */
  path: string;
  now?: () => number;
}

export function openSqliteStorage(opts: SqliteOptions): Storage {
  if (opts.path !== ":memory:") mkdirSync(dirname(opts.path), { recursive: true });
  const db = new BetterSqlite3(opts.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  cacheStatements(db); // every store's db.prepare(sql) compiles each SQL text once (statement-cache.ts)
  const now = opts.now ?? Date.now;
  const sequencer = new Sequencer(highestPositionSync(db));
  const log = new ChangeLog(db, sequencer, now);
  const generations = { access: new Generation(), deviceKeys: new Generation() }; // generation.ts
  const memberships = new MembershipCache(); // written by events, read by rooms (membership-cache.ts)
  return {
    sequencer,
    meta: new SqliteMetaStore(db),
    streams: new SqliteStreamStore(db, log),
    accounts: new SqliteAccountStore(db, log, generations),
    devices: new SqliteDeviceStore(db, log, generations),
    tokens: new SqliteTokenStore(db, log, generations),
    uia: new SqliteUiaStore(db),
    filters: new SqliteFilterStore(db),
    events: new SqliteEventStore(db, log, sequencer.allocatedUpTo(), memberships),
    rooms: new SqliteRoomStore(db, memberships),
    aliases: new SqliteAliasStore(db, now),
    accountData: new SqliteAccountDataStore(db, log),
    receipts: new SqliteReceiptStore(db, log),
    presence: new SqlitePresenceStore(db, log),
    toDevice: new SqliteToDeviceStore(db, log, now),
    push: new SqlitePushStore(db, log),
    keys: new SqliteKeyStore(db, log, generations),
    async close() {
      if (db.open) {
        db.pragma("wal_checkpoint(TRUNCATE)");
        db.close();
      }
    },
  };
}

/** Applies every migration newer than PRAGMA user_version, each in its own transaction. */
export function migrate(db: Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      if (m.version === 1) {
        db.prepare("INSERT INTO meta (key, value) VALUES ('epoch', ?), ('created_ts', ?)").run(randomBytes(12).toString("base64url"), String(Date.now()));
      }
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
