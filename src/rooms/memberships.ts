/**
 * Membership changes as use cases: join, leave, invite, kick, ban, unban, knock, forget.
 * Each is one m.room.member event through the EventWriter; the auth rules decide whether it
 * is allowed (invite-only rooms, bans, power levels). This module only checks what the
 * rules cannot know: that a target user exists here, that aliases resolve, and forgetting.
 */
import { isDeepStrictEqual } from "node:util";
import { BadStateError, ForbiddenError, NotFoundError } from "../errors/matrix-error.js";
import { parseRoomId, userIdParts, type ServerName, type UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { EventWriter, Written } from "./event-writer.js";

export class Memberships {
  constructor(private readonly storage: Storage, private readonly writer: EventWriter, private readonly serverName: ServerName) {}

  /** Resolves `!room:server` or `#alias:server` to a room id this server knows (404 otherwise). */
  async resolveRoom(roomIdOrAlias: string): Promise<string> {
    if (roomIdOrAlias.startsWith("#")) {
      const alias = await this.storage.aliases.get(roomIdOrAlias);
      if (!alias) throw new NotFoundError("Room alias not found");
      return alias.roomId;
    }
    // A malformed id is the client's mistake (400 M_INVALID_PARAM); a well-formed unknown one is 404.
    const roomId = parseRoomId(roomIdOrAlias);
    if (!(await this.storage.rooms.get(roomId))) throw new NotFoundError("Unknown room");
    return roomId;
  }

  async join(userId: UserId, roomId: string, reason?: string): Promise<Written> {
    return this.send(userId, roomId, userId, await this.memberContent("join", userId, reason));
  }

  async knock(userId: UserId, roomId: string, reason?: string): Promise<Written> {
    return this.send(userId, roomId, userId, await this.memberContent("knock", userId, reason));
  }

  async leave(userId: UserId, roomId: string, reason?: string): Promise<Written> {
    return this.send(userId, roomId, userId, withReason({ membership: "leave" }, reason));
  }

  async invite(sender: UserId, roomId: string, target: UserId, opts: { reason?: string; isDirect?: boolean } = {}): Promise<Written> {
    await this.requireLocalUser(target);
    const content = await this.memberContent("invite", target, opts.reason);
    if (opts.isDirect) content.is_direct = true;
    return this.send(sender, roomId, target, content);
  }

  async kick(sender: UserId, roomId: string, target: UserId, reason?: string): Promise<Written> {
    const current = await this.storage.rooms.membership(roomId, target);
    if (!current || (current.membership !== "join" && current.membership !== "invite" && current.membership !== "knock")) {
      throw new ForbiddenError("The user is not in the room");
    }
    return this.send(sender, roomId, target, withReason({ membership: "leave" }, reason));
  }

  async ban(sender: UserId, roomId: string, target: UserId, reason?: string): Promise<Written> {
    return this.send(sender, roomId, target, withReason({ membership: "ban" }, reason));
  }

  async unban(sender: UserId, roomId: string, target: UserId, reason?: string): Promise<Written> {
    const current = await this.storage.rooms.membership(roomId, target);
    if (current?.membership !== "ban") throw new ForbiddenError("The user is not banned");
    return this.send(sender, roomId, target, withReason({ membership: "leave" }, reason));
  }

  /** POST /forget: only once the user has left or been banned (Synapse answers 400 otherwise). */
  async forget(userId: UserId, roomId: string): Promise<void> {
    const current = await this.storage.rooms.membership(roomId, userId);
    if (!current) throw new NotFoundError("You have never been in this room");
    if (current.membership === "join" || current.membership === "invite" || current.membership === "knock") {
      throw new BadStateError("You must leave the room before forgetting it");
    }
    await this.storage.rooms.forget(roomId, userId);
  }

  /**
   * Writes `target`'s m.room.member event, unless it would repeat the current one (same
   * sender, same content): then nothing is written and the current event is the answer, as
   * Synapse does, so a client that calls /join on a room it is in adds no duplicate event.
   */
  private async send(sender: UserId, roomId: string, target: UserId, content: Record<string, unknown>): Promise<Written> {
    const current = await this.storage.rooms.currentStateEvent(roomId, "m.room.member", target);
    if (current && current.pdu.sender === sender && isDeepStrictEqual(current.pdu.content, content)) return { eventId: current.eventId, pos: null };
    return this.writer.send({ roomId, sender, type: "m.room.member", stateKey: target, content });
  }

  private async memberContent(membership: string, userId: UserId, reason?: string): Promise<Record<string, unknown>> {
    const user = await this.storage.accounts.getUser(userId);
    const content: Record<string, unknown> = { membership };
    if (user?.displayname) content.displayname = user.displayname;
    if (user?.avatarUrl) content.avatar_url = user.avatarUrl;
    return withReason(content, reason);
  }

  /** Refuses an invitee who is not a live local account: 403 for a remote user, 404 for an unknown one. */
  async requireLocalUser(userId: UserId): Promise<void> {
    if (userIdParts(userId).serverName !== this.serverName) throw new ForbiddenError("Federation is not supported yet: only local users can be invited");
    const user = await this.storage.accounts.getUser(userId);
    if (!user || user.deactivated) throw new NotFoundError("Unknown user");
  }
}

function withReason(content: Record<string, unknown>, reason: string | undefined): Record<string, unknown> {
  return reason !== undefined ? { ...content, reason } : content;
}
