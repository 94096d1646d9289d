/**
 * account_data (global) and, for the room items, rooms.*.account_data: entries changed in
 * the range (all of them on an initial sync). `m.push_rules` is served from the push
 * module's merged ruleset, on initial syncs and whenever the user's rules changed.
 */
import type { EventFilterBody } from "../filter-types.js";
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";

function allowed(filter: EventFilterBody | undefined, type: string): boolean {
  if (!filter) return true;
  if (filter.not_types?.includes(type)) return false;
  if (filter.types && !filter.types.includes(type)) return false;
  return true;
}

async function fill(ctx: SyncV2Context, pushRulesChanged: boolean): Promise<void> {
  const rows = await ctx.deps.storage.accountData.changed(ctx.userId, ctx.since, ctx.upto);
  const globalFilter = ctx.filter.account_data;
  const roomFilter = ctx.filter.room?.account_data;
  for (const row of rows) {
    if (row.roomId === null) {
      if (allowed(globalFilter, row.type)) ctx.response.account_data.events.push({ type: row.type, content: row.content });
    } else if (allowed(roomFilter, row.type) && ctx.roomAllowed(row.roomId)) {
      const list = ctx.roomAccountData.get(row.roomId) ?? [];
      list.push(row);
      ctx.roomAccountData.set(row.roomId, list);
    }
  }
  if (ctx.deps.pushRules && (ctx.wantsFullState || pushRulesChanged) && allowed(globalFilter, "m.push_rules")) {
    ctx.response.account_data.events.push({ type: "m.push_rules", content: await ctx.deps.pushRules.pushRulesContent(ctx.userId) });
  }
}

export const accountDataItem: Item = {
  path: "account_data",
  // A large gap may hide a rules change; resending the ruleset is cheap and harmless.
  polylog: (ctx) => fill(ctx, true),
  linear: (ctx, rows) => fill(ctx, rows.some((r) => r.kind === "push_rules" && r.userId === ctx.userId)),
};
