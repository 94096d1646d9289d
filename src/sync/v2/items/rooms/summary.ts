/**
 * rooms.join.*.summary: member counts and heroes from the summary kept at write time
 * (spec: heroes are sent when the room has neither a name nor a canonical alias; they
 * exclude the requesting user, up to five).
 */
import type { SyncV2Context } from "../../context.js";
import type { JoinedRoom } from "../../response.js";

export async function roomSummary(ctx: SyncV2Context, roomId: string): Promise<JoinedRoom["summary"]> {
  const s = await ctx.deps.storage.rooms.summary(roomId);
  if (!s) return {};
  const summary: JoinedRoom["summary"] = { "m.joined_member_count": s.joinedCount, "m.invited_member_count": s.invitedCount };
  if (!s.name && !s.canonicalAlias) summary["m.heroes"] = s.heroes.filter((u) => u !== ctx.userId).slice(0, 5);
  return summary;
}
