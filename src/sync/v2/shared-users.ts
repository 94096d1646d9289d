/**
 * The users who share a joined room with the requester (and the requester), computed once
 * per request when an item needs it (presence, device lists).
 */
import type { UserId } from "../../events/ids.js";
import type { SyncV2Context } from "./context.js";

const cache = new WeakMap<SyncV2Context, Promise<Set<UserId>>>();

export function sharedUsers(ctx: SyncV2Context): Promise<Set<UserId>> {
  let p = cache.get(ctx);
  if (!p) {
    p = (async () => {
      const users = new Set<UserId>([ctx.userId]);
      for (const room of await ctx.deps.storage.rooms.roomsOfUser(ctx.userId, ["join"])) {
        for (const m of await ctx.deps.storage.rooms.members(room.roomId, ["join"])) users.add(m.userId);
      }
      return users;
    })();
    cache.set(ctx, p);
  }
  return p;
}
