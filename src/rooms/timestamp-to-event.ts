/**
 * GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event?ts=&dir= (spec v1.6): the event
 * closest to `ts` at or after it (dir "f") or at or before it (dir "b").
 * Synapse answers from the whole room; we also apply history visibility: when the closest
 * event is hidden from the user, we walk on in the same direction (by position, which on
 * one server follows time) to the first visible event still on the right side of `ts`,
 * looking at no more than MAX_SCANNED events. 403 when the user may not read the room;
 * 404 M_NOT_FOUND when nothing qualifies.
 */
import { NotFoundError } from "../errors/matrix-error.js";
import type { UserId } from "../events/ids.js";
import { asStreamPos } from "../streams/position.js";
import { scanPage } from "./event-scan.js";
import type { ReadDeps } from "./room-reads.js";

export interface TimestampRequest {
  userId: UserId;
  roomId: string;
  ts: number;
  dir: "b" | "f";
}

export async function timestampToEvent(deps: ReadDeps, req: TimestampRequest): Promise<{ event_id: string; origin_server_ts: number }> {
  const access = await deps.access.check(req.roomId, req.userId);
  const upper = deps.access.upperBound(access);
  const notFound = () => new NotFoundError(`Unable to find event from ${req.ts} in direction ${req.dir}`);
  const closest = await deps.storage.events.closestByTimestamp(req.roomId, req.ts, req.dir);
  if (!closest) throw notFound();
  if (closest.pos < upper && access.viewer.canSee(closest)) {
    return { event_id: closest.eventId, origin_server_ts: closest.pdu.origin_server_ts };
  }
  const onTheRightSide = (ts: number) => (req.dir === "f" ? ts >= req.ts : ts <= req.ts);
  const page = await scanPage(
    (range) => deps.storage.events.inRoom(req.roomId, range),
    req.dir === "f"
      ? { dir: "f", from: asStreamPos(closest.pos + 1), to: upper, limit: 1 }
      : { dir: "b", from: asStreamPos(Math.min(closest.pos, upper)), to: null, limit: 1 },
    (ev) => onTheRightSide(ev.pdu.origin_server_ts) && access.viewer.canSee(ev),
  );
  const found = page.events[0];
  if (!found) throw notFound();
  return { event_id: found.eventId, origin_server_ts: found.pdu.origin_server_ts };
}
