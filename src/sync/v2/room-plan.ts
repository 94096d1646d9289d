/**
 * Which rooms go into a response, and in which section (join / invite / knock / leave),
 * from the user's membership history. Shared by polylog (every room the user has a
 * membership in) and linear (only the rooms the log slice touched).
 *
 * For a room R and the range (since, upto]:
 *   membership at upto = join   → rooms.join; "newly joined" if it was not join at since;
 *   = invite / knock            → rooms.invite / rooms.knock if initial or it changed in range;
 *   = leave / ban               → rooms.leave if it changed in range (a kick, ban or leave the
 *                                 client has not seen), or on an initial sync with include_leave;
 *                                 the room's timeline then ends at the leave event.
 * Forgotten rooms never appear.
 */
import type { StreamPos } from "../../streams/position.js";
import type { MembershipRow } from "../../storage/rows.js";
import type { SyncV2Context } from "./context.js";

export type RoomSection = "join" | "invite" | "knock" | "leave";

export interface RoomPlan {
  roomId: string;
  section: RoomSection;
  /** The membership event that put the user in this section. */
  membership: { eventId: string; pos: StreamPos; membership: string };
  /** Join that the client has not seen: send the room's full state. */
  newlyJoined: boolean;
  /** Last position of this room the response may show (the leave event for left rooms). */
  end: StreamPos;
}

/** The user's membership in a room just after position `pos`. */
async function membershipAt(ctx: SyncV2Context, roomId: string, pos: StreamPos): Promise<{ membership: string; eventId: string; pos: StreamPos } | null> {
  const row = await ctx.deps.storage.events.stateEntryAt(roomId, "m.room.member", ctx.userId, pos);
  return row ? { membership: String(row.pdu.content.membership), eventId: row.eventId, pos: row.pos } : null;
}

export async function planRoom(ctx: SyncV2Context, current: MembershipRow): Promise<RoomPlan | null> {
  if (!ctx.roomAllowed(current.roomId)) return null;
  // The current row may be newer than this response's upper bound (a write raced in).
  const atUpto = current.pos <= ctx.upto ? { membership: current.membership, eventId: current.eventId, pos: current.pos } : await membershipAt(ctx, current.roomId, ctx.upto);
  if (!atUpto) return null;
  const changedInRange = ctx.since === null || atUpto.pos > ctx.since;
  const base = { roomId: current.roomId, membership: atUpto };
  switch (atUpto.membership) {
    case "join": {
      let newlyJoined = ctx.since === null;
      if (!newlyJoined && changedInRange) {
        const before = await membershipAt(ctx, current.roomId, ctx.since!);
        newlyJoined = before?.membership !== "join";
      }
      return { ...base, section: "join", newlyJoined, end: ctx.upto };
    }
    case "invite":
    case "knock":
      return changedInRange ? { ...base, section: atUpto.membership, newlyJoined: false, end: atUpto.pos } : null;
    default: {
      if (ctx.isInitial ? !ctx.includeLeave : !changedInRange) return null;
      if (await ctx.deps.storage.rooms.isForgotten(current.roomId, ctx.userId)) return null;
      // A leave the client never saw the join of (e.g. a rejected invite) still goes here.
      return { ...base, section: "leave", newlyJoined: false, end: atUpto.pos };
    }
  }
}
