/**
 * Who shares a joined room with the requester (the requester counts). Two forms:
 *   sharedUsers(ctx)          every such user, computed once per request: polylog needs it
 *                             (it reads every room of the account anyway);
 *   sharedAmong(ctx, users)   which of a few users do, asked of storage directly: linear
 *                             mode knows its handful of candidates from the log slice, and
 *                             its cost must not grow with the account's rooms.
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

export async function sharedAmong(ctx: SyncV2Context, users: Iterable<UserId>): Promise<Set<UserId>> {
  const candidates = new Set(users);
  const all = cache.get(ctx);
  if (all) {
    const shared = await all;
    return new Set([...candidates].filter((u) => shared.has(u)));
  }
  const others = [...candidates].filter((u) => u !== ctx.userId);
  const out = await ctx.deps.storage.rooms.sharingJoinedRoom(ctx.userId, others);
  if (candidates.has(ctx.userId)) out.add(ctx.userId);
  return out;
}
