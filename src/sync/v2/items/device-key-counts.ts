/** device_one_time_keys_count and device_unused_fallback_key_types: always sent for the device. */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";

async function fill(ctx: SyncV2Context): Promise<void> {
  ctx.response.device_one_time_keys_count = await ctx.deps.storage.keys.oneTimeKeyCounts(ctx.userId, ctx.deviceId);
  ctx.response.device_unused_fallback_key_types = await ctx.deps.storage.keys.unusedFallbackKeyTypes(ctx.userId, ctx.deviceId);
}

export const deviceKeyCountsItem: Item = { path: "device_one_time_keys_count", polylog: fill, linear: (ctx) => fill(ctx) };
