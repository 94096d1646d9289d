/**
 * Storage: everything Sluice keeps, as one domain interface grouped by area.
 * Every method is one transaction: it either happens whole or not at all. Methods that
 * make a client-visible change take a position from `sequencer` inside that transaction
 * and retire it after commit, so readers never see a half-written change.
 * Backends: storage/sqlite (default). Both must pass tests/contract/storage.contract.ts.
 * Errors: infrastructure failures reject; expected outcomes (exists, not found) are values.
 */
import type { DeviceId, UserId } from "../events/ids.js";
import type { Sequencer } from "../streams/sequencer.js";
import type { StreamPos } from "../streams/position.js";
import type {
  AccessTokenRow,
  AccountDataRow,
  AliasRow,
  DeviceRow,
  EventRow,
  MembershipRow,
  NewEvent,
  NewSession,
  NewUser,
  PresenceRow,
  PushActionRow,
  PusherRow,
  ReceiptRow,
  RoomRow,
  RoomSummaryRow,
  StreamLogRow,
  ToDeviceMessage,
  ToDeviceRow,
  UiaSessionRow,
  UserRow,
  DeviceKeyCounts,
} from "./rows.js";

export interface Storage {
  /** The backend's position allocator; its frontier starts at the highest durable position. */
  readonly sequencer: Sequencer;
  readonly meta: MetaStore;
  readonly streams: StreamStore;
  readonly accounts: AccountStore;
  readonly devices: DeviceStore;
  readonly tokens: TokenStore;
  readonly uia: UiaStore;
  readonly filters: FilterStore;
  readonly events: EventStore;
  readonly rooms: RoomStore;
  readonly aliases: AliasStore;
  readonly accountData: AccountDataStore;
  readonly receipts: ReceiptStore;
  readonly presence: PresenceStore;
  readonly toDevice: ToDeviceStore;
  readonly push: PushStore;
  readonly keys: KeyStore;
  /** Flushes and closes. No method may be called afterwards. */
  close(): Promise<void>;
}

export interface MetaStore {
  /** Random id made when this database was created; changes only when an operator rotates it. */
  epoch(): Promise<string>;
  /** Number of the newest migration applied. */
  schemaVersion(): Promise<number>;
  /** Replaces the epoch with a new random one (restore detected): every older token becomes stale. */
  rotateEpoch(): Promise<string>;
  /**
   * Records an operator-forced resync: tokens naming a position below the returned one are
   * stale for the scope: "all" (no user), "user" (user only), "device" (user and device).
   * With `pos` omitted the reset takes the next position not yet written, read in the same
   * write transaction (the CLI's way, while a server may be running); the server passes a
   * position it has just allocated.
   */
  addSyncReset(reset: { scope: "all" | "user" | "device"; userId?: string; deviceId?: string; pos?: StreamPos; reason?: string; ts: number }): Promise<StreamPos>;
  /** The newest reset position that applies to this device (all, its user, or it), or 0. */
  syncResetFor(userId: string, deviceId: string): Promise<StreamPos>;
}

export interface StreamStore {
  /** Highest position written to the log (0 for an empty database). */
  highestPosition(): Promise<StreamPos>;
  /** The stamp of the log row at `pos` (0 for position 0; null when no row is there). */
  stampAt(pos: StreamPos): Promise<number | null>;
  /** Log rows with after < pos <= upto, in position order, at most `limit`. */
  read(after: StreamPos, upto: StreamPos, limit: number): Promise<StreamLogRow[]>;
  /**
   * Takes a position for a change whose data is not stored (typing notifications live in
   * memory): records a log row so sync sees that something changed, then retires it.
   */
  recordEphemeral(change: { kind: string; roomId?: string; userIds?: readonly string[] }): Promise<StreamPos>;
}

