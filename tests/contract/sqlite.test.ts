/** Runs the storage contract against the SQLite backend, plus checks only SQLite can make. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { openSqliteStorage, migrate } from "../../src/storage/sqlite/index.js";
import { ChangeLog } from "../../src/storage/sqlite/change-log.js";
import { MIGRATIONS } from "../../src/storage/sqlite/migrations.js";
import { Sequencer } from "../../src/streams/sequencer.js";
import { ORIGIN, type StreamChange } from "../../src/streams/position.js";
import type { UserId } from "../../src/events/ids.js";
import { runStorageContract } from "./storage.contract.js";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "sluice-sqlite-"));
}

runStorageContract("sqlite", {
  open: () => openSqliteStorage({ path: ":memory:" }),
  persistent: () => {
    const dir = tempDir();
    return {
      open: () => openSqliteStorage({ path: join(dir, "sluice.db") }),
      dispose: () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

describe("sqlite backend specifics", () => {
  it("creates missing parent directories for the database file", async () => {
    const dir = tempDir();
    try {
      const path = join(dir, "a", "b", "sluice.db");
      const s = openSqliteStorage({ path });
      try {
        assert.equal(await s.meta.schemaVersion(), MIGRATIONS[MIGRATIONS.length - 1]!.version);
      } finally {
        await s.close();
      }
      assert.ok(existsSync(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stamps log rows with the injected clock", async () => {
    const s = openSqliteStorage({ path: ":memory:", now: () => 123_456 });
    try {
      await s.accounts.createUser({ userId: "@a:test" as UserId, passwordHash: null, isAdmin: false, displayname: null }, null, 1);
      await s.accounts.setProfileField("@a:test" as UserId, "displayname", "A", 1);
      const rows = await s.streams.read(ORIGIN, await s.streams.highestPosition(), 10);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.ts, 123_456);
    } finally {
      await s.close();
    }
  });

  it("log reads and stamps served from memory equal what the table gives a restarted process", async () => {
    const dir = tempDir();
    const path = join(dir, "sluice.db");
    try {
      const first = openSqliteStorage({ path });
      const before = await first.streams.highestPosition();
      for (let i = 0; i < 5; i++) await first.streams.recordEphemeral({ kind: "typing", roomId: `!r${i}:test`, userIds: [`@u${i}:test`] });
      for (let i = 5; i < 8; i++) await first.streams.recordEphemeral({ kind: "receipt", roomId: `!r${i}:test`, userIds: [`@u${i}:test`] });
      const top = await first.streams.highestPosition();
      const ranges: [number, number, number][] = [[before, top, 100], [before + 2, top, 100], [before, top - 1, 3], [top, top, 10]];
      const fromMemory = await Promise.all(ranges.map(([a, u, l]) => first.streams.read(a as never, u as never, l)));
      const stampsFromMemory = await Promise.all(Array.from({ length: top - before }, (_, k) => first.streams.stampAt((before + 1 + k) as never)));
      assert.equal(fromMemory[0]!.length, 8);
      await first.close();
      const second = openSqliteStorage({ path }); // a new process: nothing in memory, the table answers
      try {
        assert.deepEqual(await Promise.all(ranges.map(([a, u, l]) => second.streams.read(a as never, u as never, l))), fromMemory);
        assert.deepEqual(await Promise.all(Array.from({ length: top - before }, (_, k) => second.streams.stampAt((before + 1 + k) as never))), stampsFromMemory);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("close is idempotent", async () => {
    const s = openSqliteStorage({ path: ":memory:" });
    await s.close();
    await s.close();
  });

  describe("ChangeLog", () => {
    function setup() {
      const db = new BetterSqlite3(":memory:");
      migrate(db);
      const sequencer = new Sequencer(ORIGIN);
      const log = new ChangeLog(db, sequencer, () => 7);
      const positions = () => (db.prepare("SELECT pos FROM stream_log ORDER BY pos").all() as { pos: number }[]).map((r) => r.pos);
      return { db, sequencer, log, positions };
    }

    it("retires every recorded position after commit, in order, with userIds defaulting to [userId]", () => {
      const { db, sequencer, log, positions } = setup();
      try {
        const heard: StreamChange[] = [];
        sequencer.onRetired((c) => heard.push(c));
        const got = log.transaction((record) => {
          const a = record({ kind: "device_list", userId: "@a:test" });
          const b = record({ kind: "event", roomId: "!r:test", userIds: ["@b:test", "@c:test"] });
          const c = record({ kind: "other" });
          assert.equal(sequencer.retired(), ORIGIN, "nothing retires before commit");
          assert.equal(heard.length, 0);
          return [a, b, c];
        });
        assert.deepEqual(got, [1, 2, 3]);
        assert.deepEqual(positions(), [1, 2, 3]);
        assert.equal(sequencer.retired(), 3);
        assert.deepEqual(heard, [
          { kind: "device_list", userIds: ["@a:test"], pos: 1 },
          { kind: "event", roomId: "!r:test", userIds: ["@b:test", "@c:test"], pos: 2 },
          { kind: "other", pos: 3 },
        ]);
      } finally {
        db.close();
      }
    });

    it("a rolled-back transaction writes no rows, publishes nothing and reuses its positions", () => {
      const { db, sequencer, log, positions } = setup();
      try {
        const heard: number[] = [];
        sequencer.onRetired((c) => heard.push(c.pos));
        log.transaction((record) => record({ kind: "k", userId: "@a:test" }));
        assert.throws(
          () =>
            log.transaction((record) => {
              record({ kind: "k", userId: "@a:test" });
              record({ kind: "k", userId: "@a:test" });
              throw new Error("boom");
            }),
          /boom/,
        );
        assert.deepEqual(positions(), [1]);
        assert.equal(sequencer.retired(), 1);
        assert.equal(sequencer.allocatedUpTo(), 1);
        assert.deepEqual(heard, [1]);
        log.transaction((record) => record({ kind: "k", userId: "@a:test" }));
        assert.deepEqual(positions(), [1, 2], "the log stays gap-free");
        assert.deepEqual(heard, [1, 2]);
      } finally {
        db.close();
      }
    });
  });
});
