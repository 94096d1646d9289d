/**
 * The tokens GET /keys/changes accepts for `from` and `to`, decoded to a stream boundary
 * (boundary B sits between positions B-1 and B: a client holding B has seen every position
 * below it; rooms/pagination-token.ts draws the picture).
 * In:  `t<B>`, the boundary form /messages and /context hand out.
 * Out: B, or 400 M_INVALID_PARAM for anything else (never read as 0).
 * The sync engine's `next_batch` tokens (issue 6) are boundaries too: they must be accepted
 * here, by adding their decoding to this one function.
 */
import { decodeRoomToken } from "../rooms/pagination-token.js";
import type { StreamPos } from "../streams/position.js";

export function decodeChangesToken(token: string): StreamPos {
  return decodeRoomToken(token);
}
