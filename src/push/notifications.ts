/**
 * Notifications: GET /notifications (notifications.yaml), the events the user was notified
 * about, newest first.
 * In:  user id, `from` (a `next_token` from an earlier page), `limit`, `only=highlight`.
 * Out: `{ notifications: [{ actions, event, read, room_id, ts }], next_token? }` where
 *      `event` is the client format without room_id, `read` says whether the user's
 *      receipts cover it (same rule as the counts), and `next_token` is present only when
 *      the page was full. `profile_tag` is omitted: pushers carry none into the rules here.
 * Throws: InvalidParamError for a malformed `from`.
 */
import { InvalidParamError } from "../errors/matrix-error.js";
import { toClientEvent, type ClientEvent } from "../events/client-event.js";
import type { UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import { asStreamPos, type StreamPos } from "../streams/position.js";
import type { PushAction } from "./push-rule.js";
import { isRead, type ReadMarks, type UnreadCounts } from "./unread-counts.js";

export interface NotificationEntry {
  actions: PushAction[];
  event: ClientEvent;
  read: boolean;
  room_id: string;
  ts: number;
}

export interface NotificationsResponse {
  notifications: NotificationEntry[];
  next_token?: string;
}

export interface NotificationsRequest {
  from: string | null;
  limit: number;
  onlyHighlight: boolean;
}

/** A `next_token`: the position of the last event of the previous page, in decimal. */
function decodeFrom(from: string | null): StreamPos | null {
  if (from === null) return null;
  if (!/^[0-9]{1,15}$/.test(from)) throw new InvalidParamError("Invalid 'from' token");
  return asStreamPos(Number(from));
}

export class Notifications {
  constructor(private readonly storage: Storage, private readonly counts: UnreadCounts) {}

  async list(userId: UserId, req: NotificationsRequest): Promise<NotificationsResponse> {
    const before = decodeFrom(req.from);
    const rows = await this.storage.push.notifications(userId, before, req.limit, req.onlyHighlight);
    const marks = new Map<string, ReadMarks>();
    const notifications: NotificationEntry[] = [];
    for (const row of rows) {
      const event = await this.storage.events.get(row.eventId);
      if (!event) continue;
      let roomMarks = marks.get(row.roomId);
      if (!roomMarks) {
        roomMarks = await this.counts.readMarks(userId, row.roomId);
        marks.set(row.roomId, roomMarks);
      }
      notifications.push({
        actions: row.actions as PushAction[],
        event: toClientEvent(event, { format: "client", omitRoomId: true }),
        read: isRead(roomMarks, row.eventPos, row.threadId),
        room_id: row.roomId,
        ts: row.ts,
      });
    }
    const last = rows[rows.length - 1];
    return { notifications, ...(rows.length === req.limit && last ? { next_token: String(last.eventPos) } : {}) };
  }
}
