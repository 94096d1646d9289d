/**
 * HighWaterMark: a durable record, kept OUTSIDE the database (a small file next to it), of
 * the highest position any client has been handed in a token, and the epoch it belongs to.
 * In:  advance(pos) when a position retires (starts a background write, returns at once);
 *      ensure(pos) before a token naming `pos` leaves the server (waits until the file
 *      covers it); judgeStartup(file, db) at start-up.
 * Out: at start-up, "behind" when the database's highest position is below the recorded
 *      one in the same epoch: clients have seen positions this database does not have (a
 *      restore from backup, a failover to a lagging copy, a lost tail after power loss).
 * Durability: the first write goes through a temp file + rename + directory fsync; later
 *      ones overwrite 256 bytes in place and fdatasync.
 * Concurrency: one write at a time; every caller waiting for a lower or equal mark shares it.
 * Why writes start at commit time, not when a token is minted: the flush (~0.5 ms here) then
 * overlaps the sync that will name the position instead of following it, so a woken or
 * incremental /sync seldom waits for the disk (bench/README.md, "Sync"). The price is one
 * coalesced flush per burst of commits, and after a power loss that drops SQLite's
 * unsynced WAL tail (synchronous=NORMAL) the mark may name positions no client was given:
 * the start-up check then rotates the epoch and clients resync once (never a missed event).
 */
import { open, rename, readFile, mkdir, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";

export interface HighWaterRecord {
  epoch: string;
  pos: number;
}

export async function readHighWaterMark(path: string): Promise<HighWaterRecord | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const parsed = JSON.parse(text.trim()) as Partial<HighWaterRecord>;
  if (typeof parsed.epoch !== "string" || typeof parsed.pos !== "number") throw new Error(`corrupt high-water mark file ${path}`);
  return { epoch: parsed.epoch, pos: parsed.pos };
}

/** Fixed record size: the file is rewritten in place with one small write and one fdatasync. */
const RECORD_BYTES = 256;

function encode(record: HighWaterRecord): Buffer {
  const text = JSON.stringify(record);
  if (text.length >= RECORD_BYTES) throw new Error("high-water record too long");
  return Buffer.from(text.padEnd(RECORD_BYTES - 1, " ") + "\n");
}

/**
 * Writes the record durably. The first write of a process creates the file through a
 * temp file + rename + directory fsync; later writes overwrite the same 256 bytes in place
 * (a write inside one disk sector) and fdatasync: one flush per new mark, not two.
 */
class MarkFile {
  private handle: FileHandle | null = null;

  constructor(private readonly path: string) {}

  async write(record: HighWaterRecord): Promise<void> {
    if (!this.handle) {
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.tmp`;
      const fh = await open(tmp, "w", 0o600);
      try {
        await fh.write(encode(record), 0, RECORD_BYTES, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
      const dir = await open(dirname(this.path), "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.handle = await open(this.path, "r+");
      return;
    }
    await this.handle.write(encode(record), 0, RECORD_BYTES, 0);
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = null;
  }
}

export class HighWaterMark {
  private recorded: number;
  /** The highest position some caller wants covered. */
  private wanted: number;
  private writing: Promise<void> | null = null;
  private readonly file: MarkFile;

  /** `onError` hears of failed background writes (a later ensure() retries and throws). */
  constructor(path: string, private epoch: string, recorded: number, private readonly onError: (err: unknown) => void = () => {}) {
    this.recorded = recorded;
    this.wanted = recorded;
    this.file = new MarkFile(path);
  }

  /** Asks for the file to cover `pos` soon: starts a write unless one is under way (it will follow). Returns at once. */
  advance(pos: number): void {
    if (pos > this.wanted) this.wanted = pos;
    this.pump();
  }

  /**
   * Resolves once the file says at least `pos` (usually at once: the mark only grows and
   * advance() has usually written it already). `ceiling` (≥ pos, never above what the
   * database has committed) lets one write cover the tokens that will follow: callers pass
   * the sequencer's retired frontier.
   */
  async ensure(pos: number, ceiling = pos): Promise<void> {
    if (pos <= this.recorded) return;
    this.wanted = Math.max(this.wanted, pos, ceiling);
    while (this.recorded < pos) {
      this.pump();
      await this.writing; // a failed write throws here
    }
  }

  /** Starts writing `wanted` if nothing is being written; when it lands, writes again if more was asked for meanwhile. */
  private pump(): void {
    if (this.writing || this.wanted <= this.recorded) return;
    const target = this.wanted;
    const write = this.file.write({ epoch: this.epoch, pos: target }).then(() => {
      this.recorded = Math.max(this.recorded, target);
    });
    this.writing = write;
    write.then(
      () => {
        this.writing = null;
        this.pump();
      },
      (err: unknown) => {
        this.writing = null; // no retry loop: the next advance() or ensure() tries again
        this.onError(err);
      },
    );
  }

  /** After an epoch rotation the mark starts again from the database's position. */
  async reset(epoch: string, pos: number): Promise<void> {
    await this.writing?.catch(() => {});
    this.epoch = epoch;
    await this.file.write({ epoch, pos });
    this.recorded = pos;
    this.wanted = pos;
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing.catch(() => {});
    await this.file.close();
  }

  get value(): number {
    return this.recorded;
  }
}

export type StartupVerdict =
  | { kind: "fresh" } // no file yet
  | { kind: "ok" }
  | { kind: "other-epoch"; fileEpoch: string } // the file belongs to another database
  | { kind: "behind"; fileEpoch: string; recorded: number; database: number };

/** Compares the file with the database at start-up. */
export function judgeStartup(file: HighWaterRecord | null, db: { epoch: string; highest: number }): StartupVerdict {
  if (!file) return { kind: "fresh" };
  if (file.epoch !== db.epoch) return { kind: "other-epoch", fileEpoch: file.epoch };
  if (db.highest < file.pos) return { kind: "behind", fileEpoch: file.epoch, recorded: file.pos, database: db.highest };
  return { kind: "ok" };
}
