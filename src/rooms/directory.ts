/**
 * The published room directory as use cases: list it (GET|POST /publicRooms), read and
 * change one room's entry (GET|PUT /directory/list/room/{roomId}).
 * In:  the caller ({ userId, isAdmin }) where a change needs permission; query options.
 * Out: the spec's wire shapes; throws NotFoundError (unknown room), ForbiddenError (not
 *      allowed to change the entry), InvalidParamError (bad `since`, bad option mix).
 * Who may change an entry follows Synapse (`check_can_change_room_list`): a server admin,
 * or a joined member whose power level would let them send m.room.canonical_alias.
 * Which published rooms are listed is the storage's rule (RoomStore.publicRooms).
 */
import type { Requester } from "../accounts/requester.js";
import { ForbiddenError, InvalidParamError, NotFoundError } from "../errors/matrix-error.js";
import { parseServerName, type ServerName } from "../events/ids.js";
import { stateKeyOf, type StateKey, type StoredPdu } from "../events/pdu.js";
import { roomVersion } from "../events/room-versions.js";
import type { Storage } from "../storage/storage.js";
import type { RoomSummaryRow } from "../storage/rows.js";
import { powerLevelOf, requiredLevelForEvent } from "./auth-rules.js";

/** Who acts: only the user and whether they administer this server matter here. */
export type Actor = Pick<Requester, "userId" | "isAdmin">;

/** Synapse's cap on one page; `limit` 0 or absent means "as many as allowed". */
export const MAX_PUBLIC_ROOMS_PER_PAGE = 100;

export interface PublicRoomsQuery {
  limit: number | null;
  /** A next_batch or prev_batch token from an earlier answer. */
  since: string | null;
  searchTerm: string | null;
  roomTypes: readonly (string | null)[] | null;
  includeAllNetworks: boolean;
  /** An application service network: Sluice has none, so its list is always empty. */
  thirdPartyInstanceId: string | null;
  /** Whose directory: null or this server's name (others would need federation). */
  server: string | null;
}

/** One entry of `chunk` (spec: PublishedRoomsChunk); absent fields are omitted, not null. */
export interface PublicRoomsChunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  name?: string;
  topic?: string;
  avatar_url?: string;
  canonical_alias?: string;
  join_rule?: string;
  room_type?: string;
}

export interface PublicRoomsResponse {
  chunk: PublicRoomsChunk[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

/**
 * Pagination tokens are opaque to clients; inside they are the offset of the page's first
 * room (`o<offset>`). Pages can shift when rooms gain members between requests, as with
 * any offset paging; the directory is an estimate by nature.
 */
const TOKEN = /^o(\d{1,9})$/;

function encodeToken(offset: number): string {
  return `o${offset}`;
}

function decodeToken(token: string): number {
  const m = TOKEN.exec(token);
  if (!m) throw new InvalidParamError("Invalid since token");
  return Number(m[1]);
}

function toChunk(s: RoomSummaryRow): PublicRoomsChunk {
  const chunk: PublicRoomsChunk = {
    room_id: s.roomId,
    num_joined_members: s.joinedCount,
    world_readable: s.historyVisibility === "world_readable",
    guest_can_join: s.guestAccess === "can_join",
  };
  if (s.name !== null) chunk.name = s.name;
  if (s.topic !== null) chunk.topic = s.topic;
  if (s.avatarUrl !== null) chunk.avatar_url = s.avatarUrl;
  if (s.canonicalAlias !== null) chunk.canonical_alias = s.canonicalAlias;
  if (s.joinRule !== null) chunk.join_rule = s.joinRule;
  if (s.roomType !== null) chunk.room_type = s.roomType;
  return chunk;
}

/**
 * May `actor` change `roomId`'s directory entry (and delete aliases they did not create)?
 * A server admin always; otherwise a joined member whose level reaches the level needed to
 * send m.room.canonical_alias.
 */
export async function mayChangeRoomList(storage: Storage, roomId: string, actor: Actor): Promise<boolean> {
  if (actor.isAdmin) return true;
  const membership = await storage.rooms.membership(roomId, actor.userId);
  if (membership?.membership !== "join") return false;
  const room = await storage.rooms.get(roomId);
  const state = new Map<StateKey, StoredPdu>();
  for (const type of ["m.room.create", "m.room.power_levels"]) {
    const row = await storage.rooms.currentStateEvent(roomId, type, "");
    if (row) state.set(stateKeyOf(type, ""), { eventId: row.eventId, pdu: row.pdu });
  }
  const version = room ? roomVersion(room.roomVersion) : undefined;
  return powerLevelOf(actor.userId, state, version) >= requiredLevelForEvent("m.room.canonical_alias", true, state);
}

export class RoomDirectory {
  constructor(private readonly storage: Storage, private readonly serverName: ServerName) {}

  async publicRooms(q: PublicRoomsQuery): Promise<PublicRoomsResponse> {
    if (q.server !== null && parseServerName(q.server) !== this.serverName) {
      throw new InvalidParamError("Only this server's directory can be listed: federation is not supported yet");
    }
    if (q.includeAllNetworks && q.thirdPartyInstanceId !== null) {
      throw new InvalidParamError("Can't use include_all_networks with an explicit network");
    }
    const offset = q.since !== null ? decodeToken(q.since) : 0;
    if (q.thirdPartyInstanceId !== null) return { chunk: [], total_room_count_estimate: 0 };
    const limit = q.limit === null || q.limit === 0 || q.limit > MAX_PUBLIC_ROOMS_PER_PAGE ? MAX_PUBLIC_ROOMS_PER_PAGE : q.limit;
    const { rooms, total } = await this.storage.rooms.publicRooms({
      limit,
      offset,
      search: q.searchTerm !== null && q.searchTerm.length > 0 ? q.searchTerm : null,
      roomTypes: q.roomTypes,
    });
    const response: PublicRoomsResponse = { chunk: rooms.map(toChunk), total_room_count_estimate: total };
    if (offset + rooms.length < total) response.next_batch = encodeToken(offset + rooms.length);
    if (offset > 0) response.prev_batch = encodeToken(Math.max(0, offset - limit));
    return response;
  }

  async visibility(roomId: string): Promise<"public" | "private"> {
    const room = await this.storage.rooms.get(roomId);
    if (!room) throw new NotFoundError("Unknown room");
    return room.visibility;
  }

  async setVisibility(actor: Actor, roomId: string, visibility: "public" | "private"): Promise<void> {
    if (!(await this.storage.rooms.get(roomId))) throw new NotFoundError("Unknown room");
    if (!(await mayChangeRoomList(this.storage, roomId, actor))) {
      throw new ForbiddenError("You need to be a moderator in the room to edit its room list entry");
    }
    await this.storage.rooms.setVisibility(roomId, visibility);
  }
}
