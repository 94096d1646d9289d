/** Mapping between SQLite event rows and EventRow. */
import type { EventRow } from "../rows.js";
import { asStreamPos } from "../../streams/position.js";
import type { Pdu } from "../../events/pdu.js";

export interface EventSqlRow {
  pos: number;
  event_id: string;
  room_id: string;
  json: string;
  redacted_by: string | null;
}

export const EVENT_COLUMNS = "e.pos, e.event_id, e.room_id, e.json, e.redacted_by";

export function toEventRow(r: EventSqlRow): EventRow {
  return { pos: asStreamPos(r.pos), eventId: r.event_id, roomId: r.room_id, pdu: JSON.parse(r.json) as Pdu, redactedBy: r.redacted_by };
}
