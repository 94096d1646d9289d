/** polylog: every item fills its part of the tree for the whole range by point look-ups. */
import type { SyncV2Context } from "../context.js";
import { ITEMS } from "../items/index.js";

export async function runPolylog(ctx: SyncV2Context): Promise<void> {
  for (const item of ITEMS) await item.polylog(ctx);
}
