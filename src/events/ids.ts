/**
 * Branded Matrix identifiers and their parsers (the only way to make one).
 * Grammar: spec appendix "Identifier Grammar". Parse errors are Matrix errors because ids
 * arrive from clients; callers that read trusted storage may cast instead.
 */
import { randomInt } from "node:crypto";
import { InvalidParamError, InvalidUsernameError } from "../errors/matrix-error.js";

export type ServerName = string & { readonly __brand: "ServerName" };
export type UserId = string & { readonly __brand: "UserId" };
export type DeviceId = string & { readonly __brand: "DeviceId" };
export type RoomId = string & { readonly __brand: "RoomId" };
export type EventId = string & { readonly __brand: "EventId" };

const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9.-]{1,255})(?::[0-9]{1,5})?$/;
/** Localparts we hand out: the spec's current grammar (lower case, digits, ._=-/+). */
const NEW_LOCALPART = /^[a-z0-9._=\-/+]+$/;
/** Historical user ids may contain any printable ASCII except ':' in the localpart. */
const HISTORICAL_LOCALPART = /^[\x21-\x39\x3b-\x7e]+$/;
export const MAX_USER_ID_LENGTH = 255;

export function parseServerName(s: string): ServerName {
  if (!SERVER_NAME.test(s)) throw new InvalidParamError(`invalid server name: ${s}`);
  return s as ServerName;
}

export function parseUserId(s: string): UserId {
  const m = /^@([^:]+):(.+)$/.exec(s);
  if (!m || !HISTORICAL_LOCALPART.test(m[1]!) || !SERVER_NAME.test(m[2]!) || s.length > MAX_USER_ID_LENGTH) {
    throw new InvalidParamError(`invalid user id: ${s}`);
  }
  return s as UserId;
}

/** Splits a user id already known to be valid. */
export function userIdParts(u: UserId): { localpart: string; serverName: ServerName } {
  const i = u.indexOf(":");
  return { localpart: u.slice(1, i), serverName: u.slice(i + 1) as ServerName };
}

/**
 * The user id for a localpart chosen at registration. Only the strict grammar is allowed
 * for new accounts; upper case is refused rather than folded (as Synapse does).
 */
export function userIdForNewLocalpart(localpart: string, server: ServerName): UserId {
  if (localpart.length === 0) throw new InvalidUsernameError("user name may not be empty");
  if (!NEW_LOCALPART.test(localpart)) {
    throw new InvalidUsernameError("user name may only contain a-z, 0-9, and the characters . _ = - / +");
  }
  const id = `@${localpart}:${server}`;
  if (id.length > MAX_USER_ID_LENGTH) throw new InvalidUsernameError(`user id may not be longer than ${MAX_USER_ID_LENGTH} characters`);
  return id as UserId;
}

/**
 * Reads a login identifier: a full user id or a bare localpart on this server.
 * Returns null when it cannot name a local user (callers answer 403 to avoid user probing).
 */
export function localUserIdFromLogin(user: string, server: ServerName): UserId | null {
  const candidate = user.startsWith("@") ? user : `@${user.toLowerCase()}:${server}`;
  const m = /^@([^:]+):(.+)$/.exec(candidate);
  if (!m || m[2] !== server || !HISTORICAL_LOCALPART.test(m[1]!)) return null;
  return candidate as UserId;
}

export function parseDeviceId(s: string): DeviceId {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we refuse
  if (s.length === 0 || s.length > 255 || /[\x00-\x1f]/.test(s)) throw new InvalidParamError("invalid device id");
  return s as DeviceId;
}

/** Room ids and event ids: at most 255 bytes including sigil and domain (appendices, "Room IDs", "Event IDs"). */
export const MAX_ROOM_OR_EVENT_ID_BYTES = 255;

/** `opaque_id:domain` after the sigil: the opaque part may hold anything but ':' and NUL. */
function hasOpaqueAndServer(rest: string): boolean {
  const i = rest.indexOf(":");
  return i > 0 && !rest.slice(0, i).includes("\0") && SERVER_NAME.test(rest.slice(i + 1));
}

/**
 * A room id of the form `!opaque_id:domain` (room versions 1–11). The domain-less v12 form
 * is refused: Sluice does not support room version 12 yet.
 */
export function parseRoomId(s: string): RoomId {
  if (!s.startsWith("!") || Buffer.byteLength(s, "utf8") > MAX_ROOM_OR_EVENT_ID_BYTES || !hasOpaqueAndServer(s.slice(1))) {
    throw new InvalidParamError(`invalid room id: ${s}`);
  }
  return s as RoomId;
}

/** v4+: URL-safe unpadded Base64 of a SHA-256 reference hash (43 characters). */
const EVENT_ID_V4 = /^\$[A-Za-z0-9_-]{43}$/;
/** v3: the same hash in standard unpadded Base64. */
const EVENT_ID_V3 = /^\$[A-Za-z0-9+/]{43}$/;

/**
 * An event id in any room version's form (room versions, "Event IDs"): the v4+ hash form,
 * the v3 one, or the `$localpart:domain` form of versions 1 and 2.
 */
export function parseEventId(s: string): EventId {
  const ok =
    EVENT_ID_V4.test(s) ||
    EVENT_ID_V3.test(s) ||
    (s.startsWith("$") && Buffer.byteLength(s, "utf8") <= MAX_ROOM_OR_EVENT_ID_BYTES && hasOpaqueAndServer(s.slice(1)));
  if (!ok) throw new InvalidParamError(`invalid event id: ${s}`);
  return s as EventId;
}

const ROOM_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ROOM_ID_OPAQUE_LENGTH = 18;

/** A fresh `!<18 random letters>:server` room id (the spec asks for alphanumerics; Synapse uses letters). */
export function newRoomId(server: ServerName): RoomId {
  let opaque = "";
  for (let i = 0; i < ROOM_ID_OPAQUE_LENGTH; i++) opaque += ROOM_ID_ALPHABET[randomInt(ROOM_ID_ALPHABET.length)];
  return `!${opaque}:${server}` as RoomId;
}
