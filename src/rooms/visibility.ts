/**
 * History visibility (spec client-server "History visibility"): may this user see this
 * event? Used by every read path (/messages, /context, /event, /relations, and later sync).
 *
 * For an event E and a user U, with history_visibility and U's membership taken from the
 * state *before* E:
 *   1. world_readable → visible;
 *   2. U was joined → visible;
 *   3. shared → visible if U joined at any point after E;
 *   4. invited → visible if U was invited (or joined);
 *   5. otherwise hidden.
 * U always sees the membership events about U themselves.
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
    if (ev.pdu.type === "m.room.member" && ev.pdu.state_key === this.userId) return true;
    const visibility = valueBefore(this.visibilities, ev.pos, "shared");
    if (visibility === "world_readable") return true;
    const membership = valueBefore(this.memberships, ev.pos, "leave");
    if (membership === "join") return true;
    if (visibility === "shared") return this.memberships.some((m) => m.pos > ev.pos && m.value === "join");
    if (visibility === "invited") return membership === "invite";
    return false;
  }

  /** True when U may see anything in the room at all (any membership, or world-readable now). */
  mayPeek(): boolean {
    return this.memberships.length > 0 || this.visibilities.at(-1)?.value === "world_readable";
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
