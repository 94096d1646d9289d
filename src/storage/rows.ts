/** Row types shared by every storage backend. camelCase: these never go on the wire. */
import type { DeviceId, UserId } from "../events/ids.js";
import type { StreamPos } from "../streams/position.js";

export interface UserRow {
  userId: UserId;
  passwordHash: string | null;
  isAdmin: boolean;
  deactivated: boolean;
  createdTs: number;
  displayname: string | null;
  avatarUrl: string | null;
}

export interface DeviceRow {
  userId: UserId;
  deviceId: DeviceId;
  displayName: string | null;
  createdTs: number;
  lastSeenTs: number | null;
  lastSeenIp: string | null;
}

/** What an access token resolves to. Tokens are stored hashed; the clear token never is. */
export interface AccessTokenRow {
  userId: UserId;
  deviceId: DeviceId;
  /** Null for tokens issued without a refresh token: they live until logout. */
  expiresTs: number | null;
  /** Set until the token is first used: the refresh token it replaced, revoked on first use. */
  predecessorRefreshId: number | null;
  isAdmin: boolean;
  deactivated: boolean;
}

/** A new login session: the device (created if absent) plus its tokens, written at once. */
export interface NewSession {
  userId: UserId;
  deviceId: DeviceId;
  deviceDisplayName: string | null;
  accessTokenHash: string;
  /** With a refresh token the access token expires; without, it does not. */
  refresh: { refreshTokenHash: string; accessExpiresTs: number } | null;
  ip: string | null;
}

export interface NewUser {
  userId: UserId;
  passwordHash: string | null;
  isAdmin: boolean;
  displayname: string | null;
}

/** One row of the global change log: what changed at a position (never the data itself). */
export interface StreamLogRow {
  pos: StreamPos;
  kind: string;
  userId: UserId | null;
  roomId: string | null;
  /** Random per-row value: a token naming this position must also name this stamp. */
  stamp: number;
  ts: number;
}

export interface UiaSessionRow {
  sessionId: string;
  /** Opaque JSON owned by the UIA module (completed stages, bound user, request digest). */
  data: Record<string, unknown>;
  expiresTs: number;
}
