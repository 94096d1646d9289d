/**
 * rooms.*: decides which rooms appear (room-plan.ts) and builds each (rooms/build-room.ts).
 * polylog: every room the user has a membership in. linear: only rooms named by a log row
 * in range (room events, receipts, typing, room account data), plus rooms whose room
 * account data changed (found by the account-data item, which runs first).
 */
import type { StreamLogRow } from "../../../storage/rows.js";
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";
import { planRoom } from "../room-plan.js";
import { buildRoom, type RoomChanges } from "./rooms/build-room.js";

/** Rooms built at once: enough to overlap storage latency on async backends, bounded. */
const CONCURRENCY = 8;

async function buildAll(ctx: SyncV2Context, roomIds: Iterable<string>, changesOf: (roomId: string) => RoomChanges): Promise<void> {
  const queue = [...roomIds];
  const worker = async () => {
    for (let roomId = queue.shift(); roomId !== undefined; roomId = queue.shift()) {
      const current = await ctx.myMembership(roomId);
      if (!current) continue;
      const plan = await planRoom(ctx, current);
      if (plan) await buildRoom(ctx, plan, changesOf(roomId));
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

export const roomsItem: Item = {
  path: "rooms",
  async polylog(ctx) {
    // An initial or full_state sync starts the device over: it may have dropped the members it had.
    if (ctx.request.since === null || ctx.request.fullState) ctx.deps.sentMembers?.forget(ctx.userId, ctx.deviceId);
    const memberships = await ctx.deps.storage.rooms.roomsOfUser(ctx.userId);
    // Typing is in memory and has no history: an incremental polylog sends the current typers
    // of the rooms whose typing may have changed since (every room, if the source cannot say).
    const typingSource = ctx.deps.typing;
    const typing = ctx.isInitial
      ? new Set<string>()
      : new Set(memberships.map((m) => m.roomId).filter((r) => typingSource?.changedAfter?.(r, ctx.since!) ?? true));
    await buildAll(ctx, memberships.map((m) => m.roomId), (roomId) => ({ typing: typing.has(roomId), receipts: true }));
  },
  async linear(ctx, rows: readonly StreamLogRow[]) {
    const touched = new Set<string>(ctx.roomAccountData.keys());
    const typing = new Set<string>();
    const receipts = new Set<string>();
    for (const row of rows) {
      if (!row.roomId) continue;
      if (row.kind === "event" || row.kind === "receipt" || row.kind === "typing") touched.add(row.roomId);
      if (row.kind === "typing") typing.add(row.roomId);
      if (row.kind === "receipt") receipts.add(row.roomId);
    }
    await buildAll(ctx, touched, (roomId) => ({ typing: typing.has(roomId), receipts: receipts.has(roomId) }));
  },
};
