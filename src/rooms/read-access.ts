/**
 * ReadAccess: the gate every room read passes first, and how far the reader may read.
 * Mirrors Synapse's check_user_in_room_or_world_readable(allow_departed_users=True):
 *   joined                                   → "member":   current state; events by visibility
 *   left or banned, and not forgotten         → "departed": state and events up to (and
 *                                                including) their last membership event
 *   otherwise, if the room is world_readable  → "peek":     current state; events by visibility
 *   otherwise (never a member, invited or knocking only, forgotten, unknown room)
 *                                             → 403 M_FORBIDDEN (an unknown room is not told apart)
 * Per-event decisions stay with RoomViewer (visibility.ts); this module only decides whether
 * the room can be read at all and where the readable range ends. It also carries the reader's
 * ignore list: `shows` adds to history visibility that non-state events of users the reader
 * ignores are withheld (ignored-users.ts; Synapse's filter_events_for_client does both).
 */
import { ForbiddenError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import type { EventRow } from "../storage/rows.js";
import type { Storage } from "../storage/storage.js";
import { asStreamPos, type StreamPos } from "../streams/position.js";
import { IgnoredUsers } from "./ignored-users.js";
import type { HistoryVisibility, RoomViewer } from "./visibility.js";

export type ReadAccess = (
  | { readonly kind: "member"; readonly viewer: RoomViewer }
  | { readonly kind: "departed"; readonly viewer: RoomViewer; readonly leftAt: StreamPos }
  | { readonly kind: "peek"; readonly viewer: RoomViewer }
) & { readonly ignored: IgnoredUsers };

/** May the reader be shown this event: history visibility allows it and its sender is not ignored (non-state events). */
export function shows(access: ReadAccess, ev: EventRow): boolean {
  return access.viewer.canSee(ev) && !access.ignored.hides(ev.pdu);
}

export class ReadAccessGate {
  constructor(
    private readonly storage: Storage,
    private readonly visibility: HistoryVisibility,
    /** The read frontier: the highest position every reader may see. */
    private readonly frontier: () => StreamPos,
  ) {}

  /** The user's access to the room; throws ForbiddenError when they may not read it. */
  async check(roomId: string, userId: UserId): Promise<ReadAccess> {
    const [viewer, forgotten, ignored] = await Promise.all([
      this.visibility.viewer(roomId, userId),
      this.storage.rooms.isForgotten(roomId, userId),
      IgnoredUsers.load(this.storage, userId),
    ]);
    const membership = viewer.currentMembership;
    const pos = viewer.currentMembershipPos;
    if (membership === "join") return { kind: "member", viewer, ignored };
    if ((membership === "leave" || membership === "ban") && pos !== null && !forgotten) {
      return { kind: "departed", viewer, leftAt: asStreamPos(pos), ignored };
    }
    if (viewer.isWorldReadableNow()) return { kind: "peek", viewer, ignored };
    throw new ForbiddenError(`${userId} is not in room ${roomId} and the room is not world readable`);
  }

  /**
   * The boundary above everything this reader may read: just past their leave for a
   * departed user, else just past the frontier (never past what has been committed).
   */
  upperBound(access: ReadAccess): StreamPos {
    const live = asStreamPos(this.frontier() + 1);
    if (access.kind !== "departed") return live;
    return asStreamPos(Math.min(access.leftAt + 1, live));
  }
}
