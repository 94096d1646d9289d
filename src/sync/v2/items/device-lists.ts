/**
 * device_lists (incremental syncs only, as the spec says):
 *   changed = users sharing a room with the requester (or the requester) whose device keys
 *             changed in the range, plus users who newly share a room with them: members who
 *             joined one of their rooms, and every member of a room the requester joined
 *             (over-reporting is allowed, as in Synapse);
 *   left    = users who shared a room with the requester and share none any more: members who
 *             left or were removed from one of their rooms, and the members of a room the
 *             requester left.
 * Like Synapse, any shared room counts, not only encrypted ones. Membership changes are read
 * from the current membership rows (their position says when they last changed; an index on
 * it reads only the rows changed after `since`), only for the rooms the range touched
 * (linear) or every room of the requester (polylog).
 */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";
import { sharedAmong, sharedUsers } from "../shared-users.js";
import type { UserId } from "../../../events/ids.js";
import type { StreamLogRow } from "../../../storage/rows.js";

const SCAN_LIMIT = 100_000;

async function fill(ctx: SyncV2Context, rows: readonly StreamLogRow[], touchedRooms: ReadonlySet<string> | null): Promise<void> {
  const since = ctx.since;
  if (since === null) return;
  const inRange = (pos: number) => pos > since && pos <= ctx.upto;
  const storage = ctx.deps.storage;
  const changed = new Set<string>(rows.filter((r) => r.kind === "device_list" && r.userId).map((r) => r.userId!));
  const leftCandidates = new Set<string>();
  // Linear: only the rooms the slice touched (a change to the requester's own membership is
  // an event in that room, so it is among them) — the cost must not grow with the account.
  const mineList =
    touchedRooms === null
      ? await storage.rooms.roomsOfUser(ctx.userId)
      : (await Promise.all([...touchedRooms].map((r) => ctx.myMembership(r)))).filter((m) => m !== null);
  for (const mine of mineList) {
    const mineChanged = inRange(mine.pos);
    if (!mineChanged && (mine.membership !== "join" || (touchedRooms !== null && !touchedRooms.has(mine.roomId)))) continue;
    if (mineChanged) {
      // The requester joined (everyone there is new to them) or left (everyone there may be gone).
      for (const m of await storage.rooms.members(mine.roomId, ["join"])) {
        if (m.userId !== ctx.userId) (mine.membership === "join" ? changed : leftCandidates).add(m.userId);
      }
      continue;
    }
    // Only the members whose membership changed in the range, not the whole room.
    for (const m of await storage.rooms.membersChangedAfter(mine.roomId, since)) {
      if (m.userId !== ctx.userId && inRange(m.pos)) (m.membership === "join" ? changed : leftCandidates).add(m.userId);
    }
  }
  if (changed.size === 0 && leftCandidates.size === 0) return;
  const shared = touchedRooms === null ? await sharedUsers(ctx) : await sharedAmong(ctx, [...changed, ...leftCandidates] as UserId[]);
  ctx.response.device_lists.changed = [...changed].filter((u) => shared.has(u as never)).sort();
  ctx.response.device_lists.left = [...leftCandidates].filter((u) => !shared.has(u as never)).sort();
}

export const deviceListsItem: Item = {
  path: "device_lists",
  async polylog(ctx) {
    if (ctx.since === null) return;
    await fill(ctx, await ctx.deps.storage.streams.read(ctx.since, ctx.upto, SCAN_LIMIT), null);
  },
  linear(ctx, rows) {
    if (ctx.since === null) return Promise.resolve();
    const touched = new Set(rows.filter((r) => r.kind === "event" && r.roomId).map((r) => r.roomId!));
    return fill(ctx, rows, touched);
  },
};
