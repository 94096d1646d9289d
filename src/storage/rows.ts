/** Row types shared by every storage backend. camelCase: these never go on the wire. */
import type { DeviceId, UserId } from "../events/ids.js";
import type { StreamPos } from "../streams/position.js";
import type { Pdu } from "../events/pdu.js";

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
  /** Whose change it is; for an "event" row, the target of a member event (null otherwise). */
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

/** One stored event: its position in the global sequence and its PDU (pruned if redacted). */
export interface EventRow {
  pos: StreamPos;
  eventId: string;
  roomId: string;
  pdu: Pdu;
  /** Id of the redaction event that pruned this event, if any. */
  redactedBy: string | null;
}

export interface RoomRow {
  roomId: string;
  roomVersion: string;
  creator: UserId;
  createdTs: number;
  /** Published in the public room directory. */
  visibility: "public" | "private";
  /** The room's single forward extremity (local rooms have a linear history). */
  lastEventId: string | null;
  lastDepth: number;
}

export interface MembershipRow {
  roomId: string;
  userId: UserId;
  membership: string;
  eventId: string;
  pos: StreamPos;
}

/**
 * The per-room summary kept at write time for sliding sync (sort and filter) and for the
 * public directory: never recomputed from history on read.
 */
export interface RoomSummaryRow {
  roomId: string;
  /** Position of the newest event that bumps the room (messages, not every state change). */
  bumpPos: StreamPos;
  name: string | null;
  canonicalAlias: string | null;
  avatarUrl: string | null;
  topic: string | null;
  /** Encryption algorithm from m.room.encryption, null when not encrypted. */
  encryption: string | null;
  roomType: string | null;
  joinRule: string | null;
  historyVisibility: string | null;
  guestAccess: string | null;
  joinedCount: number;
  invitedCount: number;
  /** Up to six members (joined first, then invited), oldest first: a client's heroes are these minus itself. */
  heroes: UserId[];
}

/** The summary fields an event sets (undefined = unchanged, null = cleared). */
export type RoomSummaryPatch = Partial<Pick<RoomSummaryRow, "name" | "canonicalAlias" | "avatarUrl" | "topic" | "encryption" | "roomType" | "joinRule" | "historyVisibility" | "guestAccess">>;

/** Everything one event write changes, persisted in one transaction at one position. */
export interface NewEvent {
  eventId: string;
  roomId: string;
  pdu: Pdu;
  /** For m.room.create: the room row to create with it. */
  newRoom: { roomVersion: string; creator: UserId } | null;
  /** Idempotency key of PUT /send and friends. */
  txn: { userId: UserId; deviceId: DeviceId; txnId: string } | null;
  /** A redaction that applies: the target's id and its pruned PDU. */
  redaction: { targetEventId: string; prunedPdu: Pdu } | null;
  /** Relation to index for /relations (m.relates_to), if any. */
  relation: { relType: string; relatesTo: string } | null;
  summary: RoomSummaryPatch;
  /** Whether this event moves the room up in recency order (bump stamp). */
  bumps: boolean;
  /** Push rule outcomes for the recipients (written with the event; eventPos is filled in). */
  pushActions?: Omit<PushActionRow, "eventPos">[];
}

export interface AliasRow {
  alias: string;
  roomId: string;
  creator: UserId;
}

/** One account data entry; roomId null = global. */
export interface AccountDataRow {
  userId: UserId;
  roomId: string | null;
  type: string;
  content: Record<string, unknown>;
  pos: StreamPos;
}

export interface ReceiptRow {
  roomId: string;
  userId: UserId;
  /** m.read, m.read.private, m.fully_read is account data, not a receipt. */
  receiptType: string;
  /** "" for an unthreaded receipt, "main" or a thread root event id otherwise. */
  threadId: string;
  eventId: string;
  eventPos: StreamPos;
  ts: number;
  pos: StreamPos;
}

export interface PresenceRow {
  userId: UserId;
  state: "online" | "unavailable" | "offline";
  statusMsg: string | null;
  lastActiveTs: number;
  currentlyActive: boolean;
  pos: StreamPos;
}

/** One message of a send-to-device request; `"*"` means every current device of the user. */
export interface ToDeviceMessage {
  userId: UserId;
  deviceId: DeviceId | "*";
  type: string;
  content: Record<string, unknown>;
}

/** A queued message for one device, waiting for the device to acknowledge it. */
export interface ToDeviceRow {
  pos: StreamPos;
  userId: UserId;
  deviceId: DeviceId;
  sender: UserId;
  type: string;
  content: Record<string, unknown>;
}

/** What the push rules decided about one event for one recipient. */
export interface PushActionRow {
  userId: UserId;
  roomId: string;
  eventId: string;
  eventPos: StreamPos;
  /** "main" or the thread root's event id. */
  threadId: string;
  notify: boolean;
  highlight: boolean;
  actions: unknown[];
  ts: number;
}

export interface PusherRow {
  userId: UserId;
  appId: string;
  pushkey: string;
  kind: string;
  appDisplayName: string;
  deviceDisplayName: string;
  profileTag: string | null;
  lang: string;
  data: Record<string, unknown>;
}

/** A device's one-time key counts per algorithm and its unused fallback key algorithms (sorted). */
export interface DeviceKeyCounts {
  oneTimeKeys: Record<string, number>;
  unusedFallbackTypes: string[];
}
