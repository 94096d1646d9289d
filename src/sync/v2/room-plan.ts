/**
 * Which rooms go into a response, and in which section (join / invite / knock / leave),
 * from the user's membership history. Shared by polylog (every room the user has a
 * membership in) and linear (only the rooms the log slice touched).
 *
 * For a room R and the range (since, upto]:
 *   membership at upto = join   → rooms.join; "newly joined" if it was not join at since;
 *   = invite / knock            → rooms.invite / rooms.knock if initial or it changed in range;
 *                                 never an invite sent by a user the requester ignores;
 *   = leave / ban               → rooms.leave if it changed in range (a kick, ban or leave the
 *                                 client has not seen), or on an initial sync: a kick or a ban
 *                                 always, the user's own leave (rejected invite, rescinded
 *                                 knock) only with include_leave; the room's timeline then ends
 *                                 at the leave event.
 * Forgotten rooms never appear. (Synapse: synapse/handlers/sync.py,
 * _get_room_changes_for_initial_sync and _get_room_changes_for_incremental_sync.)
 */
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import type { MembershipRow } from "../../storage/rows.js";
import type { SyncV2Context } from "./context.js";
import { ignoredUsers } from "./ignored-users.js";

export type RoomSection = "join" | "invite" | "knock" | "leave";

export interface RoomPlan {
  roomId: string;
  section: RoomSection;
  /** The membership event that put the user in this section. */
  membership: { eventId: string; pos: StreamPos; membership: string };
  /** Join that the client has not seen: send the room's full state. */
  newlyJoined: boolean;
  /**
   * The timeline shows events after this position (null: the whole history, newest first).
   * `since` for a room the client followed; for a (re)joined room, the user's last leave at
   * or before `since`: the client may hold the room up to there, never beyond.
   */
  floor: StreamPos | null;
  /** Last position of this room the response may show (the leave event for left rooms). */
  end: StreamPos;
}

/** The user's membership in a room just after position `pos`. */
async function membershipAt(ctx: SyncV2Context, roomId: string, pos: StreamPos): Promise<{ membership: string; eventId: string; pos: StreamPos } | null> {
  const row = await ctx.deps.storage.events.stateEntryAt(roomId, "m.room.member", ctx.userId, pos);
  return row ? { membership: String(row.pdu.content.membership), eventId: row.eventId, pos: row.pos } : null;
}

/**
 * For a room whose own membership changed in (since, upto]: did the client follow it the
 * whole time (joined at `since` and never out of the room since, up to `lastAllowed`)?
 * If not:
 *   - the timeline is floored at the user's last leave at or before `since` (the last point
 *     the client was given the room up to), not at `since`: events from before `since` the
 *     user may see now (history "shared" once they join, "invited" while they were invited)
 *     were never sent, the client having held the room as invited or left;
 *   - if the user joined in the range it is "newly joined" (full state, limited): a
 *     leave+rejoin inside the range would otherwise hide the state changes made meanwhile.
 */
async function rangeHistory(ctx: SyncV2Context, roomId: string, lastAllowed: StreamPos): Promise<{ newlyJoined: boolean; floor: StreamPos | null }> {
  const since = ctx.since!;
  const history = await ctx.deps.storage.events.stateHistory(roomId, "m.room.member", ctx.userId);
  const before = history.filter((e) => e.pos <= since);
  const wasJoined = before.at(-1)?.pdu.content.membership === "join";
  const changes = history.filter((e) => e.pos > since && e.pos <= ctx.upto).map((e) => ({ pos: e.pos, membership: String(e.pdu.content.membership) }));
  const followed = wasJoined && changes.every((c) => c.membership === "join" || c.pos >= lastAllowed);
  if (followed) return { newlyJoined: false, floor: since };
  const newlyJoined = changes.some((c) => c.membership === "join");
  if (wasJoined) return { newlyJoined, floor: since };
  const lastOut = before.filter((e) => e.pdu.content.membership === "leave" || e.pdu.content.membership === "ban").at(-1);
  return { newlyJoined, floor: lastOut?.pos ?? null };
}

/** Who sent a membership event (the inviter, the kicker, or the user themselves). */
async function senderOf(ctx: SyncV2Context, eventId: string): Promise<string | null> {
  return (await ctx.deps.storage.events.get(eventId))?.pdu.sender ?? null;
}

export async function planRoom(ctx: SyncV2Context, current: MembershipRow): Promise<RoomPlan | null> {
  if (!ctx.roomAllowed(current.roomId)) return null;
  // The current row may be newer than this response's upper bound (a write raced in).
  const atUpto = current.pos <= ctx.upto ? { membership: current.membership, eventId: current.eventId, pos: current.pos } : await membershipAt(ctx, current.roomId, ctx.upto);
  if (!atUpto) return null;
  const changedInRange = ctx.since === null || atUpto.pos > ctx.since;
  const base = { roomId: current.roomId, membership: atUpto };
  const initial = { newlyJoined: true, floor: null };
  switch (atUpto.membership) {
    case "join": {
      const history = ctx.since === null ? initial : changedInRange ? await rangeHistory(ctx, current.roomId, asStreamPos(ctx.upto + 1)) : { newlyJoined: false, floor: ctx.since };
      return { ...base, section: "join", ...history, end: ctx.upto };
    }
    case "invite":
    case "knock": {
      if (!changedInRange) return null;
      // Invites from ignored users are not sent (spec "Ignoring Users"; Synapse).
      if (atUpto.membership === "invite") {
        const ignored = await ignoredUsers(ctx);
        const inviter = await senderOf(ctx, atUpto.eventId);
        if (inviter !== null && ignored.has(inviter)) return null;
      }
      return { ...base, section: atUpto.membership, newlyJoined: false, floor: ctx.since, end: atUpto.pos };
    }
    default: {
      if (!ctx.isInitial && !changedInRange) return null;
      // An initial sync always lists the rooms the user was kicked or banned from, as Synapse
      // does; only a leave the user sent themselves waits for include_leave.
      if (ctx.isInitial && !ctx.includeLeave && atUpto.membership === "leave" && (await senderOf(ctx, atUpto.eventId)) === ctx.userId) return null;
      if (await ctx.deps.storage.rooms.isForgotten(current.roomId, ctx.userId)) return null;
      // A leave the client never saw the join of (e.g. a rejected invite) still goes here.
      const history = ctx.since === null ? { newlyJoined: false, floor: null } : await rangeHistory(ctx, current.roomId, atUpto.pos);
      return { ...base, section: "leave", ...history, end: atUpto.pos };
    }
  }
}
