/**
 * Whose device lists a user must refetch, between two positions: GET /keys/changes and, later,
 * `device_lists` in /sync.
 * In:  the user and the positions (after, upto]: changes at `after` were seen, those up to
 *      `upto` (at most the retired frontier) are to be reported.
 * Out: `changed`: users sharing a room with the user at `upto` whose device list changed in
 *      the range (the user included), plus users who share a room at `upto` but did not at
 *      `after`; `left`: users who shared a room at `after` and share none at `upto`.
 * "Sharing a room" = both joined, as the spec's /keys/changes text says. Every room counts,
 * encrypted or not (Synapse does the same).
 * Cost: one pass over the members of every room the user was joined to at either end, plus
 * one state look-up per membership that changed after `after`. Read-only.
 */
import type { UserId } from "../events/ids.js";
import type { MembershipRow } from "../storage/rows.js";
import type { Storage } from "../storage/storage.js";
import type { StreamPos } from "../streams/position.js";

export interface DeviceListChanges {
  changed: UserId[];
  left: UserId[];
}

/** Log rows read per storage call while scanning the range. */
const LOG_PAGE = 5000;

export async function deviceListChanges(storage: Storage, userId: UserId, after: StreamPos, upto: StreamPos): Promise<DeviceListChanges> {
  if (upto <= after) return { changed: [], left: [] };
  const [devicesChanged, shared] = await Promise.all([usersWithDeviceChanges(storage, after, upto), sharedRooms(storage, userId, after, upto)]);
  const changed = new Set<UserId>();
  for (const u of devicesChanged) if (u === userId || shared.atUpto.has(u)) changed.add(u);
  for (const u of shared.atUpto) if (!shared.atAfter.has(u)) changed.add(u);
  const left = [...shared.atAfter].filter((u) => !shared.atUpto.has(u));
  return { changed: [...changed].sort(), left: left.sort() };
}

/** Users with a "device_list" row in (after, upto]. */
async function usersWithDeviceChanges(storage: Storage, after: StreamPos, upto: StreamPos): Promise<Set<UserId>> {
  const users = new Set<UserId>();
  let cursor = after;
  for (;;) {
    const rows = await storage.streams.read(cursor, upto, LOG_PAGE);
    for (const r of rows) if (r.kind === "device_list" && r.userId !== null) users.add(r.userId);
    if (rows.length < LOG_PAGE) return users;
    cursor = rows[rows.length - 1]!.pos;
  }
}

/** The other users joined to a room the user was joined to, at `after` and at `upto`. */
async function sharedRooms(storage: Storage, userId: UserId, after: StreamPos, upto: StreamPos): Promise<{ atAfter: Set<UserId>; atUpto: Set<UserId> }> {
  const atAfter = new Set<UserId>();
  const atUpto = new Set<UserId>();
  for (const mine of await storage.rooms.roomsOfUser(userId)) {
    const joinedAtAfter = (await membershipAt(storage, mine, after)) === "join";
    const joinedAtUpto = (await membershipAt(storage, mine, upto)) === "join";
    if (!joinedAtAfter && !joinedAtUpto) continue;
    for (const other of await storage.rooms.members(mine.roomId)) {
      if (other.userId === userId) continue;
      if (joinedAtAfter && (await membershipAt(storage, other, after)) === "join") atAfter.add(other.userId);
      if (joinedAtUpto && (await membershipAt(storage, other, upto)) === "join") atUpto.add(other.userId);
    }
  }
  return { atAfter, atUpto };
}

/**
 * The membership just after position `pos`, from the current row when it is not newer than
 * `pos` (the common case, no look-up), otherwise from the room's state history.
 */
async function membershipAt(storage: Storage, current: MembershipRow, pos: StreamPos): Promise<string | null> {
  if (current.pos <= pos) return current.membership;
  const event = await storage.events.stateEntryAt(current.roomId, "m.room.member", current.userId, pos);
  const membership = event?.pdu.content.membership;
  return typeof membership === "string" ? membership : null;
}
