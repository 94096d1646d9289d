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
 * from the current membership rows (their position says when they last changed): in linear
 * mode only those of the member events' targets the slice names (an "event" log row of a
 * member event names its target), in polylog mode those changed after `since` in every room
 * of the requester (an index on the position).
 */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";
import { sharedAmong, sharedUsers } from "../shared-users.js";
import type { UserId } from "../../../events/ids.js";
import type { StreamLogRow } from "../../../storage/rows.js";

const SCAN_LIMIT = 100_000;

/** Linear mode: the rooms the slice touched, and in each the targets of its member events. */
interface SliceRooms {
  touched: ReadonlySet<string>;
  memberTargets: ReadonlyMap<string, ReadonlySet<UserId>>;
}

async function fill(ctx: SyncV2Context, rows: readonly StreamLogRow[], slice: SliceRooms | null): Promise<void> {
  const since = ctx.since;
  if (since === null) return;
  const inRange = (pos: number) => pos > since && pos <= ctx.upto;
  const storage = ctx.deps.storage;
  const changed = new Set<string>(rows.filter((r) => r.kind === "device_list" && r.userId).map((r) => r.userId!));
  const leftCandidates = new Set<string>();
  // Linear: only the rooms the slice touched (a change to the requester's own membership is
  // an event in that room, so it is among them) — the cost must not grow with the account.
  const mineList =
    slice === null
      ? await storage.rooms.roomsOfUser(ctx.userId)
      : (await Promise.all([...slice.touched].map((r) => ctx.myMembership(r)))).filter((m) => m !== null);
  for (const mine of mineList) {
    const mineChanged = inRange(mine.pos);
    if (!mineChanged && (mine.membership !== "join" || (slice !== null && !slice.touched.has(mine.roomId)))) continue;
    if (mineChanged) {
      // The requester joined (everyone there is new to them) or left (everyone there may be gone).
      for (const m of await storage.rooms.members(mine.roomId, ["join"])) {
        if (m.userId !== ctx.userId) (mine.membership === "join" ? changed : leftCandidates).add(m.userId);
      }
      continue;
    }
    // Only the members whose membership changed in the range, not the whole room: linear mode
    // knows them from the slice (nothing to read for a room that only got messages).
    const changedMembers =
      slice === null
        ? await storage.rooms.membersChangedAfter(mine.roomId, since)
        : await Promise.all([...(slice.memberTargets.get(mine.roomId) ?? [])].map((u) => storage.rooms.membership(mine.roomId, u)));
    for (const m of changedMembers) {
      if (m && m.userId !== ctx.userId && inRange(m.pos)) (m.membership === "join" ? changed : leftCandidates).add(m.userId);
    }
  }
  if (changed.size === 0 && leftCandidates.size === 0) return;
  const shared = slice === null ? await sharedUsers(ctx) : await sharedAmong(ctx, [...changed, ...leftCandidates] as UserId[]);
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
    const touched = new Set<string>();
    const memberTargets = new Map<string, Set<UserId>>();
    for (const r of rows) {
      if (r.kind !== "event" || !r.roomId) continue;
      touched.add(r.roomId);
      if (r.userId) memberTargets.set(r.roomId, (memberTargets.get(r.roomId) ?? new Set()).add(r.userId));
    }
    return fill(ctx, rows, { touched, memberTargets });
  },
};
