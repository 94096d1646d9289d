/** SQLite RoomStore and AliasStore: current state, memberships, summaries, directory, aliases. */
import type { Database } from "better-sqlite3";
import type { UserId } from "../../events/ids.js";
import { asStreamPos, type StreamPos } from "../../streams/position.js";
import type { AliasStore, RoomStore } from "../storage.js";
import type { AliasRow, EventRow, MembershipRow, RoomRow, RoomSummaryRow } from "../rows.js";
import { EVENT_COLUMNS, toEventRow, type EventSqlRow } from "./event-rows.js";
import { placeholders } from "./sql.js";
import type { MembershipCache } from "./membership-cache.js";

interface MembershipSqlRow {
  room_id: string;
  user_id: string;
  membership: string;
  event_id: string;
  pos: number;
}

const toMembership = (r: MembershipSqlRow): MembershipRow => ({
  roomId: r.room_id,
  userId: r.user_id as UserId,
  membership: r.membership,
  eventId: r.event_id,
  pos: asStreamPos(r.pos),
});

interface SummarySqlRow {
  room_id: string;
  bump_pos: number;
  name: string | null;
  canonical_alias: string | null;
  avatar_url: string | null;
  topic: string | null;
  encryption: string | null;
  room_type: string | null;
  join_rule: string | null;
  history_visibility: string | null;
  guest_access: string | null;
  joined_count: number;
  invited_count: number;
  heroes: string;
}

const toSummary = (r: SummarySqlRow): RoomSummaryRow => ({
  roomId: r.room_id,
  bumpPos: asStreamPos(r.bump_pos),
  name: r.name,
  canonicalAlias: r.canonical_alias,
  avatarUrl: r.avatar_url,
  topic: r.topic,
  encryption: r.encryption,
  roomType: r.room_type,
  joinRule: r.join_rule,
  historyVisibility: r.history_visibility,
  guestAccess: r.guest_access,
  joinedCount: r.joined_count,
  invitedCount: r.invited_count,
  heroes: JSON.parse(r.heroes) as UserId[],
});


export class SqliteRoomStore implements RoomStore {
  constructor(private readonly db: Database, private readonly memberships: MembershipCache) {}

  async get(roomId: string): Promise<RoomRow | null> {
    const r = this.db.prepare("SELECT * FROM rooms WHERE room_id = ?").get(roomId) as
      | { room_id: string; room_version: string; creator: string; created_ts: number; visibility: string; last_event_id: string | null; last_depth: number }
      | undefined;
    if (!r) return null;
    return {
      roomId: r.room_id,
      roomVersion: r.room_version,
      creator: r.creator as UserId,
      createdTs: r.created_ts,
      visibility: r.visibility === "public" ? "public" : "private",
      lastEventId: r.last_event_id,
      lastDepth: r.last_depth,
    };
  }