export interface AccountStore {
  /** Creates the user and, if given, its first session. "exists" if the id is taken. */
  createUser(user: NewUser, firstSession: NewSession | null, nowTs: number): Promise<"created" | "exists">;
  getUser(userId: UserId): Promise<UserRow | null>;
  /** Ids of users whose id was ever registered, including deactivated ones (ids are never reused). */
  userExists(userId: UserId): Promise<boolean>;
  /**
   * Sets the password hash. With `logout` = null every device stays; with
   * `{ keepDevice }` every other device is deleted with its tokens (`keepDevice: null`
   * deletes them all). A device-list change is recorded only if a device was deleted.
   */
  setPassword(userId: UserId, passwordHash: string, logout: { keepDevice: DeviceId | null } | null, nowTs: number): Promise<void>;
  setAdmin(userId: UserId, isAdmin: boolean): Promise<boolean>;
  /** Marks the account deactivated and deletes every device, token and password. */
  deactivate(userId: UserId, nowTs: number): Promise<void>;
  /** Changes one profile field; records a "profile" change in the log. False if no such user. */
  setProfileField(userId: UserId, field: "displayname" | "avatar_url", value: string | null, nowTs: number): Promise<boolean>;
}

export interface DeviceStore {
  list(userId: UserId): Promise<DeviceRow[]>;
  get(userId: UserId, deviceId: DeviceId): Promise<DeviceRow | null>;
  /** False if the device does not exist. */
  setDisplayName(userId: UserId, deviceId: DeviceId, displayName: string | null): Promise<boolean>;
  /** Deletes the devices, their tokens and queued to-device messages; records one device-list change if any existed. Returns how many. */
  delete(userId: UserId, deviceIds: readonly DeviceId[], nowTs: number): Promise<number>;
  /** Records last-seen time and address; cheap, may be called often. */
  touch(userId: UserId, deviceId: DeviceId, ts: number, ip: string | null): Promise<void>;
}

export interface TokenStore {
  /** Creates the device if it is new (recording a device-list change) and stores the tokens. */
  createSession(session: NewSession, nowTs: number): Promise<void>;
  /** Resolves an access token hash, or null if unknown or logged out (expiry is the caller's). */
  lookupAccess(accessTokenHash: string): Promise<AccessTokenRow | null>;
  /**
   * A number that changes (once the write is visible) whenever an answer of lookupAccess
   * that was not null may have changed: a token revoked, a predecessor link consumed, a
   * user's admin flag or deactivation changed. While it stays the same, a caller may keep
   * the answers it has (the authenticator does, so a request costs no token read).
   */
  accessGeneration(): number;
  /**
   * First use of a token issued by a refresh: revoke the refresh token it replaced (and
   * the access tokens issued with it), then forget the link.
   */
  consumePredecessor(accessTokenHash: string): Promise<void>;
  /**
   * Exchanges a refresh token for a new pair. The old refresh token stays valid until the
   * new pair is first used (spec: clients may retry a refresh whose answer they lost).
   * Null if the refresh token is unknown.
   */
  refresh(refreshTokenHash: string, next: { accessTokenHash: string; refreshTokenHash: string; accessExpiresTs: number }, nowTs: number): Promise<{ userId: UserId; deviceId: DeviceId } | null>;
}

export interface UiaStore {
  create(row: UiaSessionRow): Promise<void>;
  /** Null if unknown or expired at `nowTs`. */
  get(sessionId: string, nowTs: number): Promise<UiaSessionRow | null>;
  update(sessionId: string, data: Record<string, unknown>): Promise<void>;
  delete(sessionId: string): Promise<void>;
  purgeExpired(nowTs: number): Promise<number>;
}

export interface FilterStore {
  /** Stores a filter (already validated) and returns its id, unique per user. */
  create(userId: UserId, filter: Record<string, unknown>): Promise<string>;
  get(userId: UserId, filterId: string): Promise<Record<string, unknown> | null>;
}

/**
 * Paging through a room's events by position. Bounds are *boundaries*: boundary B sits
 * between positions B-1 and B (so a sync `next_batch` and a /messages token are the same
 * kind of value). Backwards ("b") returns pos < from, newest first, stopping at pos >= to;
 * forwards ("f") returns pos >= from, oldest first, stopping at pos < to.
 */
