/**
 * Sync tokens (`since` / `next_batch`): the only owner of their wire format.
 *
 *   positions:      …  40   41   42 | 43  …        (| = everything up to 42 has been sent)
 *   next_batch:     s42_<stamp of row 42>_<epoch>
 *
 * A token names the *last position the client has seen* (L), the random `stamp` stored
 * with the stream_log row at L, and the database `epoch`. The next sync reads positions
 * L+1 … retired(). As a pagination boundary (decision 0003) the token is L+1.
 * A token is:
 *   - malformed: not this grammar → 400 M_INVALID_PARAM (never read as "no since");
 *   - stale: epoch unknown, L above the durable high-water mark, or the stamp differs from
 *     the row now at L — issued by a database that no longer exists (restore, failover);
 *   - valid otherwise.
 * docs/decisions/0004-sync-tokens.md records why.
 */
import { InvalidParamError } from "../errors/matrix-error.js";
import { asStreamPos, type StreamPos } from "./position.js";

export interface SyncToken {
  /** Last position the client has seen. */
  readonly pos: StreamPos;
  /** Stamp of the stream_log row at `pos` (0 when pos is 0). */
  readonly stamp: number;
  readonly epoch: string;
}

const TOKEN = /^s(\d{1,15})_([0-9a-z]{1,8})_([A-Za-z0-9_-]{1,64})$/;

export function encodeSyncToken(t: SyncToken): string {
  return `s${t.pos}_${t.stamp.toString(36)}_${t.epoch}`;
}

export function decodeSyncToken(s: string): SyncToken {
  const m = TOKEN.exec(s);
  if (!m) throw new InvalidParamError(`Invalid since token: ${s.slice(0, 80)}`);
  return { pos: asStreamPos(Number(m[1])), stamp: parseInt(m[2]!, 36), epoch: m[3]! };
}

/** Is this string a sync token at all (as opposed to another kind of token)? */
export function looksLikeSyncToken(s: string): boolean {
  return TOKEN.test(s);
}

export type TokenCheck = { valid: true } | { valid: false; cause: "epoch" | "future" | "stamp" };

/**
 * Compares a decoded token with the database. `stampAt(pos)` returns the stamp of the
 * row at pos (null when there is none); `highWater` is the highest durable position.
 */
export async function checkSyncToken(
  t: SyncToken,
  db: { epoch: string; highWater: StreamPos; stampAt(pos: StreamPos): Promise<number | null> },
): Promise<TokenCheck> {
  if (t.epoch !== db.epoch) return { valid: false, cause: "epoch" };
  if (t.pos > db.highWater) return { valid: false, cause: "future" };
  if (t.pos === 0) return t.stamp === 0 ? { valid: true } : { valid: false, cause: "stamp" };
  const stamp = await db.stampAt(t.pos);
  return stamp === t.stamp ? { valid: true } : { valid: false, cause: "stamp" };
}
