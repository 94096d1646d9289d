/**
 * presence: m.presence events for users sharing a room with the requester (and the
 * requester), changed in the range. Skipped when the filter excludes m.presence.
 */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";
import { sharedUsers } from "../shared-users.js";
import type { PresenceRow } from "../../../storage/rows.js";

function excluded(ctx: SyncV2Context): boolean {
  const f = ctx.filter.presence;
  return f?.not_types?.includes("m.presence") === true || (f?.types !== undefined && !f.types.includes("m.presence")) || f?.limit === 0;
}

function toEvent(ctx: SyncV2Context, p: PresenceRow, now: number): Record<string, unknown> {
  const content: Record<string, unknown> = { presence: p.state, last_active_ago: Math.max(0, now - p.lastActiveTs), currently_active: p.currentlyActive };
  if (p.statusMsg !== null) content.status_msg = p.statusMsg;
  void ctx;
  return { type: "m.presence", sender: p.userId, content };
}

async function fill(ctx: SyncV2Context, userIds: readonly string[] | null): Promise<void> {
  if (excluded(ctx)) return;
  const shared = await sharedUsers(ctx);
  const candidates = userIds === null ? [...shared] : [...new Set(userIds)].filter((u) => shared.has(u as never));
  if (candidates.length === 0) return;
  const rows = await ctx.deps.storage.presence.changed(candidates as never, ctx.since, ctx.upto);
  const now = Date.now();
  ctx.response.presence.events = rows.map((p) => toEvent(ctx, p, now));
}

export const presenceItem: Item = {
  path: "presence",
  polylog: (ctx) => fill(ctx, null),
  linear: (ctx, rows) => {
    const users = rows.filter((r) => r.kind === "presence" && r.userId).map((r) => r.userId!);
    return users.length > 0 ? fill(ctx, users) : Promise.resolve();
  },
};
