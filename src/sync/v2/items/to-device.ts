/**
 * to_device: messages queued for this device in the range. They stay stored until a later
 * request's `since` shows the client received them (the handler acknowledges before
 * running items). When more than MAX_PER_SYNC are waiting, the whole response stops at the
 * position of the last message sent (this item runs first and lowers ctx.upto), so nothing
 * else in the range is skipped or sent twice.
 */
import { InternalError } from "../../../errors/matrix-error.js";
import type { SyncV2Context } from "../context.js";
import type { Item } from "../item.js";

export const MAX_TO_DEVICE_PER_SYNC = 100;

async function fill(ctx: SyncV2Context): Promise<void> {
  const rows = await ctx.deps.storage.toDevice.pending(ctx.userId, ctx.deviceId, ctx.upto, MAX_TO_DEVICE_PER_SYNC);
  const fresh = rows.filter((r) => ctx.since === null || r.pos > ctx.since);
  if (fresh.length !== rows.length) throw new InternalError("to-device messages at or below since were not acknowledged");
  if (rows.length >= MAX_TO_DEVICE_PER_SYNC) ctx.upto = rows.at(-1)!.pos;
  ctx.response.to_device.events = rows.map((r) => ({ type: r.type, sender: r.sender, content: r.content }));
}

export const toDeviceItem: Item = {
  path: "to_device",
  polylog: fill,
  // Messages at or below `since` were acknowledged (deleted) before the items ran, so every
  // message left to send has a to_device row in the slice: none there, nothing to read.
  linear: (ctx, rows) => (rows.some((r) => r.kind === "to_device") ? fill(ctx) : Promise.resolve()),
};
