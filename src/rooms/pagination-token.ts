/**
 * Pagination tokens for /messages, /relations and /context (`start`, `end`, `from`, `to`).
 *
 *   positions:   …  41   42   43  …
 *   boundaries:    41 ^  42 ^  43 ^
 *
 * A token names a *boundary* B between positions B-1 and B: backwards from B reads
 * positions < B, forwards reads positions >= B. A sync `next_batch` is the same kind of
 * boundary, so the sync engine's `prev_batch` can be handed to /messages unchanged.
 * Wire form: `t<B>` (decimal). Malformed tokens are 400 M_INVALID_PARAM, never read as 0.
 * Issue 6/7 add stamped sync tokens; /messages will accept those too through this module.
 */
import { InvalidParamError } from "../errors/matrix-error.js";
import { asStreamPos, type StreamPos } from "../streams/position.js";

export function encodeRoomToken(boundary: StreamPos): string {
  return `t${boundary}`;
}

export function decodeRoomToken(token: string): StreamPos {
  const m = /^t(\d{1,15})$/.exec(token);
  if (!m) throw new InvalidParamError(`Invalid pagination token: ${token.slice(0, 64)}`);
  return asStreamPos(Number(m[1]));
}