  async currentState(roomId: string): Promise<EventRow[]> {
    const rows = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM current_state c JOIN events e ON e.pos = c.pos WHERE c.room_id = ? ORDER BY e.pos`)
      .all(roomId) as EventSqlRow[];
    return rows.map(toEventRow);
  }

  async currentStateEvent(roomId: string, type: string, stateKey: string): Promise<EventRow | null> {
    const r = this.db
      .prepare(`SELECT ${EVENT_COLUMNS} FROM current_state c JOIN events e ON e.pos = c.pos WHERE c.room_id = ? AND c.type = ? AND c.state_key = ?`)
      .get(roomId, type, stateKey) as EventSqlRow | undefined;
    return r ? toEventRow(r) : null;
  }

  async membership(roomId: string, userId: UserId): Promise<MembershipRow | null> {
    const cached = this.memberships.get(roomId, userId);
    if (cached !== undefined) return cached;
    const r = this.db.prepare("SELECT * FROM room_memberships WHERE room_id = ? AND user_id = ?").get(roomId, userId) as MembershipSqlRow | undefined;
    const row = r ? toMembership(r) : null;
    this.memberships.set(roomId, userId, row);
    return row;
  }

  async roomsOfUser(userId: UserId, memberships?: readonly string[]): Promise<MembershipRow[]> {
    const filter = memberships ? `AND membership IN (${placeholders(memberships.length)})` : "";
    const rows = this.db
      .prepare(`SELECT * FROM room_memberships WHERE user_id = ? ${filter} ORDER BY pos`)
      .all(userId, ...(memberships ?? [])) as MembershipSqlRow[];
    return rows.map(toMembership);
  }

  async activeMemberships(): Promise<MembershipRow[]> {
    const rows = this.db.prepare("SELECT * FROM room_memberships WHERE membership IN ('join', 'invite', 'knock')").all() as MembershipSqlRow[];
    return rows.map(toMembership);
  }

  async members(roomId: string, memberships?: readonly string[]): Promise<MembershipRow[]> {
    const filter = memberships ? `AND membership IN (${placeholders(memberships.length)})` : "";
    const rows = this.db
      .prepare(`SELECT * FROM room_memberships WHERE room_id = ? ${filter} ORDER BY pos`)
      .all(roomId, ...(memberships ?? [])) as MembershipSqlRow[];
    return rows.map(toMembership);
  }

  async membersChangedAfter(roomId: string, after: StreamPos): Promise<MembershipRow[]> {
    const rows = this.db.prepare("SELECT * FROM room_memberships WHERE room_id = ? AND pos > ? ORDER BY pos").all(roomId, after) as MembershipSqlRow[];
    return rows.map(toMembership);
  }

  async sharingJoinedRoom(userId: UserId, others: readonly UserId[]): Promise<Set<UserId>> {
    // Per candidate: walk their joins (key prefix) and stop at the first room the user is
    // joined to too (primary key look-up) — usually one step.
    const shares = this.db.prepare(
      `SELECT 1 FROM room_memberships o CROSS JOIN room_memberships me ON me.user_id = ? AND me.room_id = o.room_id
       WHERE o.user_id = ? AND o.membership = 'join' AND me.membership = 'join' LIMIT 1`,
    );
    const out = new Set<UserId>();
    for (const other of new Set(others)) if (shares.get(userId, other) !== undefined) out.add(other);
    return out;
  }

  async summary(roomId: string): Promise<RoomSummaryRow | null> {
    const r = this.db.prepare("SELECT * FROM room_summaries WHERE room_id = ?").get(roomId) as SummarySqlRow | undefined;
    return r ? toSummary(r) : null;
  }

  async setVisibility(roomId: string, visibility: "public" | "private"): Promise<boolean> {
    return this.db.prepare("UPDATE rooms SET visibility = ? WHERE room_id = ?").run(visibility, roomId).changes > 0;
  }

  async publicRooms(opts: { limit: number; offset: number; search: string | null; roomTypes: readonly (string | null)[] | null }): Promise<{ rooms: RoomSummaryRow[]; total: number }> {
    const where = [
      "r.visibility = 'public'",
      "s.joined_count > 0",
      "(s.join_rule IN ('public', 'knock', 'knock_restricted') OR s.history_visibility = 'world_readable')",
    ];
    const params: unknown[] = [];
    if (opts.search) {
      // SQLite's LOWER folds ASCII only, so the pattern must too: toLowerCase() would also
      // fold "É" and then never match the unfolded "É" in the stored name.
      const ascii = opts.search.replace(/[A-Z]/g, (c) => c.toLowerCase());
      const like = `%${ascii.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push("(LOWER(s.name) LIKE ? ESCAPE '\\' OR LOWER(s.topic) LIKE ? ESCAPE '\\' OR LOWER(s.canonical_alias) LIKE ? ESCAPE '\\')");
      params.push(like, like, like);
    }
    if (opts.roomTypes && opts.roomTypes.length > 0) {
      const types = opts.roomTypes.filter((t): t is string => t !== null);
      const alternatives = types.length > 0 ? [`s.room_type IN (${placeholders(types.length)})`] : [];
      if (opts.roomTypes.includes(null)) alternatives.push("s.room_type IS NULL");
      where.push(`(${alternatives.join(" OR ")})`);
      params.push(...types);
    }
    const from = `FROM rooms r JOIN room_summaries s ON s.room_id = r.room_id WHERE ${where.join(" AND ")}`;
    const total = (this.db.prepare(`SELECT COUNT(*) AS n ${from}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT s.* ${from} ORDER BY s.joined_count DESC, r.room_id LIMIT ? OFFSET ?`)
      .all(...params, opts.limit, opts.offset) as SummarySqlRow[];
    return { rooms: rows.map(toSummary), total };
  }

  async forget(roomId: string, userId: UserId): Promise<boolean> {
    if (!this.db.prepare("SELECT 1 FROM room_memberships WHERE room_id = ? AND user_id = ?").get(roomId, userId)) return false;
    this.db.prepare("INSERT INTO forgotten_rooms (user_id, room_id) VALUES (?, ?) ON CONFLICT DO NOTHING").run(userId, roomId);
    return true;
  }

  async isForgotten(roomId: string, userId: UserId): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM forgotten_rooms WHERE room_id = ? AND user_id = ?").get(roomId, userId) !== undefined;
  }
}

export class SqliteAliasStore implements AliasStore {
  constructor(private readonly db: Database, private readonly now: () => number) {}

  async create(alias: AliasRow): Promise<boolean> {
    return this.db
      .prepare("INSERT INTO room_aliases (alias, room_id, creator, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
      .run(alias.alias, alias.roomId, alias.creator, this.now()).changes > 0;
  }

  async get(alias: string): Promise<AliasRow | null> {
    const r = this.db.prepare("SELECT alias, room_id, creator FROM room_aliases WHERE alias = ?").get(alias) as
      | { alias: string; room_id: string; creator: string }
      | undefined;
    return r ? { alias: r.alias, roomId: r.room_id, creator: r.creator as UserId } : null;
  }

  async delete(alias: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM room_aliases WHERE alias = ?").run(alias).changes > 0;
  }

  async forRoom(roomId: string): Promise<string[]> {
    return (this.db.prepare("SELECT alias FROM room_aliases WHERE room_id = ? ORDER BY alias").all(roomId) as { alias: string }[]).map((r) => r.alias);
  }
}
