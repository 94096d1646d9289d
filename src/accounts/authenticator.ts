/**
 * Authenticator: access token → Requester.
 * Throws UnknownTokenError for unknown, logged-out or deactivated tokens, and with
 * soft_logout=true for expired ones (the client may refresh and carry on).
 * Side effects: revokes a refreshed pair's predecessor on first use; records last-seen
 * time and address at most once a minute per device.
 */
import { UnknownTokenError } from "../errors/matrix-error.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import type { Requester } from "./requester.js";
import { hashSecret } from "./secrets.js";

const TOUCH_INTERVAL_MS = 60_000;

export class Authenticator {
  private readonly lastTouch = new Map<string, number>();

  constructor(private readonly storage: Storage, private readonly clock: Clock) {}

  async authenticate(accessToken: string, ip: string | null): Promise<Requester> {
    const tokenHash = hashSecret(accessToken);
    const row = await this.storage.tokens.lookupAccess(tokenHash);
    if (!row || row.deactivated) throw new UnknownTokenError("Unknown access token");
    const now = this.clock.now();
    if (row.expiresTs !== null && row.expiresTs <= now) throw new UnknownTokenError("Access token has expired", true);
    if (row.predecessorRefreshId !== null) await this.storage.tokens.consumePredecessor(tokenHash);
    const key = `${row.userId}|${row.deviceId}`;
    if ((this.lastTouch.get(key) ?? 0) + TOUCH_INTERVAL_MS <= now) {
      this.lastTouch.set(key, now);
      if (this.lastTouch.size > 100_000) this.lastTouch.clear(); // bound memory; a re-touch is harmless
      await this.storage.devices.touch(row.userId, row.deviceId, now, ip);
    }
    return { userId: row.userId, deviceId: row.deviceId, isAdmin: row.isAdmin, accessTokenHash: tokenHash };
  }
}
