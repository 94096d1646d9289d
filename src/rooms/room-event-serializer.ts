/**
 * RoomEventSerializer: stored events → ClientEvents for the read endpoints (format
 * `client`, with room_id), adding the `unsigned` data a server generates:
 *   - redacted events (already pruned in storage) carry `redacted_because`, the redaction
 *     event as a client event;
 *   - state events carry `prev_content`, `prev_sender` and `replaces_state` from the state
 *     entry they replaced, as Synapse serves them (clients render membership changes from it).
 * `transaction_id` and `age` are not added here.
 * Cost: one lookup per state event and per distinct redaction; callers pass pages, not rooms.
 */
import { toClientEvent, type ClientEvent } from "../events/client-event.js";
import type { Storage } from "../storage/storage.js";
import type { EventRow } from "../storage/rows.js";
import { asStreamPos } from "../streams/position.js";

export interface SerializeOptions {
  format?: "client" | "federation";
  omitRoomId?: boolean;
  eventFields?: readonly string[];
}

export class RoomEventSerializer {
  constructor(private readonly storage: Storage) {}

  /** `opts` is how /sync asks for its shape: no room_id, the filter's event_fields and event_format. */
  async serialize(rows: readonly EventRow[], opts: SerializeOptions = {}): Promise<ClientEvent[]> {
    const redactions = new Map<string, EventRow | null>();
    const out: ClientEvent[] = [];
    for (const row of rows) {
      const unsigned: Record<string, unknown> = {};
      const { type, state_key: stateKey } = row.pdu;
      if (typeof stateKey === "string" && row.pos > 0) {
        const prev = await this.storage.events.stateEntryAt(row.roomId, type, stateKey, asStreamPos(row.pos - 1));
        if (prev) {
          unsigned.prev_content = prev.pdu.content;
          unsigned.prev_sender = prev.pdu.sender;
          unsigned.replaces_state = prev.eventId;
        }
      }
      let redactedBecause: EventRow | null = null;
      if (row.redactedBy) {
        if (!redactions.has(row.redactedBy)) redactions.set(row.redactedBy, await this.storage.events.get(row.redactedBy));
        redactedBecause = redactions.get(row.redactedBy) ?? null;
      }
      out.push(
        toClientEvent(row, {
          format: opts.format ?? "client",
          unsigned,
          ...(redactedBecause ? { redactedBecause } : {}),
          ...(opts.omitRoomId ? { omitRoomId: true } : {}),
          ...(opts.eventFields ? { eventFields: opts.eventFields } : {}),
        }),
      );
    }
    return out;
  }

  async serializeOne(row: EventRow): Promise<ClientEvent> {
    const [ev] = await this.serialize([row]);
    return ev!;
  }
}
