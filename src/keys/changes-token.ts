/**
 * The tokens GET /keys/changes accepts for `from` and `to`, decoded to a stream boundary
 * (boundary B sits between positions B-1 and B: a client holding B has seen every position
 * below it; rooms/pagination-token.ts draws the picture).
 * In:  a sync `next_batch` (`s<L>_<stamp>_<epoch>`, what the spec says clients pass; as a
 *      boundary it is L+1), or `t<B>` as /messages and /context hand out.
 * Out: B; null for a sync token that a database which no longer exists issued (streams/sync-token.ts
 *      `checkSyncToken`: wrong epoch, beyond the frontier, or a stamp that differs).
 * Errors: anything else is 400 M_INVALID_PARAM (never read as 0). Read-only.
 * Every token form /keys/changes accepts is decoded here and nowhere else.
 */
import type { Storage } from "../storage/storage.js";
import { decodeRoomToken } from "../rooms/pagination-token.js";
import { asStreamPos, type StreamPos } from "../streams/position.js";
import { checkSyncToken, decodeSyncToken, looksLikeSyncToken } from "../streams/sync-token.js";

export async function decodeChangesToken(token: string, storage: Storage): Promise<StreamPos | null> {
  if (!looksLikeSyncToken(token)) return decodeRoomToken(token);
  const t = decodeSyncToken(token);
  const check = await checkSyncToken(t, {
    epoch: await storage.meta.epoch(),
    highWater: storage.sequencer.retired(),
    stampAt: (pos) => storage.streams.stampAt(pos),
  });
  return check.valid ? asStreamPos(t.pos + 1) : null;
}
