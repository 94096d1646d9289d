/**
 * Room state reads: GET /rooms/{roomId}/state, /state/{eventType}/{stateKey},
 * /members and /joined_members.
 * Which state (spec, rooms.yaml; Synapse get_state_events / get_room_data):
 *   member or world-readable peek → the current state;
 *   departed (left or banned)      → the state just after their last membership event;
 *   /members?at=<token>            → the state after the last event before that boundary,
 *                                    if the user could see that event (403 otherwise, 404 if
 *                                    the room has no event before it).
 * /members filters: `membership` keeps that membership, `not_membership` drops that one;
 * given together they are OR-ed, as the spec words it (Synapse AND-s them).
 * /joined_members needs a current member or a world-readable room (Synapse: 403 for a
 * departed user), and lists display_name / avatar_url only when they are strings.
 */
import type { ClientEvent } from "../events/client-event.js";
import { ForbiddenError, NotFoundError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import type { EventRow } from "../storage/rows.js";
import { decodeRoomToken } from "./pagination-token.js";
import type { ReadAccess } from "./read-access.js";
import type { ReadDeps } from "./room-reads.js";

export interface MembersRequest {
  userId: UserId;
  roomId: string;
  /** A pagination token (raw, validated here), or null for "now". */
  at: string | null;
  membership: string | null;
  notMembership: string | null;
}

export interface JoinedMembersResponse {
  joined: Record<string, { display_name?: string; avatar_url?: string }>;
}

/** The state this reader sees by default: current, or at their leave. */
async function readableState(deps: ReadDeps, access: ReadAccess, roomId: string): Promise<EventRow[]> {
  return access.kind === "departed" ? deps.storage.events.stateAt(roomId, access.leftAt) : deps.storage.rooms.currentState(roomId);
}

export async function getState(deps: ReadDeps, userId: UserId, roomId: string): Promise<ClientEvent[]> {
  const access = await deps.access.check(roomId, userId);
  return deps.serializer.serialize(await readableState(deps, access, roomId));
}

export async function getStateEntry(deps: ReadDeps, userId: UserId, roomId: string, type: string, stateKey: string): Promise<ClientEvent> {
  const access = await deps.access.check(roomId, userId);
  const row =
    access.kind === "departed"
      ? await deps.storage.events.stateEntryAt(roomId, type, stateKey, access.leftAt)
      : await deps.storage.rooms.currentStateEvent(roomId, type, stateKey);
  if (!row) throw new NotFoundError(`No ${type} state with key "${stateKey}" in the room`);
  return deps.serializer.serializeOne(row);
}

export async function getMembers(deps: ReadDeps, req: MembersRequest): Promise<{ chunk: ClientEvent[] }> {
  const at = req.at !== null ? decodeRoomToken(req.at) : null;
  const access = await deps.access.check(req.roomId, req.userId);
  let state: EventRow[];
  if (at === null) {
    state = await readableState(deps, access, req.roomId);
  } else {
    const [last] = await deps.storage.events.inRoom(req.roomId, { dir: "b", from: at, to: null, limit: 1 });
    if (!last) throw new NotFoundError("The room has no events before that token");
    if (last.pos >= deps.access.upperBound(access) || !access.viewer.canSee(last)) {
      throw new ForbiddenError("You may not see the room's members at that point");
    }
    state = await deps.storage.events.stateAt(req.roomId, last.pos);
  }
  const members = state.filter((ev) => ev.pdu.type === "m.room.member" && wanted(String(ev.pdu.content.membership), req));
  return { chunk: await deps.serializer.serialize(members) };
}

function wanted(membership: string, req: MembersRequest): boolean {
  const isWanted = req.membership !== null && membership === req.membership;
  const isNotUnwanted = req.notMembership !== null && membership !== req.notMembership;
  if (req.membership !== null && req.notMembership !== null) return isWanted || isNotUnwanted;
  if (req.membership !== null) return isWanted;
  if (req.notMembership !== null) return isNotUnwanted;
  return true;
}

export async function getJoinedMembers(deps: ReadDeps, userId: UserId, roomId: string): Promise<JoinedMembersResponse> {
  const access = await deps.access.check(roomId, userId);
  if (access.kind === "departed") throw new ForbiddenError("Getting joined members while not being a current member of the room is forbidden");
  const joined: JoinedMembersResponse["joined"] = {};
  for (const ev of await deps.storage.rooms.currentState(roomId)) {
    if (ev.pdu.type !== "m.room.member" || ev.pdu.content.membership !== "join" || ev.pdu.state_key === undefined) continue;
    const { displayname, avatar_url: avatarUrl } = ev.pdu.content;
    joined[ev.pdu.state_key] = {
      ...(typeof displayname === "string" ? { display_name: displayname } : {}),
      ...(typeof avatarUrl === "string" ? { avatar_url: avatarUrl } : {}),
    };
  }
  return { joined };
}
