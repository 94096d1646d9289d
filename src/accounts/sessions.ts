/**
 * Sessions: issuing, refreshing and ending logins (a device plus its tokens).
 * Tokens issued with `withRefresh` expire after auth.accessTokenLifetimeMs and come with a
 * refresh token; others live until logout, as the spec allows.
 */
import { UnknownTokenError } from "../errors/matrix-error.js";
import type { DeviceId, UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { NewSession } from "../storage/rows.js";
import type { Clock } from "../util/clock.js";
import { randomDeviceId } from "../util/random.js";
import type { Requester } from "./requester.js";
import { hashSecret, newAccessToken, newRefreshToken } from "./secrets.js";

export interface IssuedTokens {
  user_id: UserId;
  device_id: DeviceId;
  access_token: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

export interface SessionRequest {
  userId: UserId;
  deviceId?: DeviceId;
  displayName?: string | null;
  withRefresh: boolean;
  ip: string | null;
}

export class Sessions {
  constructor(private readonly storage: Storage, private readonly clock: Clock, private readonly accessTokenLifetimeMs: number) {}

  /** Builds a session without storing it (registration stores it with the user). */
  prepare(req: SessionRequest): { row: NewSession; tokens: IssuedTokens } {
    const deviceId = req.deviceId ?? (randomDeviceId() as DeviceId);
    const accessToken = newAccessToken();
    const refreshToken = req.withRefresh ? newRefreshToken() : null;
    const row: NewSession = {
      userId: req.userId,
      deviceId,
      deviceDisplayName: req.displayName ?? null,
      accessTokenHash: hashSecret(accessToken),
      refresh: refreshToken ? { refreshTokenHash: hashSecret(refreshToken), accessExpiresTs: this.clock.now() + this.accessTokenLifetimeMs } : null,
      ip: req.ip,
    };
    const tokens: IssuedTokens = { user_id: req.userId, device_id: deviceId, access_token: accessToken };
    if (refreshToken) {
      tokens.refresh_token = refreshToken;
      tokens.expires_in_ms = this.accessTokenLifetimeMs;
    }
    return { row, tokens };
  }

  async create(req: SessionRequest): Promise<IssuedTokens> {
    const { row, tokens } = this.prepare(req);
    await this.storage.tokens.createSession(row, this.clock.now());
    return tokens;
  }

  /** POST /refresh. Unknown refresh tokens are 401 M_UNKNOWN_TOKEN (spec). */
  async refresh(refreshToken: string): Promise<{ access_token: string; refresh_token: string; expires_in_ms: number }> {
    const accessToken = newAccessToken();
    const nextRefresh = newRefreshToken();
    const now = this.clock.now();
    const ok = await this.storage.tokens.refresh(
      hashSecret(refreshToken),
      { accessTokenHash: hashSecret(accessToken), refreshTokenHash: hashSecret(nextRefresh), accessExpiresTs: now + this.accessTokenLifetimeMs },
      now,
    );
    if (!ok) throw new UnknownTokenError("Unknown refresh token");
    return { access_token: accessToken, refresh_token: nextRefresh, expires_in_ms: this.accessTokenLifetimeMs };
  }

  /** POST /logout: the device goes with its token (as Synapse does), so its keys can go too. */
  async logout(requester: Requester): Promise<void> {
    await this.storage.devices.delete(requester.userId, [requester.deviceId], this.clock.now());
  }

  async logoutAll(requester: Requester): Promise<void> {
    const devices = await this.storage.devices.list(requester.userId);
    await this.storage.devices.delete(requester.userId, devices.map((d) => d.deviceId), this.clock.now());
  }
}
