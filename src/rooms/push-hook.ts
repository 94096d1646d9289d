/**
 * PushHook: what the EventWriter asks of push rule evaluation (implemented by
 * push/recipients.ts, wired in app.ts), declared here so that rooms/ does not depend on push/.
 * Both methods run under the room's lock, so the room's state cannot change in between.
 */
import type { StoredPdu } from "../events/pdu.js";
import type { NewEvent } from "../storage/rows.js";

export interface PushHook {
  /**
   * The push actions of an event about to be persisted, for every recipient (written in the
   * same transaction as the event). Evaluated against the room's state before the event.
   */
  actionsFor(event: StoredPdu, roomId: string): Promise<NonNullable<NewEvent["pushActions"]>>;
  /** The event was persisted: bring whatever is cached about the room up to date. */
  committed(event: StoredPdu, roomId: string): void;
}