export interface EventRange {
  dir: "b" | "f";
  /** Null = from the newest (b) or the oldest (f) event. */
  from: StreamPos | null;
  /** Null = no bound. */
  to: StreamPos | null;
  limit: number;
}

export interface EventStore {
  /**
   * Persists one event with everything it changes (room row for a create event, current
   * state, membership, summary, relation index, txn id, redaction of its target) in one
   * transaction at one new position, and returns that position. The caller holds the
   * room's lock, has authorised the event and checked the txn id.
   */
  persist(event: NewEvent, nowTs: number): Promise<StreamPos>;
  get(eventId: string): Promise<EventRow | null>;
  /** The event id stored for this (user, device, txn id), if the request was seen before. */
  byTxn(userId: UserId, deviceId: DeviceId, txnId: string): Promise<string | null>;
  /** The reverse: which of these events this device sent, with its txn id (sync's `unsigned.transaction_id`). */
  txnIdsOf(userId: UserId, deviceId: DeviceId, eventIds: readonly string[]): Promise<Map<string, string>>;
  /** A page of a room's events in position order (descending for dir "b"). */
  inRoom(roomId: string, range: EventRange): Promise<EventRow[]>;
  /** The room's full state just after position `pos` (state events at positions <= pos). */
  stateAt(roomId: string, pos: StreamPos): Promise<EventRow[]>;
  /** One state entry just after position `pos`, or null. */
  stateEntryAt(roomId: string, type: string, stateKey: string, pos: StreamPos): Promise<EventRow | null>;
  /** Events in the same room relating to `eventId` (optionally of one rel_type), paged like inRoom. */
  relations(eventId: string, relType: string | null, range: EventRange): Promise<EventRow[]>;
  /** Every state event ever sent for (type, state_key) in the room, oldest first. */
  stateHistory(roomId: string, type: string, stateKey: string): Promise<EventRow[]>;
  /** The event closest to `ts` in the room: at or after it (dir "f") or at or before it (dir "b"). */
  closestByTimestamp(roomId: string, ts: number, dir: "b" | "f"): Promise<EventRow | null>;
}

export interface RoomStore {
  get(roomId: string): Promise<RoomRow | null>;
  currentState(roomId: string): Promise<EventRow[]>;
  currentStateEvent(roomId: string, type: string, stateKey: string): Promise<EventRow | null>;
  membership(roomId: string, userId: UserId): Promise<MembershipRow | null>;
  /** The user's current membership in every room they have one in, optionally only some kinds. */
  roomsOfUser(userId: UserId, memberships?: readonly string[]): Promise<MembershipRow[]>;
  /** Every current join, invite and knock on the server (the notifier loads these at start-up). */
  activeMemberships(): Promise<MembershipRow[]>;
  /** Current members of a room, optionally only some memberships. */
  members(roomId: string, memberships?: readonly string[]): Promise<MembershipRow[]>;
  /**
   * Those of `others` who are joined to a room `userId` is joined to. Costs what the
   * candidates' memberships cost, not what the user's do (an account in 10,000 rooms asks
   * this on incremental syncs).
   */
  sharingJoinedRoom(userId: UserId, others: readonly UserId[]): Promise<Set<UserId>>;
  /** Current membership rows of a room that changed after `after` (their pos > after), oldest first. */
  membersChangedAfter(roomId: string, after: StreamPos): Promise<MembershipRow[]>;
  summary(roomId: string): Promise<RoomSummaryRow | null>;
  setVisibility(roomId: string, visibility: "public" | "private"): Promise<boolean>;
  /**
   * Rooms listed in the public directory, most joined members first; `offset` pages and
   * `total` counts every match. Listed = published, with a joined member, and joinable or
   * readable (join rule public, knock or knock_restricted, or history world_readable), as
   * Synapse lists them. `search` matches name, topic or canonical alias, ignoring ASCII case;
   * `roomTypes` keeps rooms of those types (null in it = rooms without a type;
   * null or empty = every room).
   */
  publicRooms(opts: { limit: number; offset: number; search: string | null; roomTypes: readonly (string | null)[] | null }): Promise<{ rooms: RoomSummaryRow[]; total: number }>;
  /** Forgets the room for the user: they must have left it. False if they had no membership. */
  forget(roomId: string, userId: UserId): Promise<boolean>;
  isForgotten(roomId: string, userId: UserId): Promise<boolean>;
}

