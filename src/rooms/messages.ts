/**
 * GET /rooms/{roomId}/messages as a use case (client-server "Syncing" → "Getting events
 * for a room"): one page of the room's history in either direction.
 * - `from` absent (spec v1.3): from the newest event for "b", the oldest for "f".
 * - A departed user reads only up to their leave (Synapse clamps the same way).
 * - Hidden (history visibility), filtered-out events and non-state events of users the
 *   reader ignores (m.ignored_user_list, as Synapse) are skipped, and the scan goes on
 *   until `limit` events are kept or the range ends (bounded by MAX_SCANNED).
 * - `start` echoes `from` (or names the boundary used when it was absent); `end` is the
 *   boundary just past the last event returned, omitted when nothing lies beyond.
 * - With `lazy_load_members`, `state` holds each sender's m.room.member event as of the
 *   sender's first event in the chunk, once per sender (Synapse too sends each sender's
 *   membership once per response and does not track what earlier pages sent, so
 *   `include_redundant_members` changes nothing here).
 */
import type { ClientEvent } from "../events/client-event.js";
import type { UserId } from "../events/ids.js";
import { compileRoomEventFilter, type RoomEventFilterBody } from "../filters/room-event-filter.js";
import type { EventRow } from "../storage/rows.js";
import { asStreamPos, ORIGIN, type StreamPos } from "../streams/position.js";
import { scanPage } from "./event-scan.js";
import { decodeRoomToken, encodeRoomToken } from "./pagination-token.js";
import { shows } from "./read-access.js";
import type { ReadDeps } from "./room-reads.js";

export interface MessagesRequest {
  userId: UserId;
  roomId: string;
  dir: "b" | "f";
  /** Raw tokens as the client sent them (validated here). */
  from: string | null;
  to: string | null;
  limit: number;
  filter: RoomEventFilterBody | null;
}

export interface MessagesResponse {
  start: string;
  end?: string;
  chunk: ClientEvent[];
  state?: ClientEvent[];
}

export async function getMessages(deps: ReadDeps, req: MessagesRequest): Promise<MessagesResponse> {
  const from = req.from !== null ? decodeRoomToken(req.from) : null;
  const to = req.to !== null ? decodeRoomToken(req.to) : null;
  const access = await deps.access.check(req.roomId, req.userId);
  const upper = deps.access.upperBound(access);

  // Backwards never starts above what may be read; forwards never runs past it.
  const start: StreamPos = req.dir === "b" ? min(from ?? upper, upper) : (from ?? ORIGIN);
  const stop: StreamPos | null = req.dir === "b" ? to : min(to ?? upper, upper);
  const matches = compileRoomEventFilter(req.filter);
  const page = await scanPage(
    (range) => deps.storage.events.inRoom(req.roomId, range),
    { dir: req.dir, from: start, to: stop, limit: req.limit },
    (ev) => matches(ev.pdu, ev.roomId) && shows(access, ev),
  );

  const response: MessagesResponse = {
    start: req.from ?? encodeRoomToken(start),
    chunk: await deps.serializer.serialize(page.events),
  };
  if (!page.exhausted) response.end = encodeRoomToken(page.next);
  if (req.filter?.lazy_load_members && page.events.length > 0) {
    response.state = await deps.serializer.serialize(await senderMemberships(deps, page.events));
  }
  return response;
}

/** Each sender's m.room.member event as of their first event in `events`, once per sender. */
export async function senderMemberships(deps: ReadDeps, events: readonly EventRow[]): Promise<EventRow[]> {
  const firstBySender = new Map<string, EventRow>();
  for (const ev of events) if (!firstBySender.has(ev.pdu.sender)) firstBySender.set(ev.pdu.sender, ev);
  const out: EventRow[] = [];
  for (const [sender, ev] of firstBySender) {
    const member = await deps.storage.events.stateEntryAt(ev.roomId, "m.room.member", sender, ev.pos);
    if (member) out.push(member);
  }
  return out;
}

function min(a: StreamPos, b: StreamPos): StreamPos {
  return asStreamPos(Math.min(a, b));
}
