/**
 * What only SQLite can check about user data: migration 4 fills the DM room set from
 * m.direct rows written before it existed. (The user-data contract runs from sqlite.test.ts.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import BetterSqlite3 from "better-sqlite3";
import { migrate } from "../../src/storage/sqlite/index.js";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations.js";

describe("sqlite migration 4 (dm_rooms)", () => {
  it("derives the DM room set from existing m.direct account data", () => {
    const db = new BetterSqlite3(":memory:");
    try {
      for (const m of MIGRATIONS.filter((x) => x.version <= 3)) db.exec(m.sql);
      db.pragma("user_version = 3");
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
    } finally {
      db.close();
    }
  });
});
