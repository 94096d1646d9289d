/**
 * Builders for authorization-rule tests: PDUs without hashes or signatures (the rules never
 * look at them) and a room whose current state can be grown one event at a time.
 */
import assert from "node:assert/strict";
import type { Pdu, StateMap, StoredPdu } from "../../../src/events/pdu.js";
import { stateKeyOf, type StateKey } from "../../../src/events/pdu.js";
import { roomVersion, type RoomVersion } from "../../../src/events/room-versions.js";
import { checkAuth, selectAuthState, type AuthResult } from "../../../src/rooms/auth-rules.js";

export const ROOM = "!room:a.test";
export const ALICE = "@alice:a.test"; // creator, power 100
export const MOD = "@mod:a.test"; // power 50
export const BOB = "@bob:a.test"; // default power 0
export const CAROL = "@carol:b.test"; // on another server
export const EVE = "@eve:a.test";

export const VERSION_IDS = ["10", "11"] as const;

export function version(id: string): RoomVersion {
  const v = roomVersion(id);
  assert.ok(v, `room version ${id} is known`);
  return v;
}

let counter = 0;

export interface PduSpec {
  type: string;
  sender: string;
  stateKey?: string;
  content?: Record<string, unknown>;
  prevEvents?: string[];
  roomId?: string;
  extra?: Record<string, unknown>;
}

export function pdu(spec: PduSpec): Pdu {
  const p: Pdu = {
    room_id: spec.roomId ?? ROOM,
    sender: spec.sender,
    origin_server_ts: 1_700_000_000_000 + counter,
    type: spec.type,
    content: spec.content ?? {},
    prev_events: spec.prevEvents ?? ["$previous"],
    auth_events: [],
    depth: 10,
    hashes: { sha256: "" },
    signatures: {},
    ...spec.extra,
  };
  if (spec.stateKey !== undefined) p.state_key = spec.stateKey;
  return p;
}

export function stored(p: Pdu): StoredPdu {
  counter += 1;
  return { eventId: `$event${counter}`, pdu: p };
}

export const DEFAULT_POWER_LEVELS = {
  users: { [ALICE]: 100, [MOD]: 50 },
  users_default: 0,
  events: { "m.room.name": 50, "m.room.power_levels": 100 },
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
  notifications: { room: 50 },
};

/** A room's current state, built by writing events straight into it (no checks). */
export class RoomFixture {
  readonly state = new Map<StateKey, StoredPdu>();
  readonly create: StoredPdu;

  constructor(readonly version: RoomVersion, readonly creator = ALICE, createContent: Record<string, unknown> = {}) {
    const content = version.createHasCreator
      ? { creator, room_version: version.id, ...createContent }
      : { room_version: version.id, ...createContent };
    this.create = this.put(pdu({ type: "m.room.create", sender: creator, stateKey: "", content, prevEvents: [] }));
  }

  put(p: Pdu): StoredPdu {
    assert.equal(typeof p.state_key, "string", "only state events go into the state");
    const s = stored(p);
    this.state.set(stateKeyOf(p.type, p.state_key ?? ""), s);
    return s;
  }

  setState(type: string, stateKey: string, content: Record<string, unknown>, sender = this.creator): this {
    this.put(pdu({ type, sender, stateKey, content }));
    return this;
  }

  member(user: string, membership: string, extra: Record<string, unknown> = {}, sender = user): this {
    return this.setState("m.room.member", user, { membership, ...extra }, sender);
  }

  powerLevels(content: Record<string, unknown>): this {
    return this.setState("m.room.power_levels", "", content);
  }

  joinRule(rule: string): this {
    return this.setState("m.room.join_rules", "", { join_rule: rule });
  }

  /** A member event from `sender` setting `target`'s membership. */
  memberEvent(sender: string, target: string, membership: string, extra: Record<string, unknown> = {}): Pdu {
    return pdu({ type: "m.room.member", sender, stateKey: target, content: { membership, ...extra } });
  }

  /** Authorizes `p` against the part of the current state it needs. */
  check(p: Pdu): AuthResult {
    return checkAuth(p, selectAuthState(p, this.state, this.version), this.version);
  }

  get stateMap(): StateMap {
    return this.state;
  }
}

/** Alice created and joined; Mod is joined with 50; the default power levels; `rule`. */
export function standardRoom(versionId: string, rule = "public"): RoomFixture {
  return new RoomFixture(version(versionId))
    .member(ALICE, "join")
    .powerLevels(DEFAULT_POWER_LEVELS)
    .joinRule(rule)
    .member(MOD, "join");
}

export function assertAllowed(r: AuthResult): void {
  assert.deepEqual(r, { allowed: true });
}

export function assertDenied(r: AuthResult, reason: RegExp): void {
  assert.equal(r.allowed, false, "expected the event to be denied");
  if (!r.allowed) assert.match(r.reason, reason);
}
