/**
 * account_data (global) and, for the room items, rooms.*.account_data: entries changed in
 * the range (all of them on an initial sync). `m.push_rules` is served from the push
 * module's merged ruleset, on initial syncs and whenever the user's rules changed.
 */
import { compileNonRoomEventFilter } from "../filter-types.js";
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";

async function fill(ctx: SyncV2Context, pushRulesChanged: boolean, dataChanged = true): Promise<void> {
  const rows = dataChanged ? await ctx.deps.storage.accountData.changed(ctx.userId, ctx.since, ctx.upto) : [];
  // Globs in types/not_types ("*") apply here as to room events.
  const globalAllowed = compileNonRoomEventFilter(ctx.filter.account_data);
  const roomAllowed = compileNonRoomEventFilter(ctx.filter.room?.account_data);
  for (const row of rows) {
    if (row.roomId === null) {
      if (globalAllowed(row.type, ctx.userId)) ctx.response.account_data.events.push({ type: row.type, content: row.content });
    } else if (roomAllowed(row.type, ctx.userId, row.roomId) && ctx.roomAllowed(row.roomId)) {
      const list = ctx.roomAccountData.get(row.roomId) ?? [];
      list.push(row);
      ctx.roomAccountData.set(row.roomId, list);
    }
  }
  if (ctx.deps.pushRules && (ctx.wantsFullState || pushRulesChanged) && globalAllowed("m.push_rules", ctx.userId)) {
    ctx.response.account_data.events.push({ type: "m.push_rules", content: await ctx.deps.pushRules.pushRulesContent(ctx.userId) });
  }
}

export const accountDataItem: Item = {
  path: "account_data",
  // A large gap may hide a rules change; resending the ruleset is cheap and harmless.
  polylog: (ctx) => fill(ctx, true),
  linear: (ctx, rows) =>
    fill(
      ctx,
      rows.some((r) => r.kind === "push_rules" && r.userId === ctx.userId),
      rows.some((r) => r.kind === "account_data" && r.userId === ctx.userId), // every write logs one, naming its owner
    ),
};
