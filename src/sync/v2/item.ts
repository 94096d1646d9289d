/**
 * The item contract (Construct's `sync::item`): one module per part of the response tree.
 *   polylog(ctx)        — fill the item's part for the whole range by point look-ups;
 *   linear(ctx, rows)   — fill it from the ordered log rows of a small range, looking only
 *                         at rows that concern it.
 * Items run in the order of items/index.ts; an item may read only the context fields that
 * are declared for sharing (see context.ts), never another item's private state.
 */
import type { StreamLogRow } from "../../storage/rows.js";
import type { SyncV2Context } from "./context.js";

export interface Item {
  readonly path: string;
  polylog(ctx: SyncV2Context): Promise<void>;
  linear(ctx: SyncV2Context, rows: readonly StreamLogRow[]): Promise<void>;
}
