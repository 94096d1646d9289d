/**
 * SentMembers: the member events each device has already received through lazy-loading, so
 * that `lazy_load_members` without `include_redundant_members` does not send them again
 * (spec, "Lazy-loading room members": the server may assume a client remembers the
 * membership events it was sent). Synapse keeps the same memory in
 * `SyncHandler.lazy_loaded_members_cache` (synapse/handlers/sync.py, `compute_state_delta`).
 *
 * Per (user, device): (room, member) → the member event id the device holds.
 *   - A response's member events are first held *pending* under its `next_batch` position;
 *     they count once the device syncs with that position as `since` (the response
 *     arrived). So a lost response, or a retry from an older token, never hides a member
 *     event from the client. Unlike Synapse, which counts them as soon as they are computed.
 *   - A remembered entry counts only for a `since` at or after the position it was
 *     acknowledged at (a client that went back to an older token is sent it again).
 *   - `forget` (initial sync, `full_state`): the device starts over. Synapse clears its
 *     cache on an initial sync only; a client asking for full state may have dropped its own.
 *
 * Memory is bounded (SENT_MEMBERS_LIMITS): an LRU of `devices` devices, each holding an LRU
 * of at most `members` acknowledged entries, and at most `pending` unacknowledged responses
 * holding at most `members` entries between them: 1000 × 2 × 100 = 200k entries at the very
 * worst, ~90 MB (measured: ~440 bytes an entry, every id a distinct string); in steady state
 * a device has one small pending response, so about half that. Whatever is not remembered
 * (evicted, or after a restart: the memory is in-process only) is simply sent again, which
 * the spec allows.
 */
import { LruCache } from "../../util/lru-cache.js";

export interface SentMembersLimits {
  /** Devices remembered (least recently syncing evicted first). */
  devices: number;
  /** (room, member) entries remembered per device; as many again pending acknowledgement. */
  members: number;
  /** Unacknowledged responses kept per device (a lost one is dropped once a later one is acknowledged). */
  pending: number;
}

export const SENT_MEMBERS_LIMITS: SentMembersLimits = { devices: 1000, members: 100, pending: 2 };

/** One response's view of a device's memory (SentMembers.open). */
export interface MembersSentView {
  /** Has the device received exactly this member event of this room, in a response it acknowledged? */
  has(roomId: string, userId: string, eventId: string): boolean;
  /** This response carries this member event (it counts once the device acknowledges the response). */
  add(roomId: string, userId: string, eventId: string): void;
}

interface PendingResponse {
  /** The response's `next_batch` position. */
  upto: number;
  members: Map<string, string>;
}

class DeviceMemory {
  readonly known: LruCache<string, { eventId: string; at: number }>;
  pending: PendingResponse[] = [];

  constructor(readonly limits: SentMembersLimits) {
    this.known = new LruCache(limits.members);
  }

  /** The device syncs from `since`: the response(s) that ended there arrived. */
  acknowledge(since: number): void {
    const arrived = this.pending.filter((p) => p.upto === since);
    // Older pending responses were never acknowledged: lost, or superseded by a retry.
    this.pending = this.pending.filter((p) => p.upto > since);
    const [first, ...others] = arrived;
    if (!first) return;
    // Several computations may have ended at one position (a retried request): only what
    // they all carried is sure to have arrived.
    for (const [key, eventId] of first.members) {
      if (others.every((p) => p.members.get(key) === eventId)) this.known.set(key, { eventId, at: since });
    }
  }

  /** Entries held by the pending responses together. */
  pendingSize(): number {
    return this.pending.reduce((n, p) => n + p.members.size, 0);
  }

  /** A new pending response ending at `upto`; the oldest pending one goes if there are too many. */
  startResponse(upto: number): PendingResponse {
    const response = { upto, members: new Map<string, string>() };
    this.pending.push(response);
    if (this.pending.length > this.limits.pending) this.pending.shift();
    return response;
  }
}

const memberKey = (roomId: string, userId: string) => `${roomId}\u0000${userId}`;
const deviceKey = (userId: string, deviceId: string) => `${userId}\u0000${deviceId}`;

export class SentMembers {
  private readonly devices: LruCache<string, DeviceMemory>;

  constructor(private readonly limits: SentMembersLimits = SENT_MEMBERS_LIMITS) {
    for (const [name, n] of Object.entries(limits)) if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`SentMembers ${name} must be a positive integer, got ${n}`);
    this.devices = new LruCache(limits.devices);
  }

  /** The device starts over (an initial or full_state sync): it may hold nothing it was sent. */
  forget(userId: string, deviceId: string): void {
    this.devices.delete(deviceKey(userId, deviceId));
  }

  /**
   * Opens the device's memory for one response covering (since, upto]; `since` is the
   * client's token (null for an initial sync), which acknowledges the response that ended
   * there. Open once per response.
   */
  open(userId: string, deviceId: string, since: number | null, upto: number): MembersSentView {
    const key = deviceKey(userId, deviceId);
    let device = this.devices.get(key);
    if (!device) {
      device = new DeviceMemory(this.limits);
      this.devices.set(key, device);
    }
    if (since !== null) device.acknowledge(since);
    const memory = device;
    let response: PendingResponse | null = null; // created on the first member sent
    return {
      has: (roomId, userId, eventId) => {
        if (since === null) return false;
        const entry = memory.known.get(memberKey(roomId, userId));
        return entry !== undefined && entry.eventId === eventId && entry.at <= since;
      },
      add: (roomId, userId, eventId) => {
        response ??= memory.startResponse(upto);
        const k = memberKey(roomId, userId);
        // Beyond the bound a member is not remembered: it will just be sent again.
        if (response.members.has(k) || memory.pendingSize() < this.limits.members) response.members.set(k, eventId);
      },
    };
  }
}
