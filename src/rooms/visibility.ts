/**
 * History visibility (spec client-server "Room History Visibility"): may this user see this
 * event? Used by every read path (/messages, /context, /event, /relations, and later sync).
 *
 * For an event E and a user U, with history_visibility and U's membership taken from the
 * state *before* E:
 *   1. world_readable → visible;
 *   2. U was joined → visible;
 *   3. shared → visible if U joined at any point after E;
 *   4. invited → visible if U was invited;
 *   5. otherwise hidden.
 * An m.room.history_visibility event is visible if the rules pass with the visibility
 * before *or* after it; U's own m.room.member event if they pass with U's membership before
 * or after it (spec, "Server behaviour"). As in Synapse, U also sees their own leave that
 * rejects an invite (or they would never see the invite go away).
 * Unknown visibility values count as `shared`, unknown memberships as `leave`.
 * RoomViewer loads U's membership history and the room's visibility history once (two
 * queries) and then answers per event from memory.
 */
import type { UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { EventRow } from "../storage/rows.js";

interface Change {
  pos: number;
  value: string;
}

const VISIBILITIES: ReadonlySet<string> = new Set(["world_readable", "shared", "invited", "joined"]);

function knownVisibility(v: unknown): string {
  return typeof v === "string" && VISIBILITIES.has(v) ? v : "shared";
}

/** The value in force just before position `pos` (the last change at a lower position). */
function valueBefore(changes: readonly Change[], pos: number, fallback: string): string {
  let lo = 0;
  let hi = changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (changes[mid]!.pos < pos) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? fallback : changes[lo - 1]!.value;
}

export class RoomViewer {
  constructor(
    readonly roomId: string,
    readonly userId: UserId,
    private readonly memberships: readonly Change[],
    private readonly visibilities: readonly Change[],
  ) {}

  /** U's current membership ("leave" if none). */
  get currentMembership(): string {
    return this.memberships.at(-1)?.value ?? "leave";
  }

  /** Position of U's current membership event, or null if U never had one. */
  get currentMembershipPos(): number | null {
    return this.memberships.at(-1)?.pos ?? null;
  }

  canSee(ev: EventRow): boolean {
    const visibility = knownVisibility(valueBefore(this.visibilities, ev.pos, "shared"));
    const membership = valueBefore(this.memberships, ev.pos, "leave");
    if (this.allows(visibility, membership, ev.pos)) return true;
    const { type, state_key: stateKey, content } = ev.pdu;
    if (type === "m.room.history_visibility" && stateKey === "") {
      return this.allows(knownVisibility(content.history_visibility), membership, ev.pos);
    }
    if (type === "m.room.member" && stateKey === this.userId) {
      const after = typeof content.membership === "string" ? content.membership : "leave";
      return this.allows(visibility, after, ev.pos) || (after === "leave" && membership === "invite");
    }
    return false;
  }

  /** Rules 1–5 for one (visibility, membership) pair at the position of an event. */
  private allows(visibility: string, membership: string, pos: number): boolean {
    if (visibility === "world_readable") return true;
    if (membership === "join") return true;
    if (visibility === "shared") return this.memberships.some((m) => m.pos > pos && m.value === "join");
    if (visibility === "invited") return membership === "invite";
    return false;
  }

  /** True when U may see anything in the room at all (any membership, or world-readable now). */
  mayPeek(): boolean {
    return this.memberships.length > 0 || this.isWorldReadableNow();
  }

  /** True when the room's current history_visibility is world_readable. */
  isWorldReadableNow(): boolean {
    return this.visibilities.at(-1)?.value === "world_readable";
  }
}

export class HistoryVisibility {
  constructor(private readonly storage: Storage) {}

  async viewer(roomId: string, userId: UserId): Promise<RoomViewer> {
    const [members, visibility] = await Promise.all([
      this.storage.events.stateHistory(roomId, "m.room.member", userId),
      this.storage.events.stateHistory(roomId, "m.room.history_visibility", ""),
    ]);
    return new RoomViewer(
      roomId,
      userId,
      members.map((e) => ({ pos: e.pos, value: String(e.pdu.content.membership ?? "leave") })),
      visibility.map((e) => ({ pos: e.pos, value: String(e.pdu.content.history_visibility ?? "shared") })),
    );
  }
}
