/**
 * AccountData: a user's private JSON documents, global or per room, keyed by type
 * (GET|PUT /user/{userId}/account_data/{type}, /user/{userId}/rooms/{roomId}/account_data/{type}).
 * In:  the requester; the path's user id, which must be the requester's own (403 M_FORBIDDEN
 *      otherwise, for reads too); a room id that must be well-formed (400 M_INVALID_PARAM) but
 *      need not exist or be joined, as in Synapse; a type; a JSON object.
 * Out: the stored content, or 404 M_NOT_FOUND. Clients may not PUT m.fully_read (that is
 *      /read_markers) or m.push_rules (that is /pushrules): 405 M_BAD_JSON, as the spec and
 *      Synapse say. A global m.ignored_user_list naming the user themselves is 400
 *      M_INVALID_PARAM (Synapse: "You cannot ignore yourself"). GET of the global
 *      m.push_rules answers the push rules when a reader for them is given (Synapse does);
 *      GET of a room's m.push_rules is `{}` (Synapse: no per-room rules).
 * Every write is one storage call that takes a position ("account_data" in stream_log); a
 * global m.direct also rewrites the user's DM room set in that transaction (isDm, dmRooms).
 * `modify` is the read-modify-write path of server-side writers (tags, the fully-read
 * marker): updates of one entry are serialised so concurrent requests never lose one.
 */
import { ForbiddenError, InvalidParamError, NotFoundError, ServerControlledError } from "../errors/matrix-error.js";
import { parseRoomId, type UserId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import { IGNORED_USER_LIST, ignoredUserIds } from "../rooms/ignored-users.js";
import type { Storage } from "../storage/storage.js";
import type { StreamPos } from "../streams/position.js";
import { KeyedMutex } from "../util/keyed-mutex.js";

/** Types only the server writes (spec: "controlled by the server"). */
const SERVER_CONTROLLED: ReadonlySet<string> = new Set(["m.fully_read", "m.push_rules"]);
const MAX_TYPE_BYTES = 255;

export type AccountDataContent = Record<string, unknown>;

export interface AccountDataOptions {
  /** The user's push rules as GET /pushrules/ answers them (for GET …/account_data/m.push_rules). */
  readPushRules?: (userId: UserId) => Promise<AccountDataContent>;
}

export class AccountData {
  private readonly locks = new KeyedMutex();

  constructor(private readonly storage: Storage, private readonly opts: AccountDataOptions = {}) {}

  /** GET: the content of one entry (roomId null = global). */
  async get(requester: Requester, pathUserId: string, pathRoomId: string | null, type: string): Promise<AccountDataContent> {
    const userId = this.ownUser(requester, pathUserId, "get");
    const roomId = pathRoomId === null ? null : parseRoomId(pathRoomId);
    checkType(type);
    if (type === "m.push_rules") {
      if (roomId !== null) return {};
      if (this.opts.readPushRules) return this.opts.readPushRules(userId);
    }
    const row = await this.storage.accountData.get(userId, roomId, type);
    if (!row) throw new NotFoundError(roomId === null ? "Account data not found" : "Room account data not found");
    return row.content;
  }

  /** PUT: replaces one entry (roomId null = global). */
  async put(requester: Requester, pathUserId: string, pathRoomId: string | null, type: string, content: AccountDataContent): Promise<void> {
    const userId = this.ownUser(requester, pathUserId, "add");
    const roomId = pathRoomId === null ? null : parseRoomId(pathRoomId);
    checkType(type);
    if (SERVER_CONTROLLED.has(type)) {
      const instead = type === "m.fully_read" ? "/rooms/{roomId}/read_markers" : "/pushrules";
      throw new ServerControlledError(`Cannot set ${type} through this API; use ${instead}`);
    }
    if (roomId === null && type === IGNORED_USER_LIST && ignoredUserIds(content).includes(userId)) throw new InvalidParamError("You cannot ignore yourself");
    await this.locks.run(lockKey(userId, roomId, type), () => this.storage.accountData.put(userId, roomId, type, content));
  }

  /**
   * Server-side read-modify-write of one entry: `change` sees the current content (null when
   * unset) and returns the new content, or null to leave it alone. Calls for the same entry
   * run one at a time. Returns the position taken, or null when nothing was written.
   */
  async modify(
    userId: UserId,
    roomId: string | null,
    type: string,
    change: (current: AccountDataContent | null) => AccountDataContent | null | Promise<AccountDataContent | null>,
  ): Promise<StreamPos | null> {
    return this.locks.run(lockKey(userId, roomId, type), async () => {
      const row = await this.storage.accountData.get(userId, roomId, type);
      const next = await change(row ? row.content : null);
      return next === null ? null : this.storage.accountData.put(userId, roomId, type, next);
    });
  }

  /** Whether the user's m.direct lists the room (sliding sync's is_dm). */
  isDm(userId: UserId, roomId: string): Promise<boolean> {
    return this.storage.accountData.isDm(userId, roomId);
  }

  /** Every room the user's m.direct lists. */
  dmRooms(userId: UserId): Promise<string[]> {
    return this.storage.accountData.dmRooms(userId);
  }

  /** The path's user must be the requester (Synapse compares the strings). */
  ownUser(requester: Requester, pathUserId: string, verb: string): UserId {
    if (pathUserId !== requester.userId) throw new ForbiddenError(`Cannot ${verb} account data for other users.`);
    return requester.userId;
  }
}

function checkType(type: string): void {
  if (type.length === 0 || Buffer.byteLength(type, "utf8") > MAX_TYPE_BYTES) throw new InvalidParamError("Invalid account data type");
}

function lockKey(userId: UserId, roomId: string | null, type: string): string {
  return JSON.stringify([userId, roomId, type]);
}
