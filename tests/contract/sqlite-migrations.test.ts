/**
 * SQLite migrations that rewrite existing rows, each run on a database left at the version
 * before it: migration 4 fills the DM room set from m.direct rows written before it existed;
 * migration 8 names member events' targets in the log. (The contracts run from sqlite.test.ts.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import BetterSqlite3 from "better-sqlite3";
import { migrate } from "../../src/storage/sqlite/index.js";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations.js";

/** A database at schema `version` (migrations up to it applied), given to `fn`, then closed. */
function atVersion(version: number, fn: (db: BetterSqlite3.Database) => void): void {
  const db = new BetterSqlite3(":memory:");
  try {
    for (const m of MIGRATIONS.filter((x) => x.version <= version)) db.exec(m.sql);
    db.pragma(`user_version = ${version}`);
    fn(db);
  } finally {
    db.close();
  }
}

describe("sqlite migration 4 (dm_rooms)", () => {
  it("derives the DM room set from existing m.direct account data", () => {
    atVersion(3, (db) => {
      const put = db.prepare("INSERT INTO account_data (user_id, room_id, type, content, pos) VALUES (?, ?, ?, ?, ?)");
      put.run("@a:test", "", "m.direct", JSON.stringify({ "@b:test": ["!r1:test", "!r2:test"], "@c:test": ["!r1:test", 5, "#x:test"], "@d:test": "!r9:test" }), 1);
      put.run("@a:test", "!r3:test", "m.direct", JSON.stringify({ "@b:test": ["!r3:test"] }), 2);
      put.run("@b:test", "", "m.direct", JSON.stringify({}), 3);
      put.run("@c:test", "", "other", JSON.stringify({ "@b:test": ["!r4:test"] }), 4);
      migrate(db);
      assert.equal(db.pragma("user_version", { simple: true }), MIGRATIONS.at(-1)!.version);
      const rows = db.prepare("SELECT user_id, room_id FROM dm_rooms ORDER BY user_id, room_id").all();
      assert.deepEqual(rows, [
        { user_id: "@a:test", room_id: "!r1:test" },
        { user_id: "@a:test", room_id: "!r2:test" },
      ]);
    });
  });
});

describe("sqlite migration 8 (member events name their target in the log)", () => {
  it("fills stream_log.user_id of existing member events, and of nothing else", () => {
    atVersion(7, (db) => {
      const log = db.prepare("INSERT INTO stream_log (pos, kind, user_id, room_id, stamp, ts) VALUES (?, ?, ?, ?, 1, 0)");
      const ev = db.prepare("INSERT INTO events (pos, event_id, room_id, type, state_key, sender, origin_server_ts, json) VALUES (?, ?, '!r:t', ?, ?, '@a:t', 0, '{}')");
      const rows: [number, string, string | null][] = [[1, "m.room.create", ""], [2, "m.room.member", "@a:t"], [3, "m.room.message", null], [4, "m.room.member", "@b:t"]];
      for (const [pos, type, stateKey] of rows) {
        log.run(pos, "event", null, "!r:t");
        ev.run(pos, `$e${pos}`, type, stateKey);
      }
      log.run(5, "device_list", "@c:t", null);
      migrate(db);
      assert.deepEqual(db.prepare("SELECT pos, user_id FROM stream_log ORDER BY pos").all(), [
        { pos: 1, user_id: null },
        { pos: 2, user_id: "@a:t" },
        { pos: 3, user_id: null },
        { pos: 4, user_id: "@b:t" },
        { pos: 5, user_id: "@c:t" },
      ]);
    });
  });
});
