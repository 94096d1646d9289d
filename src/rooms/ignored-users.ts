/**
 * IgnoredUsers: whom a user ignores (spec client-server "Ignoring Users"), read from their
 * global `m.ignored_user_list` account data (`{"ignored_users": {"@u:hs": {}}}`).
 * As in Synapse (synapse/visibility.py `_check_filter_send_to_client`), what is withheld
 * from the ignoring user is every *non-state* event an ignored user sent: state events still
 * reach them, so their view of the room's state stays whole. Sync also drops invites sent by
 * ignored users (room-plan.ts). Typing, receipts, presence and to-device messages from
 * ignored users are not filtered (Synapse does not filter them either).
 * Malformed content (ignored_users not an object) ignores no one, as in Synapse; a user
 * never ignores themselves (Synapse refuses to store that; see userdata/account-data.ts).
 * Read once per request: one point look-up, no denormalised table.
 */
import type { UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";

export const IGNORED_USER_LIST = "m.ignored_user_list";

/** The user ids an `m.ignored_user_list` content names; none when it is malformed. */
export function ignoredUserIds(content: Readonly<Record<string, unknown>> | null | undefined): string[] {
  const map = content?.ignored_users;
  if (typeof map !== "object" || map === null || Array.isArray(map)) return [];
  return Object.keys(map);
}

export class IgnoredUsers {
  static readonly NONE = new IgnoredUsers(new Set());

  private constructor(private readonly users: ReadonlySet<string>) {}

  /** The ignore list of `userId` as stored now. */
  static async load(storage: Storage, userId: UserId): Promise<IgnoredUsers> {
    const row = await storage.accountData.get(userId, null, IGNORED_USER_LIST);
    const users = new Set(ignoredUserIds(row?.content));
    users.delete(userId);
    return users.size === 0 ? IgnoredUsers.NONE : new IgnoredUsers(users);
  }

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  /** Is this event withheld from the ignoring user: a non-state event from someone they ignore? */
  hides(pdu: { readonly sender: string; readonly state_key?: string | undefined }): boolean {
    return pdu.state_key === undefined && this.users.has(pdu.sender);
  }
}
