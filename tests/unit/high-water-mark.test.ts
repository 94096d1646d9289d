/** The durable high-water mark: what it writes, how start-up judges it, and that writes coalesce. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HighWaterMark, judgeStartup, readHighWaterMark } from "../../src/streams/high-water-mark.js";

function tempPath(): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "sluice-hwm-"));
  return { path: join(dir, "sluice.db.hwm"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("high-water mark", () => {
  it("is absent until first written, then reads back what was written", async () => {
    const t = tempPath();
    try {
      assert.equal(await readHighWaterMark(t.path), null);
      const mark = new HighWaterMark(t.path, "E1", 0);
      await mark.reset("E1", 5);
      assert.deepEqual(await readHighWaterMark(t.path), { epoch: "E1", pos: 5 });
      await mark.ensure(9);
      assert.deepEqual(await readHighWaterMark(t.path), { epoch: "E1", pos: 9 });
      assert.equal((statSync(t.path).mode & 0o777).toString(8), "600");
      await mark.close();
    } finally {
      t.cleanup();
    }
  });

  it("never goes down, and the ceiling lets one write cover later tokens", async () => {
    const t = tempPath();
    try {
      const mark = new HighWaterMark(t.path, "E1", 0);
      await mark.ensure(3, 10);
      assert.equal(mark.value, 10);
      await mark.ensure(7); // covered: no write needed
      assert.deepEqual(await readHighWaterMark(t.path), { epoch: "E1", pos: 10 });
      await mark.ensure(2);
      assert.equal(mark.value, 10);
      await mark.close();
    } finally {
      t.cleanup();
    }
  });

  it("concurrent ensures all resolve with the file covering the highest", async () => {
    const t = tempPath();
    try {
      const mark = new HighWaterMark(t.path, "E1", 0);
      await Promise.all(Array.from({ length: 50 }, (_, i) => mark.ensure(i + 1)));
      assert.ok(mark.value >= 50);
      assert.ok((await readHighWaterMark(t.path))!.pos >= 50);
      await mark.close();
    } finally {
      t.cleanup();
    }
  });

  it("advance() writes in the background: the caller never waits for the disk", async () => {
    const t = tempPath();
    try {
      const mark = new HighWaterMark(t.path, "E1", 0);
      await mark.reset("E1", 0);
      for (let pos = 1; pos <= 100; pos++) mark.advance(pos); // returns at once each time
      assert.ok(mark.value < 100, "nothing waited for the disk");
      await mark.ensure(100); // the background writes get there; this only waits for them
      assert.deepEqual(await readHighWaterMark(t.path), { epoch: "E1", pos: 100 });
      await mark.close();
    } finally {
      t.cleanup();
    }
  });

  it("a failed background write is reported, and ensure() fails rather than let a token out", async () => {
    const t = tempPath();
    try {
      const errors: unknown[] = [];
      // The mark's directory is a regular file: the first write (mkdir + temp file) cannot succeed.
      const blocked = join(t.path, "..", "not-a-dir", "sluice.db.hwm");
      writeFileSync(join(t.path, "..", "not-a-dir"), "x");
      const mark = new HighWaterMark(blocked, "E1", 0, (err) => errors.push(err));
      mark.advance(3);
      await assert.rejects(mark.ensure(3));
      assert.ok(errors.length >= 1, "the background failure was reported");
      assert.equal(mark.value, 0);
      await mark.close();
    } finally {
      t.cleanup();
    }
  });

  it("start-up: fresh, ok, other database, and a database that is behind", () => {
    assert.deepEqual(judgeStartup(null, { epoch: "E", highest: 4 }), { kind: "fresh" });
    assert.deepEqual(judgeStartup({ epoch: "E", pos: 4 }, { epoch: "E", highest: 4 }), { kind: "ok" });
    assert.deepEqual(judgeStartup({ epoch: "E", pos: 4 }, { epoch: "E", highest: 9 }), { kind: "ok" });
    assert.deepEqual(judgeStartup({ epoch: "X", pos: 4 }, { epoch: "E", highest: 1 }), { kind: "other-epoch", fileEpoch: "X" });
    assert.deepEqual(judgeStartup({ epoch: "E", pos: 12 }, { epoch: "E", highest: 9 }), { kind: "behind", fileEpoch: "E", recorded: 12, database: 9 });
  });
});
