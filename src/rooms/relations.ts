/**
 * GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]
 * (client-server "Relationships"): the events that relate to a parent event, newest first
 * by default (dir "b"), paged with the same boundary tokens as /messages.
 * - 403 when the user may not read the room; 404 when the parent is unknown, in another
 *   room, or hidden from the user; children the user may not see are skipped. Events of
 *   users the reader ignores count as hidden (non-state ones; Synapse filters both).
 * - Redacted children are left out: redaction prunes their m.relates_to.
 * - `prev_batch` echoes `from` (as Synapse); `next_batch` is omitted when nothing is left.
 * - `recurse`: follows relations of relations up to RECURSION_DEPTH levels (the spec asks
 *   for at least 3) and answers `recursion_depth`; relType and eventType then select among
 *   all of them, as in Synapse. Recursion reads the whole tree (at most MAX_TREE events)
 *   and pages in memory.
 */
import type { ClientEvent } from "../events/client-event.js";
import type { UserId } from "../events/ids.js";
import { NotFoundError } from "../errors/matrix-error.js";
import type { EventRow } from "../storage/rows.js";
import { asStreamPos, ORIGIN, type StreamPos } from "../streams/position.js";
import { memoryReader, scanPage, type RangeReader } from "./event-scan.js";
import { decodeRoomToken, encodeRoomToken } from "./pagination-token.js";
import { shows } from "./read-access.js";
import type { ReadDeps } from "./room-reads.js";

export const RECURSION_DEPTH = 3;
const MAX_TREE = 10_000;

export interface RelationsRequest {
  userId: UserId;
  roomId: string;
  eventId: string;
  relType: string | null;
  eventType: string | null;
  dir: "b" | "f";
  from: string | null;
  to: string | null;
  limit: number;
  recurse: boolean;
}

export interface RelationsResponse {
  chunk: ClientEvent[];
  next_batch?: string;
  prev_batch?: string;
  recursion_depth?: number;
}

export async function getRelations(deps: ReadDeps, req: RelationsRequest): Promise<RelationsResponse> {
  const from = req.from !== null ? decodeRoomToken(req.from) : null;
  const to = req.to !== null ? decodeRoomToken(req.to) : null;
  const access = await deps.access.check(req.roomId, req.userId);
  const upper = deps.access.upperBound(access);
  const parent = await deps.storage.events.get(req.eventId);
  if (!parent || parent.roomId !== req.roomId || parent.pos >= upper || !shows(access, parent)) {
    throw new NotFoundError("Unknown parent event");
  }

  const start: StreamPos = req.dir === "b" ? min(from ?? upper, upper) : (from ?? ORIGIN);
  const stop: StreamPos | null = req.dir === "b" ? to : min(to ?? upper, upper);
  const read: RangeReader = req.recurse
    ? memoryReader(await relationTree(deps, req.eventId))
    : (range) => deps.storage.events.relations(req.eventId, req.relType, range);
  const page = await scanPage(
    read,
    { dir: req.dir, from: start, to: stop, limit: req.limit },
    (ev) => {
      // A redacted child has lost its m.relates_to: it no longer relates (Synapse drops it too).
      const relType = relTypeOf(ev);
      return (
        ev.roomId === req.roomId &&
        relType !== null &&
        (req.relType === null || relType === req.relType) &&
        (req.eventType === null || ev.pdu.type === req.eventType) &&
        shows(access, ev)
      );
    },
  );

  const response: RelationsResponse = { chunk: await deps.serializer.serialize(page.events) };
  if (!page.exhausted) response.next_batch = encodeRoomToken(page.next);
  if (req.from !== null) response.prev_batch = req.from;
  if (req.recurse) response.recursion_depth = RECURSION_DEPTH;
  return response;
}

/** Every event relating to `rootId` directly or through up to RECURSION_DEPTH - 1 others. */
async function relationTree(deps: ReadDeps, rootId: string): Promise<EventRow[]> {
  const found: EventRow[] = [];
  let parents = [rootId];
  for (let depth = 0; depth < RECURSION_DEPTH && parents.length > 0 && found.length < MAX_TREE; depth++) {
    const children: EventRow[] = [];
    for (const id of parents) {
      children.push(...(await deps.storage.events.relations(id, null, { dir: "f", from: null, to: null, limit: MAX_TREE - found.length - children.length })));
      if (found.length + children.length >= MAX_TREE) break;
    }
    found.push(...children);
    parents = children.map((c) => c.eventId);
  }
  return found;
}

function relTypeOf(ev: EventRow): string | null {
  const rel = ev.pdu.content["m.relates_to"];
  if (typeof rel !== "object" || rel === null) return null;
  const type = (rel as Record<string, unknown>).rel_type;
  return typeof type === "string" ? type : null;
}

function min(a: StreamPos, b: StreamPos): StreamPos {
  return asStreamPos(Math.min(a, b));
}
