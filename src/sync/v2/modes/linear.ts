/**
 * linear: one ordered read of the log slice (since, upto]; each item looks at the rows that
 * concern it. An item may lower ctx.upto (to_device, when many messages wait); the rows the
 * next items see are cut to match, so the whole response covers exactly (since, upto].
 */
import type { StreamLogRow } from "../../../storage/rows.js";
import type { SyncV2Context } from "../context.js";
import { ITEMS } from "../items/index.js";

export async function runLinear(ctx: SyncV2Context, maxRows: number): Promise<void> {
  let rows: readonly StreamLogRow[] = await ctx.deps.storage.streams.read(ctx.since ?? (0 as never), ctx.upto, maxRows);
  for (const item of ITEMS) {
    if (rows.length > 0 && rows.at(-1)!.pos > ctx.upto) rows = rows.filter((r) => r.pos <= ctx.upto);
    await item.linear(ctx, rows);
  }
}
