/**
 * The requester's ignore list (`m.ignored_user_list`, rooms/ignored-users.ts), taken once per
 * request when an item needs it (from the in-memory lists the push module keeps current, when
 * wired): the timeline drops non-state events of ignored users and
 * the room plan drops invites they sent. The list as stored when the request runs applies,
 * to every range alike: like Synapse, a change of the list does not resend or re-limit
 * anything (the client sees the new list in account_data and decides whether to resync).
 */
import { IgnoredUsers } from "../../rooms/ignored-users.js";
import type { SyncV2Context } from "./context.js";

const cache = new WeakMap<SyncV2Context, Promise<IgnoredUsers>>();

export function ignoredUsers(ctx: SyncV2Context): Promise<IgnoredUsers> {
  let p = cache.get(ctx);
  if (!p) {
    p = ctx.deps.ignoreLists?.of(ctx.userId) ?? IgnoredUsers.load(ctx.deps.storage, ctx.userId);
    cache.set(ctx, p);
  }
  return p;
}