export interface AliasStore {
  /** False if the alias already exists. */
  create(alias: AliasRow): Promise<boolean>;
  get(alias: string): Promise<AliasRow | null>;
  delete(alias: string): Promise<boolean>;
  forRoom(roomId: string): Promise<string[]>;
}

export interface AccountDataStore {
  /**
   * Sets one entry (roomId null = global) and records an "account_data" change for the user
   * (a room entry names the room in the log but wakes only the user). Setting the global
   * `m.direct` also replaces the user's set of DM rooms (every room id listed in it) in the
   * same transaction, so `isDm`/`dmRooms` always agree with the stored m.direct.
   */
  put(userId: UserId, roomId: string | null, type: string, content: Record<string, unknown>): Promise<StreamPos>;
  get(userId: UserId, roomId: string | null, type: string): Promise<AccountDataRow | null>;
  /** Entries (global and per room) whose last change is in (after, upto]; all of them when after is null. */
  changed(userId: UserId, after: StreamPos | null, upto: StreamPos): Promise<AccountDataRow[]>;
  /** Whether the room is listed in the user's m.direct (the DM flag sliding sync filters on). */
  isDm(userId: UserId, roomId: string): Promise<boolean>;
  /** Every room the user's m.direct lists, sorted. */
  dmRooms(userId: UserId): Promise<string[]>;
}

export interface ReceiptStore {
  /**
   * Stores a receipt unless the user already has one of that kind (and thread) for the same
   * or a later event; records a "receipt" change for the room (an m.read.private one wakes
   * only its owner). Null when it was not newer.
   */
  put(receipt: Omit<ReceiptRow, "pos">): Promise<StreamPos | null>;
  /** The room's receipts changed in (after, upto] (all current ones when after is null). */
  changedInRoom(roomId: string, after: StreamPos | null, upto: StreamPos): Promise<ReceiptRow[]>;
  /** The user's receipts in a room (every kind and thread). */
  ofUser(userId: UserId, roomId: string): Promise<ReceiptRow[]>;
}

export interface PresenceStore {
  /** Replaces the user's presence and records a "presence" change. */
  put(row: Omit<PresenceRow, "pos">): Promise<StreamPos>;
  get(userId: UserId): Promise<PresenceRow | null>;
  /** Presence rows changed in (after, upto] for these users. */
  changed(userIds: readonly UserId[], after: StreamPos | null, upto: StreamPos): Promise<PresenceRow[]>;
  /** Users still "online" whose last activity is before `lastActiveBefore` (idle candidates), oldest first. */
  onlineInactiveSince(lastActiveBefore: number, limit: number): Promise<PresenceRow[]>;
}

export interface ToDeviceStore {
  /**
   * Queues messages, in one transaction: `"*"` expands to every current device of the user,
   * a message for a device that does not exist is dropped, and an explicit device id wins
   * over `"*"` for that device. One position for the whole request and one "to_device"
   * change naming the recipients, taken only when something was queued. Idempotent per
   * (sender, sender device, txnId): a repeat queues nothing and answers `duplicate`.
   */
  send(sender: { userId: UserId; deviceId: DeviceId }, txnId: string, messages: readonly ToDeviceMessage[]): Promise<ToDeviceSendResult>;
  /** Messages for a device with pos <= upto, oldest first, at most `limit`. */
  pending(userId: UserId, deviceId: DeviceId, upto: StreamPos, limit: number): Promise<ToDeviceRow[]>;
  /** Deletes the device's messages with pos <= upto (the client confirmed them). Returns how many. */
  acknowledge(userId: UserId, deviceId: DeviceId, upto: StreamPos): Promise<number>;
}

