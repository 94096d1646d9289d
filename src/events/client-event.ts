/**
 * Events as the client-server API serves them (client-server API, "Room Event Format":
 * ClientEvent / ClientEventWithoutRoomID; filters' `event_format` and `event_fields`).
 * In:  a stored PDU, the output format, the `unsigned` data the caller allows this client to
 *      see, optionally the redaction event that redacted it and the room version.
 * Out: a fresh JSON object; `event_fields` keeps only the listed dot-separated paths
 *      (appendices, "Dot-separated property paths").
 * Invariants: pure; the PDU's own `unsigned` is never passed through (it may hold a transaction
 * id meant for one device only): callers choose what goes into `unsigned`.
 */
import type { StoredPdu } from "./pdu.js";
import type { RoomVersion } from "./room-versions.js";

export interface ClientEvent {
  event_id: string;
  type: string;
  content: Record<string, unknown>;
  sender: string;
  origin_server_ts: number;
  room_id?: string;
  state_key?: string;
  unsigned?: Record<string, unknown>;
  /** Only on `m.room.redaction` events (top-level copy for older clients, see v11 notes). */
  redacts?: string;
  [field: string]: unknown;
}

export interface ClientEventOptions {
  /** `client` (default in filters) or `federation` (the raw PDU plus `event_id`). */
  format: "client" | "federation";
  /** Extra data for this client: `age`, `transaction_id`, `prev_content`, `membership`, … */
  unsigned?: Record<string, unknown>;
  /** The `m.room.redaction` event that redacted this one: served as `unsigned.redacted_because`. */
  redactedBecause?: StoredPdu;
  /** `/sync` puts events under their room, so it serves ClientEventWithoutRoomID. */
  omitRoomId?: boolean;
  /** Filter's `event_fields`; absent or empty means every field. */
  eventFields?: readonly string[];
  /** The room's version; without it, where `redacts` lives is read from the event itself. */
  roomVersion?: RoomVersion;
}

/**
 * Room version 11, "Moving the `redacts` property": servers should serve `redacts` both
 * top-level (older clients) and in `content` (newer clients), whatever the room version.
 */
function addRedactsBothWays(ev: ClientEvent, stored: StoredPdu, version: RoomVersion | undefined): void {
  if (stored.pdu.type !== "m.room.redaction") return;
  const topLevel = stored.pdu.redacts;
  const inContent = stored.pdu.content.redacts;
  const contentIsAuthoritative = version ? version.redactsInContent : typeof topLevel !== "string";
  const target = contentIsAuthoritative ? inContent : topLevel;
  if (typeof target !== "string") return;
  ev.redacts = target;
  ev.content = { ...ev.content, redacts: target };
}

function buildUnsigned(opts: ClientEventOptions): Record<string, unknown> | undefined {
  const unsigned: Record<string, unknown> = { ...opts.unsigned };
  if (opts.redactedBecause) {
    unsigned.redacted_because = toClientEvent(opts.redactedBecause, {
      format: opts.format,
      omitRoomId: opts.omitRoomId,
      roomVersion: opts.roomVersion,
    });
  }
  return Object.keys(unsigned).length > 0 ? unsigned : undefined;
}

/** The event as a client sees it. */
export function toClientEvent(stored: StoredPdu, opts: ClientEventOptions): ClientEvent {
  const { pdu } = stored;
  const unsigned = buildUnsigned(opts);
  let ev: ClientEvent;
  if (opts.format === "federation") {
    const { unsigned: _own, ...raw } = structuredClone(pdu);
    ev = { ...raw, event_id: stored.eventId } as ClientEvent;
  } else {
    ev = {
      content: structuredClone(pdu.content),
      event_id: stored.eventId,
      origin_server_ts: pdu.origin_server_ts,
      sender: pdu.sender,
      type: pdu.type,
    };
    if (!opts.omitRoomId && pdu.room_id !== undefined) ev.room_id = pdu.room_id;
    if (pdu.state_key !== undefined) ev.state_key = pdu.state_key;
    addRedactsBothWays(ev, stored, opts.roomVersion);
  }
  if (unsigned) ev.unsigned = unsigned;
  return opts.eventFields && opts.eventFields.length > 0 ? filterEventFields(ev, opts.eventFields) : ev;
}

/**
 * Splits a dot-separated property path: `\.` is a literal dot, `\\` a literal backslash, and
 * any other backslash stays as written (appendices, "Dot-separated property paths").
 */
export function parseFieldPath(path: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!;
    const next = path[i + 1];
    if (c === "\\" && (next === "." || next === "\\")) {
      current += next;
      i++;
    } else if (c === ".") {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Copies the value at `path` from `from` into `into`, creating the objects on the way. */
function copyPath(from: Record<string, unknown>, into: Record<string, unknown>, path: readonly string[]): void {
  // Find the value first, so a path that leads nowhere leaves no empty objects behind.
  let value: unknown = from;
  for (const key of path) {
    if (!isObject(value) || !Object.hasOwn(value, key)) return; // paths only descend through objects
    value = value[key];
  }
  let dst = into;
  for (const key of path.slice(0, -1)) {
    const existing = dst[key];
    dst = isObject(existing) ? existing : (dst[key] = {}) as Record<string, unknown>;
  }
  dst[path[path.length - 1]!] = value;
}

/**
 * Keeps only the listed fields. A path naming an object keeps all of it; a path through a
 * missing key or a non-object keeps nothing. The spec lets a server include more than was
 * asked for; we include exactly what was asked for, as Synapse does.
 */
export function filterEventFields(ev: ClientEvent, fields: readonly string[]): ClientEvent {
  const out: Record<string, unknown> = {};
  for (const field of fields) copyPath(ev, out, parseFieldPath(field));
  return out as ClientEvent;
}
