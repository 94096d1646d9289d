/**
 * presence: m.presence events for users sharing a room with the requester (and the
 * requester), changed in the range, as the presence filter allows.
 */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";
import { compileNonRoomEventFilter } from "../filter-types.js";
import { sharedAmong, sharedUsers } from "../shared-users.js";
import type { PresenceRow } from "../../../storage/rows.js";
import type { UserId } from "../../../events/ids.js";

function toEvent(ctx: SyncV2Context, p: PresenceRow, now: number): Record<string, unknown> {
  const content: Record<string, unknown> = { presence: p.state, last_active_ago: Math.max(0, now - p.lastActiveTs), currently_active: p.currentlyActive };
  if (p.statusMsg !== null) content.status_msg = p.statusMsg;
  void ctx;
  return { type: "m.presence", sender: p.userId, content };
}

async function fill(ctx: SyncV2Context, userIds: readonly string[] | null): Promise<void> {
  // The presence filter: types/not_types (globs) on m.presence, senders/not_senders on whose
  // presence it is, limit on how many.
  const f = ctx.filter.presence;
  const typeAllowed = compileNonRoomEventFilter({ ...(f?.types ? { types: f.types } : {}), ...(f?.not_types ? { not_types: f.not_types } : {}) });
  if (f?.limit === 0 || !typeAllowed("m.presence", ctx.userId)) return;
  const allowed = compileNonRoomEventFilter(f);
  const shared = await (userIds === null ? sharedUsers(ctx) : sharedAmong(ctx, userIds as UserId[]));
  const candidates = [...shared].filter((u) => allowed("m.presence", u));
  if (candidates.length === 0) return;
  const rows = await ctx.deps.storage.presence.changed(candidates as never, ctx.since, ctx.upto);
  const now = Date.now();
  const events = rows.map((p) => toEvent(ctx, p, now));
  ctx.response.presence.events = f?.limit !== undefined ? events.slice(-f.limit) : events;
}

export const presenceItem: Item = {
  path: "presence",
  polylog: (ctx) => fill(ctx, null),
  linear: (ctx, rows) => {
    const users = rows.filter((r) => r.kind === "presence" && r.userId).map((r) => r.userId!);
    return users.length > 0 ? fill(ctx, users) : Promise.resolve();
  },
};