export interface ToDeviceSendResult {
  /** The request was seen before (same sender device and txn id): nothing was queued. */
  duplicate: boolean;
  /** Position of the queued messages; null when nothing was queued. */
  pos: StreamPos | null;
  /** Number of (user, device) messages queued. */
  delivered: number;
}

export interface PushStore {
  /** The user's stored rule document (custom rules + changes to defaults), or null. */
  rules(userId: UserId): Promise<Record<string, unknown> | null>;
  /** Replaces the document and records a "push_rules" change for the user. */
  putRules(userId: UserId, rules: Record<string, unknown>): Promise<StreamPos>;
  /**
   * Notification and highlight counts in a room for events after position `after`
   * (the user's read receipt) — and, for a thread in `threadAfter`, after its bound when that
   * is further along — up to position `upto` when given, per thread ("main" and thread roots).
   */
  counts(
    userId: UserId,
    roomId: string,
    after: StreamPos,
    threadAfter?: ReadonlyMap<string, StreamPos>,
    upto?: StreamPos,
  ): Promise<{ threadId: string; notify: number; highlight: number }[]>;
  /** GET /notifications: the user's notifying events, newest first, before `beforePos`. */
  notifications(userId: UserId, beforePos: StreamPos | null, limit: number, onlyHighlight: boolean): Promise<PushActionRow[]>;
  pushers(userId: UserId): Promise<PusherRow[]>;
  /** Adds or replaces a pusher (by app id and pushkey); `append` false removes the pushkey for other users. */
  setPusher(row: PusherRow, append: boolean): Promise<void>;
  deletePusher(userId: UserId, appId: string, pushkey: string): Promise<boolean>;
}

export interface KeyStore {
  /**
   * Stores a device's signed keys, replacing earlier ones. Only when they differ from what
   * was stored (as canonical JSON) is a "device_list" change recorded and true returned.
   */
  putDeviceKeys(userId: UserId, deviceId: DeviceId, keys: Record<string, unknown>): Promise<boolean>;
  /** Keys of the user's devices that still exist (only `deviceIds`, when given and non-empty), by device id. */
  deviceKeys(userId: UserId, deviceIds?: readonly DeviceId[]): Promise<{ deviceId: DeviceId; keys: Record<string, unknown> }[]>;
  /**
   * Adds one-time keys in one transaction. A key already stored under its (algorithm, key id)
   * with the same content is skipped; one stored with different content is a conflict, and
   * then nothing is written. Returns the conflicting `algorithm:keyId`s (empty = all added).
   */
  addOneTimeKeys(userId: UserId, deviceId: DeviceId, keys: { algorithm: string; keyId: string; key: unknown }[]): Promise<string[]>;
  /**
   * Replaces the fallback key of each algorithm given and marks it unused; the key already
   * stored (same id and content) uploaded again keeps its used flag.
   */
  setFallbackKeys(userId: UserId, deviceId: DeviceId, keys: { algorithm: string; keyId: string; key: unknown }[]): Promise<void>;
  /** Unclaimed one-time keys per algorithm; algorithms without keys are absent. */
  oneTimeKeyCounts(userId: UserId, deviceId: DeviceId): Promise<Record<string, number>>;
  /** Algorithms whose fallback key has not been claimed since it was uploaded, sorted. */
  unusedFallbackKeyTypes(userId: UserId, deviceId: DeviceId): Promise<string[]>;
  /** Both of the above in one read (every /sync sends them). */
  deviceKeyCounts(userId: UserId, deviceId: DeviceId): Promise<DeviceKeyCounts>;
  /**
   * Takes the oldest-uploaded one-time key of the algorithm (it is deleted: never handed out
   * twice), else the fallback key (kept, marked used). Null if neither exists.
   * Deleting a device deletes its keys of every kind.
   */
  claim(userId: UserId, deviceId: DeviceId, algorithm: string): Promise<{ keyId: string; key: unknown } | null>;
}
