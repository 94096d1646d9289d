/**
 * RoomTags: a user's tags on a room (GET /user/{userId}/rooms/{roomId}/tags,
 * PUT|DELETE /user/{userId}/rooms/{roomId}/tags/{tag}), kept as the room account data
 * `m.tag` ({"tags": {tag: {order?}}}) so sync delivers them like any account data.
 * In:  the requester (only their own tags: 403), a well-formed room id (400), a tag of at
 *      most 255 bytes (400 M_INVALID_PARAM, as Synapse), the tag's content: a JSON object whose
 *      `order`, when present, is a number in [0, 1] (the spec's range; 400 M_BAD_JSON).
 * Out: PUT needs some membership in the room, current or past (403 otherwise, as Synapse:
 *      tagging unknown rooms is pointless data); DELETE of an absent tag is a no-op; GET
 *      answers `{}` for an untagged room. Each change is one write of m.tag, serialised per
 *      entry by AccountData.modify so that concurrent tag edits never lose one.
 */
import { BadJsonError, ForbiddenError, InvalidParamError } from "../errors/matrix-error.js";
import { parseRoomId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import type { Storage } from "../storage/storage.js";
import type { AccountData, AccountDataContent } from "./account-data.js";

export const TAG_TYPE = "m.tag";
const MAX_TAG_BYTES = 255;

export type TagMap = Record<string, AccountDataContent>;

export class RoomTags {
  constructor(private readonly storage: Storage, private readonly accountData: AccountData) {}

  async list(requester: Requester, pathUserId: string, pathRoomId: string): Promise<TagMap> {
    const userId = this.ownUser(requester, pathUserId, "get");
    const row = await this.storage.accountData.get(userId, parseRoomId(pathRoomId), TAG_TYPE);
    return tagsOf(row ? row.content : null);
  }

  async add(requester: Requester, pathUserId: string, pathRoomId: string, tag: string, content: AccountDataContent): Promise<void> {
    const userId = this.ownUser(requester, pathUserId, "add");
    const roomId = parseRoomId(pathRoomId);
    checkTag(tag);
    checkOrder(content);
    if (!(await this.storage.rooms.membership(roomId, userId))) throw new ForbiddenError(`User ${userId} has no membership in room ${roomId}`);
    await this.accountData.modify(userId, roomId, TAG_TYPE, (current) => ({ ...current, tags: { ...tagsOf(current), [tag]: content } }));
  }

  async remove(requester: Requester, pathUserId: string, pathRoomId: string, tag: string): Promise<void> {
    const userId = this.ownUser(requester, pathUserId, "remove");
    const roomId = parseRoomId(pathRoomId);
    await this.accountData.modify(userId, roomId, TAG_TYPE, (current) => {
      const tags = tagsOf(current);
      if (!Object.hasOwn(tags, tag)) return null;
      delete tags[tag];
      return { ...current, tags };
    });
  }

  private ownUser(requester: Requester, pathUserId: string, verb: string) {
    if (pathUserId !== requester.userId) throw new ForbiddenError(`Cannot ${verb} tags for other users.`);
    return requester.userId;
  }
}

/** The tag map of an m.tag content (entries that are not objects are dropped), as a fresh object. */
export function tagsOf(content: AccountDataContent | null): TagMap {
  const tags = content?.tags;
  if (typeof tags !== "object" || tags === null || Array.isArray(tags)) return {};
  // fromEntries defines own properties, so a tag named "__proto__" stays an ordinary tag.
  return Object.fromEntries(Object.entries(tags as Record<string, unknown>).filter((e): e is [string, AccountDataContent] => isObject(e[1])));
}

function isObject(v: unknown): v is AccountDataContent {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkTag(tag: string): void {
  if (tag.length === 0) throw new InvalidParamError("tag must not be empty");
  if (Buffer.byteLength(tag, "utf8") > MAX_TAG_BYTES) throw new InvalidParamError("tag parameter's length is over 255 bytes");
}

function checkOrder(content: AccountDataContent): void {
  if (!("order" in content)) return;
  const order = content.order;
  if (typeof order !== "number" || !Number.isFinite(order) || order < 0 || order > 1) {
    throw new BadJsonError("order must be a number between 0 and 1");
  }
}
