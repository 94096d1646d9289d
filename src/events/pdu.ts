/**
 * The PDU: an event as the room's history stores it and federation would send it
 * (room versions 3+ format: the event id is not a field, it is derived from the reference
 * hash). Wire names stay snake_case; events are signed canonical JSON, so no field is ever
 * renamed. Pure types only; building and hashing live in build-event.ts / hashes.ts.
 */

export interface Pdu {
  /** Absent only on an `m.room.create` event in room versions whose room id derives from it (v12). */
  room_id?: string;
  sender: string;
  origin_server_ts: number;
  type: string;
  /** Present (possibly "") exactly when the event is a state event. */
  state_key?: string;
  content: Record<string, unknown>;
  prev_events: string[];
  auth_events: string[];
  depth: number;
  hashes: { sha256: string };
  signatures: Record<string, Record<string, string>>;
  /** Never signed or hashed; local annotations (transaction id, age, redacted_because). */
  unsigned?: Record<string, unknown>;
  /** Top-level in room versions 1–10; inside `content` from v11. */
  redacts?: string;
  /** Kept for versions that still list it; removed from the redaction algorithm in v11. */
  origin?: string;
  [extra: string]: unknown;
}

/** A PDU together with the id derived from it, as everything above the event model sees it. */
export interface StoredPdu {
  readonly eventId: string;
  readonly pdu: Pdu;
}

/** Key of a state entry: (event type, state key). */
export type StateKey = `${string}\u0000${string}`;

export function stateKeyOf(type: string, stateKey: string): StateKey {
  return `${type}\u0000${stateKey}` as StateKey;
}

export function splitStateKey(k: StateKey): [type: string, stateKey: string] {
  const i = k.indexOf("\u0000");
  return [k.slice(0, i), k.slice(i + 1)];
}

/** The room state at a point: (type, state_key) → event. */
export type StateMap = ReadonlyMap<StateKey, StoredPdu>;

export function isStateEvent(pdu: Pdu): boolean {
  return typeof pdu.state_key === "string";
}
