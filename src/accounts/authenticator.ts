/**
 * Authenticator: access token → Requester.
 * Throws UnknownTokenError for unknown, logged-out or deactivated tokens, and with
 * soft_logout=true for expired ones (the client may refresh and carry on).
 * Side effects: revokes a refreshed pair's predecessor on first use; records last-seen
 * time and address at most once a minute per device.
 * Known tokens are remembered (with their hash) while storage's accessGeneration stays the
 * same, so a request from a known device costs neither a SHA-256 nor a token read; any
 * revocation, deactivation or admin change moves the generation and empties what is kept.
 */
import { UnknownTokenError } from "../errors/matrix-error.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import type { AccessTokenRow } from "../storage/rows.js";
import type { Requester } from "./requester.js";
import { hashSecret } from "./secrets.js";

const TOUCH_INTERVAL_MS = 60_000;
/** Bound on remembered tokens (a full map is emptied; the next requests read storage again). */
const KNOWN_TOKENS = 50_000;

export class Authenticator {
  private readonly lastTouch = new Map<string, number>();
  private readonly known = new Map<string, { hash: string; row: AccessTokenRow }>();
  private knownGeneration = -1;

  constructor(private readonly storage: Storage, private readonly clock: Clock) {}

  async authenticate(accessToken: string, ip: string | null): Promise<Requester> {
    const { hash: tokenHash, row } = await this.lookup(accessToken);
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

  private async lookup(accessToken: string): Promise<{ hash: string; row: AccessTokenRow | null }> {
    // Read before the lookup: a write after it moves the generation past what is stored.
    const generation = this.storage.tokens.accessGeneration();
    if (generation !== this.knownGeneration) {
      this.known.clear();
      this.knownGeneration = generation;
    }
    const hit = this.known.get(accessToken);
    if (hit) return hit;
    const hash = hashSecret(accessToken);
    const row = await this.storage.tokens.lookupAccess(hash);
    // Only plain live tokens: a pending predecessor is consumed below (which moves the generation).
    if (row && !row.deactivated && row.predecessorRefreshId === null && this.storage.tokens.accessGeneration() === generation) {
      if (this.known.size >= KNOWN_TOKENS) this.known.clear();
      this.known.set(accessToken, { hash, row });
    }
    return { hash, row };
  }
}
