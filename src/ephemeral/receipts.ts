/**
 * Receipts and read markers: POST /rooms/{roomId}/receipt/{receiptType}/{eventId} and
 * POST /rooms/{roomId}/read_markers.
 * In:  the requester, a room id and event id (malformed: 400 M_INVALID_PARAM), a receipt
 *      type (m.read, m.read.private, or m.fully_read, which the spec routes to the read
 *      marker), an optional `thread_id` ("main" or a thread root's event id).
 * Checks, in order: the requester is joined to the room (403 M_FORBIDDEN); the event exists
 *      in that room (404 M_NOT_FOUND; Synapse silently ignores an unknown event for m.read but
 *      answers 404 for the read marker: we answer 404 for both so clients learn of bad ids);
 *      history visibility lets the requester see it (403, as Synapse); a thread_id is a
 *      non-empty string, not given with m.fully_read, and fits the event (receipt-threads.ts),
 *      else 400 M_INVALID_PARAM.
 * Out: m.read / m.read.private become a ReceiptRow (unthreaded = thread ""), stored only if
 *      newer than the user's receipt of that kind and thread (ReceiptStore.put), each at its
 *      own position ("receipt"). m.fully_read becomes room account data {event_id}, moved
 *      only forwards (Synapse's read-marker handler), at an "account_data" position.
 * /read_markers validates every target first and then writes, so a bad id changes nothing.
 */
import { ForbiddenError, InvalidParamError, NotFoundError } from "../errors/matrix-error.js";
import { parseEventId, parseRoomId, type UserId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import type { HistoryVisibility } from "../rooms/visibility.js";
import type { Storage } from "../storage/storage.js";
import type { EventRow } from "../storage/rows.js";
import type { Clock } from "../util/clock.js";
import type { AccountData } from "../userdata/account-data.js";
import { isEventInThread } from "./receipt-threads.js";

export const READ = "m.read";
export const READ_PRIVATE = "m.read.private";
export const FULLY_READ = "m.fully_read";
const RECEIPT_TYPES: readonly string[] = [READ, READ_PRIVATE, FULLY_READ];

/** The body of POST /read_markers: event ids per marker (absent or empty = leave alone). */
export interface ReadMarkers {
  [FULLY_READ]?: string | null;
  [READ]?: string | null;
  [READ_PRIVATE]?: string | null;
}

export class Receipts {
  constructor(
    private readonly storage: Storage,
    private readonly visibility: HistoryVisibility,
    private readonly accountData: AccountData,
    private readonly clock: Clock,
  ) {}

  /** POST /receipt. `threadId` is the body's `thread_id` as sent (undefined when absent). */
  async post(requester: Requester, pathRoomId: string, receiptType: string, pathEventId: string, threadId: unknown): Promise<void> {
    const roomId = parseRoomId(pathRoomId);
    if (!RECEIPT_TYPES.includes(receiptType)) throw new InvalidParamError(`Receipt type must be one of ${RECEIPT_TYPES.join(", ")}`);
    const eventId = parseEventId(pathEventId);
    if (threadId !== undefined) {
      if (typeof threadId !== "string" || threadId === "") throw new InvalidParamError("thread_id field must be a non-empty string");
      if (receiptType === FULLY_READ) throw new InvalidParamError(`thread_id is not compatible with ${FULLY_READ} receipts.`);
    }
    const event = await this.target(requester.userId, roomId, eventId);
    if (typeof threadId === "string" && !(await isEventInThread(this.storage, event, threadId))) {
      throw new InvalidParamError(`event_id ${eventId} is not related to thread ${threadId}`);
    }
    if (receiptType === FULLY_READ) await this.moveFullyRead(requester.userId, roomId, event);
    else await this.putReceipt(requester.userId, receiptType, event, typeof threadId === "string" ? threadId : "");
  }

  /** POST /read_markers: the read marker and (unthreaded) receipts in one request. */
  async setReadMarkers(requester: Requester, pathRoomId: string, markers: ReadMarkers): Promise<void> {
    const roomId = parseRoomId(pathRoomId);
    const wanted: [string, EventRow][] = [];
    for (const type of RECEIPT_TYPES) {
      const id = markers[type as keyof ReadMarkers];
      if (id === undefined || id === null || id === "") continue;
      wanted.push([type, await this.target(requester.userId, roomId, parseEventId(id))]);
    }
    for (const [type, event] of wanted) {
      if (type === FULLY_READ) await this.moveFullyRead(requester.userId, roomId, event);
      else await this.putReceipt(requester.userId, type, event, "");
    }
  }

  /** The event a receipt or marker points at, after the membership and visibility checks. */
  private async target(userId: UserId, roomId: string, eventId: string): Promise<EventRow> {
    const member = await this.storage.rooms.membership(roomId, userId);
    if (member?.membership !== "join") throw new ForbiddenError(`${userId} is not joined to room ${roomId}`);
    const event = await this.storage.events.get(eventId);
    if (!event || event.roomId !== roomId || event.pos > this.storage.sequencer.retired()) {
      throw new NotFoundError(`Could not find event ${eventId} in room ${roomId}`);
    }
    const viewer = await this.visibility.viewer(roomId, userId);
    if (!viewer.canSee(event)) throw new ForbiddenError("You don't have permission to access that event.");
    return event;
  }

  private async putReceipt(userId: UserId, receiptType: string, event: EventRow, threadId: string): Promise<void> {
    await this.storage.receipts.put({ roomId: event.roomId, userId, receiptType, threadId, eventId: event.eventId, eventPos: event.pos, ts: this.clock.now() });
  }

  /** Moves m.fully_read to the event unless it already points at the same or a later one. */
  private async moveFullyRead(userId: UserId, roomId: string, event: EventRow): Promise<void> {
    await this.accountData.modify(userId, roomId, FULLY_READ, async (current) => {
      const previous = current?.event_id;
      if (typeof previous === "string") {
        const old = await this.storage.events.get(previous);
        // A marker on an event we no longer have counts as behind (Synapse does the same).
        if (old && old.roomId === roomId && old.pos >= event.pos) return null;
      }
      return { event_id: event.eventId };
    });
  }
}
