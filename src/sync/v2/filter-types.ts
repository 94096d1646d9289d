/** Static types of the filter parts items read, and the filter test for non-room events. */
import type { Static } from "typebox";
import type { Pdu } from "../../events/pdu.js";
import type { EventFilter } from "../../filters/filter-schema.js";
import { compileRoomEventFilter, type RoomEventFilterBody } from "../../filters/room-event-filter.js";

export type EventFilterBody = Static<typeof EventFilter>;

/**
 * An EventFilter (or RoomEventFilter) for things that are not room events: global and room
 * account data, presence. `types`/`not_types` with `*` globs and `senders`/`not_senders`
 * (the user the entry is about) apply exactly as they do to room events.
 */
export function compileNonRoomEventFilter(filter: RoomEventFilterBody | undefined): (type: string, sender: string, roomId?: string) => boolean {
  const test = compileRoomEventFilter(filter ?? null);
  return (type, sender, roomId = "") => test({ type, sender, content: {} } as unknown as Pdu, roomId);
}
