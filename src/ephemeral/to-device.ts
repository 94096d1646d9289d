/**
 * Send-to-device messaging: PUT /sendToDevice/{eventType}/{txnId}, and the queue the sync
 * engine drains (pendingFor, acknowledge).
 * In:  the requester (sender user and device), an event type (1..255 bytes, else 400
 *      M_INVALID_PARAM), a txn id, and `messages` {userId: {deviceId | "*": content}}.
 * Rules: every content must fit MAX_MESSAGE_BYTES as compact JSON, else 413 M_TOO_LARGE for
 *      the whole request (Synapse's limit, checked before anything is queued). Malformed user
 *      ids and users of other servers (no federation yet) are skipped and reported back for
 *      the caller to log, as Synapse logs and skips them. For local users, "*" means every
 *      current device, an explicit device id wins over "*" for its device, and unknown users
 *      or devices receive nothing: the store resolves devices in its transaction.
 * Out: idempotent per (sender, sender device, txn id): a repeat queues nothing and still
 *      succeeds. Queued messages share one "to_device" position naming the recipients and stay
 *      until their device acknowledges a position at or after them.
 */
import { InvalidParamError, TooLargeError } from "../errors/matrix-error.js";
import { parseUserId, userIdParts, type DeviceId, type ServerName, type UserId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import type { Storage } from "../storage/storage.js";
import type { ToDeviceMessage, ToDeviceRow } from "../storage/rows.js";
import type { StreamPos } from "../streams/position.js";

/** Largest content of one message (Synapse: MAX_TO_DEVICE_CONTENT_SIZE, 64 KiB). */
export const MAX_MESSAGE_BYTES = 65_536;
const MAX_TYPE_BYTES = 255;
const MAX_TXN_ID_BYTES = 255;

/** {userId: {deviceId | "*": content}} as the client sent it. */
export type ToDeviceRequest = Record<string, Record<string, Record<string, unknown>>>;

export interface SendOutcome {
  /** The txn id was used before: nothing was queued this time. */
  duplicate: boolean;
  /** Messages queued (after "*" expansion and dropping unknown devices). */
  delivered: number;
  /** Recipients on other servers, skipped (federation is not built). */
  remoteUsers: string[];
  /** Keys of `messages` that are not user ids, skipped. */
  invalidUsers: string[];
}

export class ToDevice {
  constructor(private readonly storage: Storage, private readonly serverName: ServerName) {}

  async send(requester: Requester, type: string, txnId: string, messages: ToDeviceRequest): Promise<SendOutcome> {
    if (type.length === 0 || Buffer.byteLength(type, "utf8") > MAX_TYPE_BYTES) throw new InvalidParamError("Invalid event type");
    if (txnId.length === 0 || Buffer.byteLength(txnId, "utf8") > MAX_TXN_ID_BYTES) throw new InvalidParamError("Invalid transaction id");
    const queue: ToDeviceMessage[] = [];
    const remoteUsers: string[] = [];
    const invalidUsers: string[] = [];
    for (const [rawUserId, byDevice] of Object.entries(messages)) {
      for (const [deviceId, content] of Object.entries(byDevice)) {
        // Compact JSON has the canonical length (only key order differs), and floats, which
        // canonical JSON refuses, are legal in to-device content.
        const size = Buffer.byteLength(JSON.stringify(content), "utf8");
        if (size > MAX_MESSAGE_BYTES) throw new TooLargeError(`To-device message for ${rawUserId}:${deviceId} is too large to send (${size} > ${MAX_MESSAGE_BYTES})`);
      }
      const userId = localUserOrNull(rawUserId);
      if (userId === null) {
        invalidUsers.push(rawUserId);
        continue;
      }
      if (userIdParts(userId).serverName !== this.serverName) {
        remoteUsers.push(userId);
        continue;
      }
      for (const [deviceId, content] of Object.entries(byDevice)) {
        queue.push({ userId, deviceId: deviceId as DeviceId | "*", type, content });
      }
    }
    const result = await this.storage.toDevice.send({ userId: requester.userId, deviceId: requester.deviceId }, txnId, queue);
    return { duplicate: result.duplicate, delivered: result.delivered, remoteUsers, invalidUsers };
  }

  /** Messages waiting for the device at positions <= upto, oldest first (whole positions, about `limit`). */
  pendingFor(userId: UserId, deviceId: DeviceId, upto: StreamPos, limit: number): Promise<ToDeviceRow[]> {
    return this.storage.toDevice.pending(userId, deviceId, upto, limit);
  }

  /** The device has what was sent up to `upto`: delete it. Returns how many messages went. */
  acknowledge(userId: UserId, deviceId: DeviceId, upto: StreamPos): Promise<number> {
    return this.storage.toDevice.acknowledge(userId, deviceId, upto);
  }
}

function localUserOrNull(raw: string): UserId | null {
  try {
    return parseUserId(raw);
  } catch {
    return null;
  }
}
