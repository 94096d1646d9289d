/**
 * E2eKeys: the end-to-end key use cases, the public API of keys/ (the one class app.ts builds).
 * In:  requests from api/client/keys.ts; queries from the sync engine (counts, device lists).
 * Out: the spec's wire shapes for /keys/upload, /keys/query, /keys/claim and /keys/changes.
 * Errors: MatrixErrors as each module's header lists; storage failures reject unchanged.
 * Concurrency: uploads of one device are serialised here (a per-device lock), so the
 *      read-check-write of an upload never interleaves with another upload of that device.
 */
import type { Requester } from "../accounts/requester.js";
import type { DeviceId, ServerName, UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import { ORIGIN, asStreamPos, type StreamPos } from "../streams/position.js";
import { KeyedMutex } from "../util/keyed-mutex.js";
import { decodeChangesToken } from "./changes-token.js";
import { claimKeys, type KeysClaimBody, type KeysClaimResponse } from "./claim-keys.js";
import { deviceListChanges, type DeviceListChanges } from "./device-list-changes.js";
import { queryKeys, type KeysQueryBody, type KeysQueryResponse } from "./query-keys.js";
import { uploadKeys, type KeysUploadBody } from "./upload-keys.js";

export class E2eKeys {
  private readonly uploadLocks = new KeyedMutex();

  constructor(private readonly storage: Storage, private readonly serverName: ServerName) {}

  /** POST /keys/upload (refusals: upload-keys.ts). */
  async upload(requester: Requester, body: KeysUploadBody): Promise<{ one_time_key_counts: Record<string, number> }> {
    const device = { userId: requester.userId, deviceId: requester.deviceId };
    await this.uploadLocks.run(`${device.userId}\u0000${device.deviceId}`, () => uploadKeys(this.storage, device, body));
    return { one_time_key_counts: await this.oneTimeKeyCounts(device.userId, device.deviceId) };
  }

  /** POST /keys/query. */
  query(body: KeysQueryBody): Promise<KeysQueryResponse> {
    return queryKeys(this.storage, this.serverName, body);
  }

  /** POST /keys/claim. */
  claim(body: KeysClaimBody): Promise<KeysClaimResponse> {
    return claimKeys(this.storage, this.serverName, body);
  }

  /**
   * GET /keys/changes. Both tokens are boundaries (changes-token.ts); one beyond the frontier
   * is read as the frontier (as sync clamps a future `since`), and a missing `to` means "now"
   * (Synapse ignores `to` altogether). A sync token from a database that no longer exists
   * (a restore) reads as the origin for `from` and as now for `to`: every user sharing a room
   * is then reported changed, which is what a client with a bad cache needs. A `to` at or
   * before `from` reports nothing.
   */
  async changes(requester: Requester, from: string, to: string | undefined): Promise<DeviceListChanges> {
    const fromToken = await decodeChangesToken(from, this.storage);
    const toToken = to === undefined ? null : await decodeChangesToken(to, this.storage);
    const now = asStreamPos(this.storage.sequencer.retired() + 1);
    const fromBoundary = Math.min(fromToken ?? ORIGIN, now);
    const toBoundary = Math.min(toToken ?? now, now);
    if (toBoundary <= fromBoundary) return { changed: [], left: [] };
    // Boundary B: positions below B were seen, so the range is [from, to) = (from-1, to-1].
    const after = fromBoundary === 0 ? ORIGIN : asStreamPos(fromBoundary - 1);
    return deviceListChanges(this.storage, requester.userId, after, asStreamPos(toBoundary - 1));
  }

  /**
   * For sync's `device_one_time_keys_count` and the upload answer: unclaimed one-time keys per
   * algorithm. `signed_curve25519` is always present, 0 included (Synapse: clients such as
   * matrix-nio read it unconditionally).
   */
  async oneTimeKeyCounts(userId: UserId, deviceId: DeviceId): Promise<Record<string, number>> {
    return { signed_curve25519: 0, ...(await this.storage.keys.oneTimeKeyCounts(userId, deviceId)) };
  }

  /** For sync's `device_unused_fallback_key_types`: algorithms whose fallback key is unused. */
  unusedFallbackKeyTypes(userId: UserId, deviceId: DeviceId): Promise<string[]> {
    return this.storage.keys.unusedFallbackKeyTypes(userId, deviceId);
  }

  /** For sync's `device_lists`: see device-list-changes.ts; positions in (after, upto]. */
  deviceListChanges(userId: UserId, after: StreamPos, upto: StreamPos): Promise<DeviceListChanges> {
    return deviceListChanges(this.storage, userId, after, upto);
  }
}
