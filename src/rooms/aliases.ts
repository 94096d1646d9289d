/**
 * Room aliases as use cases (spec client-server "Room aliases"; Synapse's DirectoryHandler
 * is the behaviour we match): resolve an alias, create one, delete one, list a room's.
 * In:  the caller ({ userId, isAdmin }) and an alias exactly as the client sent it.
 * Out: plain results; throws InvalidParamError (malformed, or not on this server),
 *      NotFoundError, ForbiddenError, ConflictError (409: the alias exists), UnknownError
 *      (400: PUT names a room this server does not know, as Synapse answers).
 * Only this server's aliases exist here: a remote alias resolves to 404 (no federation).
 * Deleting an alias also removes it from the room's m.room.canonical_alias when the
 * deleter may send that event (the spec's recommendation; Synapse does the same).
 */
import {
  ConflictError,
  ForbiddenError,
  InvalidParamError,
  NotFoundError,
  UnknownError,
} from "../errors/matrix-error.js";
import { parseServerName, type ServerName } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import { mayChangeRoomList, type Actor } from "./directory.js";
import type { EventWriter } from "./event-writer.js";

/** Spec appendix "Room aliases": at most 255 bytes including the `#` sigil and the domain. */
export const MAX_ALIAS_BYTES = 255;

export interface RoomAlias {
  alias: string;
  localpart: string;
  serverName: ServerName;
}

/** `#localpart:server`; Synapse also refuses whitespace in the localpart. */
export function parseRoomAlias(s: string): RoomAlias {
  const colon = s.indexOf(":");
  if (!s.startsWith("#") || colon < 2) throw new InvalidParamError("Room alias invalid");
  const localpart = s.slice(1, colon);
  // eslint-disable-next-line no-control-regex -- NUL is exactly what the grammar forbids
  if (/[\s\x00]/u.test(localpart)) throw new InvalidParamError("Room alias may not contain whitespace or NUL");
  if (Buffer.byteLength(s, "utf8") > MAX_ALIAS_BYTES) throw new InvalidParamError(`Room aliases may not be longer than ${MAX_ALIAS_BYTES} bytes`);
  let serverName: ServerName;
  try {
    serverName = parseServerName(s.slice(colon + 1));
  } catch {
    throw new InvalidParamError("Room alias invalid");
  }
  return { alias: s, localpart, serverName };
}

export interface AliasTarget {
  roomId: string;
  /** Servers that can be asked to join the room: this one first. */
  servers: ServerName[];
}

export class RoomAliases {
  constructor(
    private readonly storage: Storage,
    private readonly writer: EventWriter,
    private readonly serverName: ServerName,
  ) {}

  async resolve(aliasText: string): Promise<AliasTarget> {
    const alias = parseRoomAlias(aliasText);
    const row = alias.serverName === this.serverName ? await this.storage.aliases.get(alias.alias) : null;
    if (!row) throw new NotFoundError(`Room alias ${alias.alias} not found`);
    return { roomId: row.roomId, servers: await this.serversIn(row.roomId) };
  }

  /** Synapse (require_membership_for_aliases, on by default): any joined member, or an admin. */
  async create(actor: Actor, aliasText: string, roomId: string): Promise<void> {
    const alias = this.localAlias(aliasText);
    if (!(await this.storage.rooms.get(roomId))) throw new UnknownError("Room does not exist");
    if (!actor.isAdmin) {
      const membership = await this.storage.rooms.membership(roomId, actor.userId);
      if (membership?.membership !== "join") throw new ForbiddenError("You must be in the room to create an alias for it");
    }
    if (!(await this.storage.aliases.create({ alias: alias.alias, roomId, creator: actor.userId }))) {
      throw new ConflictError(`Room alias ${alias.alias} already exists`);
    }
  }

  /** Allowed for the alias's creator, a server admin, or whoever may change the room list. */
  async delete(actor: Actor, aliasText: string): Promise<void> {
    const alias = parseRoomAlias(aliasText);
    const row = alias.serverName === this.serverName ? await this.storage.aliases.get(alias.alias) : null;
    if (!row) throw new NotFoundError("Unknown room alias");
    if (row.creator !== actor.userId && !(await mayChangeRoomList(this.storage, row.roomId, actor))) {
      throw new ForbiddenError("You don't have permission to delete the alias");
    }
    // Someone else may have deleted it since we looked.
    if (!(await this.storage.aliases.delete(alias.alias))) throw new NotFoundError("Unknown room alias");
    await this.dropFromCanonicalAlias(actor, row.roomId, alias.alias);
  }

  /** GET /rooms/{roomId}/aliases: joined members, anyone when world-readable, and admins. */
  async forRoom(actor: Actor, roomId: string): Promise<string[]> {
    if (!actor.isAdmin) {
      const membership = await this.storage.rooms.membership(roomId, actor.userId);
      if (membership?.membership !== "join") {
        const visibility = await this.storage.rooms.currentStateEvent(roomId, "m.room.history_visibility", "");
        if (visibility?.pdu.content.history_visibility !== "world_readable") throw new ForbiddenError("You are not a member of the room");
      }
    }
    return this.storage.aliases.forRoom(roomId);
  }

  private localAlias(aliasText: string): RoomAlias {
    const alias = parseRoomAlias(aliasText);
    if (alias.serverName !== this.serverName) throw new InvalidParamError(`Room alias must be on this server (${this.serverName})`);
    return alias;
  }

  /** This server first, then the servers of the other joined members. */
  private async serversIn(roomId: string): Promise<ServerName[]> {
    const others = new Set<string>();
    for (const m of await this.storage.rooms.members(roomId, ["join"])) others.add(m.userId.slice(m.userId.indexOf(":") + 1));
    others.delete(this.serverName);
    return [this.serverName, ...([...others].sort() as ServerName[])];
  }

  /**
   * Removes the deleted alias from `alias` and `alt_aliases` of m.room.canonical_alias. The
   * alias is gone either way: when the deleter may not send the event, the room keeps
   * advertising it (Synapse logs and carries on too).
   */
  private async dropFromCanonicalAlias(actor: Actor, roomId: string, alias: string): Promise<void> {
    const current = await this.storage.rooms.currentStateEvent(roomId, "m.room.canonical_alias", "");
    if (!current) return;
    const content: Record<string, unknown> = { ...current.pdu.content };
    let changed = false;
    if (content.alias === alias) {
      delete content.alias;
      changed = true;
    }
    const alt = content.alt_aliases;
    if (Array.isArray(alt) && alt.includes(alias)) {
      const rest = alt.filter((a) => a !== alias);
      if (rest.length > 0) content.alt_aliases = rest;
      else delete content.alt_aliases;
      changed = true;
    }
    if (!changed) return;
    try {
      await this.writer.send({ roomId, sender: actor.userId, type: "m.room.canonical_alias", stateKey: "", content });
    } catch (err) {
      if (!(err instanceof ForbiddenError)) throw err;
    }
  }
}
