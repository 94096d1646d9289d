/**
 * GET /rooms/{roomId}/event/{eventId} and GET /rooms/{roomId}/context/{eventId}.
 * Both answer 404 M_NOT_FOUND when the event is unknown, in another room, or not visible
 * to the user (including when the user may not read the room at all, and a non-state event
 * sent by a user they ignore): the spec's 404 for /event, and the same for /context so that
 * neither tells hidden events from missing ones (Synapse: 404 for /event, 403 for /context).
 * Context, as Synapse computes it:
 * - `limit` (default 10) is split floor(limit/2) before and the rest after; the filter
 *   applies to events_before, events_after and state, never to `event`; events the reader
 *   may not see (history visibility, or non-state events of users they ignore) are skipped;
 * - `start`/`end` are /messages tokens just past the last event on each side;
 * - `state` is the state after the last event of the window (events_after's last, else
 *   the event); with lazy_load_members it keeps non-member state plus the m.room.member
 *   events of the senders in the window.
 */
import type { ClientEvent } from "../events/client-event.js";
import { ForbiddenError, NotFoundError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import { compileRoomEventFilter, type RoomEventFilterBody } from "../filters/room-event-filter.js";
import type { EventRow } from "../storage/rows.js";
import { asStreamPos } from "../streams/position.js";
import { scanPage } from "./event-scan.js";
import { encodeRoomToken } from "./pagination-token.js";
import { shows, type ReadAccess } from "./read-access.js";
import type { ReadDeps } from "./room-reads.js";

export interface ContextRequest {
  userId: UserId;
  roomId: string;
  eventId: string;
  limit: number;
  filter: RoomEventFilterBody | null;
}

export interface ContextResponse {
  start: string;
  end: string;
  events_before: ClientEvent[];
  event: ClientEvent;
  events_after: ClientEvent[];
  state: ClientEvent[];
}

/** The event and the reader's access, or 404 when the reader may not see it. */
async function visibleEvent(deps: ReadDeps, userId: UserId, roomId: string, eventId: string): Promise<{ row: EventRow; access: ReadAccess }> {
  const row = await deps.storage.events.get(eventId);
  if (!row || row.roomId !== roomId) throw new NotFoundError("Event not found");
  let access: ReadAccess;
  try {
    access = await deps.access.check(roomId, userId);
  } catch (err) {
    if (err instanceof ForbiddenError) throw new NotFoundError("Event not found");
    throw err;
  }
  if (row.pos >= deps.access.upperBound(access) || !shows(access, row)) throw new NotFoundError("Event not found");
  return { row, access };
}

export async function getEvent(deps: ReadDeps, userId: UserId, roomId: string, eventId: string): Promise<ClientEvent> {
  const { row } = await visibleEvent(deps, userId, roomId, eventId);
  return deps.serializer.serializeOne(row);
}

export async function getEventContext(deps: ReadDeps, req: ContextRequest): Promise<ContextResponse> {
  const { row, access } = await visibleEvent(deps, req.userId, req.roomId, req.eventId);
  const matches = compileRoomEventFilter(req.filter);
  const keep = (ev: EventRow) => matches(ev.pdu, ev.roomId) && shows(access, ev);
  const read = (range: Parameters<typeof deps.storage.events.inRoom>[1]) => deps.storage.events.inRoom(req.roomId, range);
  const beforeLimit = Math.floor(req.limit / 2);
  const before = await scanPage(read, { dir: "b", from: row.pos, to: null, limit: beforeLimit }, keep);
  const after = await scanPage(read, { dir: "f", from: asStreamPos(row.pos + 1), to: deps.access.upperBound(access), limit: req.limit - beforeLimit }, keep);

  const last = after.events.at(-1) ?? row;
  let state = await deps.storage.events.stateAt(req.roomId, last.pos);
  if (req.filter?.lazy_load_members) {
    const senders = new Set([...before.events, row, ...after.events].map((ev) => ev.pdu.sender));
    state = state.filter((ev) => ev.pdu.type !== "m.room.member" || senders.has(ev.pdu.state_key ?? ""));
  }
  state = state.filter((ev) => matches(ev.pdu, ev.roomId));

  return {
    start: encodeRoomToken(before.next),
    end: encodeRoomToken(after.next),
    events_before: await deps.serializer.serialize(before.events),
    event: await deps.serializer.serializeOne(row),
    events_after: await deps.serializer.serialize(after.events),
    state: await deps.serializer.serialize(state),
  };
}
