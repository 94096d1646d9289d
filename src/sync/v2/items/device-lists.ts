/**
 * device_lists.changed: users sharing a room with the requester whose device keys changed in
 * the range (incremental syncs only, as the spec says). `left` is filled when users stop
 * sharing every room with the requester: not yet computed (issue 5/6 follow-up).
 */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";
import { sharedUsers } from "../shared-users.js";
import type { StreamLogRow } from "../../../storage/rows.js";

const SCAN_LIMIT = 100_000;

async function fromRows(ctx: SyncV2Context, rows: readonly StreamLogRow[]): Promise<void> {
  const changed = new Set(rows.filter((r) => r.kind === "device_list" && r.userId).map((r) => r.userId!));
  if (changed.size === 0) return;
  const shared = await sharedUsers(ctx);
  ctx.response.device_lists.changed = [...changed].filter((u) => shared.has(u)).sort();
}

export const deviceListsItem: Item = {
  path: "device_lists",
  async polylog(ctx) {
    if (ctx.since === null) return;
    await fromRows(ctx, await ctx.deps.storage.streams.read(ctx.since, ctx.upto, SCAN_LIMIT));
  },
  linear: (ctx, rows) => (ctx.since === null ? Promise.resolve() : fromRows(ctx, rows)),
};
