/** device_one_time_keys_count and device_unused_fallback_key_types: always sent for the device. */
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";

/** Also called when no item ran (a quiet long-poll): the counts are owed on every response. */
export async function fillKeyCounts(ctx: SyncV2Context): Promise<void> {
  const counts = await ctx.deps.storage.keys.deviceKeyCounts(ctx.userId, ctx.deviceId);
  ctx.response.device_one_time_keys_count = counts.oneTimeKeys;
  ctx.response.device_unused_fallback_key_types = counts.unusedFallbackTypes;
}

export const deviceKeyCountsItem: Item = { path: "device_one_time_keys_count", polylog: fillKeyCounts, linear: (ctx) => fillKeyCounts(ctx) };
