/**
 * Builds a new local PDU (room versions 10 and 11 event format) ready to authorise and store.
 * In:  the event's fields chosen by a use case (PduProto) + room version, server name, key.
 * Out: StoredPdu with `hashes`, this server's signature and the derived event id.
 * Throws BadJsonError for content that canonical JSON cannot carry (floats, integers beyond
 * ±(2^53−1), lone surrogates: room version 6+, "Canonical JSON"), TooLargeError for an event
 * over the client-server API's "Size limits". Pure: no I/O, no clock (the caller gives the ts).
 */
import { BadJsonError, TooLargeError } from "../errors/matrix-error.js";
import { canonicalJsonBytes } from "./canonical-json.js";
import { hashAndSignEvent } from "./event-signing.js";
import { eventIdFor } from "./hashes.js";
import type { Pdu, StoredPdu } from "./pdu.js";
import type { RoomVersion } from "./room-versions.js";
import type { SigningKey } from "./signing.js";

/** The whole event, federation format with signatures, as canonical JSON (client-server API, "Size limits"). */
export const MAX_PDU_BYTES = 65_536;
/** `type`, `state_key`, `sender`, `room_id` (and event ids) are each limited to 255 bytes. */
export const MAX_ID_FIELD_BYTES = 255;

export interface PduProto {
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  content: Record<string, unknown>;
  prev_events: string[];
  auth_events: string[];
  depth: number;
  origin_server_ts: number;
  /** For `m.room.redaction`: the event being redacted. Placed per `version.redactsInContent`. */
  redacts?: string;
}

export interface BuildPduContext {
  version: RoomVersion;
  serverName: string;
  signingKey: SigningKey;
}

/** Walks content and names the first value canonical JSON would refuse. */
function checkJsonValue(v: unknown, path: string): void {
  switch (typeof v) {
    case "number":
      if (!Number.isInteger(v)) throw new BadJsonError(`${path}: floats are not allowed in events`);
      if (!Number.isSafeInteger(v)) throw new BadJsonError(`${path}: integer outside ±(2^53−1)`);
      return;
    case "string":
    case "boolean":
      return;
    case "object":
      if (v === null) return;
      if (Array.isArray(v)) {
        v.forEach((item: unknown, i) => checkJsonValue(item, `${path}[${i}]`));
        return;
      }
      for (const [k, item] of Object.entries(v)) {
        if (item !== undefined) checkJsonValue(item, `${path}.${k}`);
      }
      return;
    default:
      throw new BadJsonError(`${path}: not a JSON value`);
  }
}

function checkFieldSize(name: string, value: string | undefined): void {
  if (value !== undefined && Buffer.byteLength(value, "utf8") > MAX_ID_FIELD_BYTES) {
    throw new TooLargeError(`'${name}' is longer than ${MAX_ID_FIELD_BYTES} bytes`);
  }
}

/** A hashed, signed PDU and its event id. */
export function buildPdu(proto: PduProto, ctx: BuildPduContext): StoredPdu {
  const { version } = ctx;
  checkJsonValue(proto.content, "content");
  checkFieldSize("type", proto.type);
  checkFieldSize("state_key", proto.state_key);
  checkFieldSize("sender", proto.sender);
  checkFieldSize("room_id", proto.room_id);

  const content = structuredClone(proto.content);
  if (proto.redacts !== undefined && version.redactsInContent) content.redacts = proto.redacts;

  const unsignedPdu: Record<string, unknown> = {
    room_id: proto.room_id,
    sender: proto.sender,
    type: proto.type,
    content,
    prev_events: [...proto.prev_events],
    auth_events: [...proto.auth_events],
    depth: proto.depth,
    origin_server_ts: proto.origin_server_ts,
  };
  if (proto.state_key !== undefined) unsignedPdu.state_key = proto.state_key;
  if (proto.redacts !== undefined && !version.redactsInContent) unsignedPdu.redacts = proto.redacts;

  let pdu: Pdu;
  let bytes: number;
  try {
    pdu = hashAndSignEvent(unsignedPdu, version, ctx.serverName, ctx.signingKey) as Pdu;
    bytes = canonicalJsonBytes(pdu).length;
  } catch (err) {
    // Canonical JSON refuses what the content walk cannot see (e.g. a lone surrogate).
    if (err instanceof TypeError) throw new BadJsonError(err.message);
    throw err;
  }
  if (bytes > MAX_PDU_BYTES) throw new TooLargeError(`event is ${bytes} bytes; the limit is ${MAX_PDU_BYTES}`);
  return { eventId: eventIdFor(pdu, version), pdu };
}
