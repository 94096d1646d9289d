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
 * Sync tokens (streams/sync-token.ts) are accepted too, as the boundary after the position they name.
 */
import { InvalidParamError } from "../errors/matrix-error.js";
import { asStreamPos, type StreamPos } from "../streams/position.js";
import { decodeSyncToken, looksLikeSyncToken } from "../streams/sync-token.js";

export function encodeRoomToken(boundary: StreamPos): string {
  return `t${boundary}`;
}

export function decodeRoomToken(token: string): StreamPos {
  // The spec lets clients pass a sync `next_batch` as `from`/`to` (e.g. /messages
  // ?from=<prev_batch>&to=<since> fills a limited sync's gap). It names the last position
  // seen, L, so as a boundary it is L+1. Its stamp is not checked here: reads are clamped to
  // the frontier anyway, and a stale token only moves where a page starts or stops.
  if (looksLikeSyncToken(token)) return asStreamPos(decodeSyncToken(token).pos + 1);
  const m = /^t(\d{1,15})$/.exec(token);
  if (!m) throw new InvalidParamError(`Invalid pagination token: ${token.slice(0, 64)}`);
  return asStreamPos(Number(m[1]));
}
