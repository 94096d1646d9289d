/**
 * SyncV2Context: the single argument every item receives (Construct's `sync::data`).
 * It holds the range (since, upto], the requester, the compiled filter, the response being
 * built, and the few facts items share (declared here, never passed around implicitly):
 * room account data computed once by the account-data item for the room items.
 */
import type { UserId, DeviceId } from "../../events/ids.js";
import type { FilterBody } from "../../filters/filter-schema.js";
import { compileRoomEventFilter, type EventPredicate } from "../../filters/room-event-filter.js";
import type { RoomEventSerializer } from "../../rooms/room-event-serializer.js";
import type { IgnoredUsers } from "../../rooms/ignored-users.js";
import type { Storage } from "../../storage/storage.js";
import type { AccountDataRow, MembershipRow } from "../../storage/rows.js";
import type { StreamPos } from "../../streams/position.js";
import type { SyncV2Request } from "./request.js";
import { emptyResponse, type SyncV2Response } from "./response.js";
import type { MembersSentView, SentMembers } from "./sent-members.js";

/** What sync needs from the ephemeral and push modules (kept narrow so sync does not depend on them). */
export interface TypingSource {
  typingUsers(roomId: string): readonly string[];
  /** May the room's typers have changed after `pos`? (typing has no history to scan) */
  changedAfter?(roomId: string, pos: number): boolean;
}
export interface PushRulesSource {
  /** The user's full ruleset as `m.push_rules` account data content ({ global: … }). */
  pushRulesContent(userId: UserId): Promise<Record<string, unknown>>;
}

type Counts = { notification_count: number; highlight_count: number };

/** Unread counts as the push module computes them (after the user's read receipts). */
export interface UnreadCountsSource {
  unreadCounts(userId: UserId, roomId: string): Promise<Counts & { main: Counts; threads: Record<string, Counts> }>;
}

export interface SyncDeps {
  storage: Storage;
  serializer: RoomEventSerializer;
  unreadCounts: UnreadCountsSource;
  typing?: TypingSource;
  pushRules?: PushRulesSource;
  /** Lazy-loaded member events each device already has (sent-members.ts); without it they are always re-sent. */
  sentMembers?: SentMembers;
  /** Ignore lists kept current in memory (push/ignore-lists.ts); without it each request reads the account data. */
  ignoreLists?: { of(userId: UserId): Promise<IgnoredUsers> };
}

export const DEFAULT_TIMELINE_LIMIT = 10;
export const MAX_TIMELINE_LIMIT = 100;

export class SyncV2Context {
  readonly response: SyncV2Response = emptyResponse();
  /** Room account data changed in range, by room; filled by the account-data item. */
  readonly roomAccountData = new Map<string, AccountDataRow[]>();
  readonly timelineLimit: number;
  readonly timelineFilter: EventPredicate;
  /** The timeline filter may reject events (so a timeline can skip state changes). */
  readonly timelineFiltered: boolean;
  readonly stateFilter: EventPredicate;
  readonly lazyLoadMembers: boolean;
  readonly includeRedundantMembers: boolean;
  readonly includeLeave: boolean;
  readonly threadCounts: boolean;
  private membersSentView: MembersSentView | null | undefined;
  private readonly myMemberships = new Map<string, Promise<MembershipRow | null>>();

  constructor(
    readonly deps: SyncDeps,
    readonly userId: UserId,
    readonly deviceId: DeviceId,
    readonly request: SyncV2Request,
    /** Last position the client has seen; null for an initial sync. */
    readonly since: StreamPos | null,
    /** Last position this response covers (inclusive). Lowered only before room items run. */
    public upto: StreamPos,
  ) {
    const room = request.filter.room ?? {};
    const requested = room.timeline?.limit;
    this.timelineLimit = Math.max(1, Math.min(requested ?? DEFAULT_TIMELINE_LIMIT, MAX_TIMELINE_LIMIT));
    this.timelineFilter = compileRoomEventFilter(room.timeline ?? null);
    const t = room.timeline;
    this.timelineFiltered = !!t && (["types", "not_types", "senders", "not_senders", "rooms", "not_rooms", "contains_url"] as const).some((k) => t[k] !== undefined);
    this.stateFilter = compileRoomEventFilter(room.state ?? null);
    this.lazyLoadMembers = room.state?.lazy_load_members === true;
    this.includeRedundantMembers = room.state?.include_redundant_members === true;
    // A resync (stale token) lists left rooms too: the client's cache may still show them joined.
    this.includeLeave = room.include_leave === true || request.resync === true;
    this.threadCounts = room.timeline?.unread_thread_notifications === true;
  }

  get isInitial(): boolean {
    return this.since === null;
  }

  /** Initial syncs and `full_state` send every room's whole state. */
  get wantsFullState(): boolean {
    return this.since === null || this.request.fullState;
  }

  /**
   * The member events this device already received (sent-members.ts), for lazy-loading syncs;
   * null without lazy-loading. Opened on first use, by the room items (`upto` is final by
   * then), with the client's own `since` (which acknowledges the response that ended there).
   */
  membersSent(): MembersSentView | null {
    if (this.membersSentView === undefined) {
      const memory = this.lazyLoadMembers ? this.deps.sentMembers : undefined;
      this.membersSentView = memory ? memory.open(this.userId, this.deviceId, this.request.since?.pos ?? null, this.upto) : null;
    }
    return this.membersSentView;
  }

  get filter(): FilterBody {
    return this.request.filter;
  }

  /** The filter's `rooms` / `not_rooms` at the top of the room filter. */
  roomAllowed(roomId: string): boolean {
    const room = this.filter.room;
    if (room?.not_rooms?.includes(roomId)) return false;
    if (room?.rooms && !room.rooms.includes(roomId)) return false;
    return true;
  }

  /**
   * The requester's current membership row in a room, read once per request (the rooms and
   * device-lists items both need it for the rooms the slice touched).
   */
  myMembership(roomId: string): Promise<MembershipRow | null> {
    let row = this.myMemberships.get(roomId);
    if (!row) this.myMemberships.set(roomId, (row = this.deps.storage.rooms.membership(roomId, this.userId)));
    return row;
  }

  /** Is position p inside the range this response covers? */
  inRange(p: number): boolean {
    return (this.since === null || p > this.since) && p <= this.upto;
  }
}
