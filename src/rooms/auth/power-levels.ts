/**
 * Power levels as the authorization rules read them (room versions 10 and 11), and rule 9:
 * which changes to `m.room.power_levels` a sender may make.
 *
 * Defaults (spec `m.room.power_levels` schema): `users_default` 0, `events_default` 0,
 * `state_default` 50, `invite` 0, `kick`/`ban`/`redact` 50. Without any power levels event
 * the room creator has 100 and everyone else 0.
 */
import type { Pdu, StateMap } from "../../events/pdu.js";
import type { RoomVersion } from "../../events/room-versions.js";
import { parseUserId } from "../../events/ids.js";
import { roomCreator } from "./create-rules.js";
import { ALLOW, deny, isPlainObject, stateEvent, type AuthResult } from "./result.js";

export const POWER_LEVELS = "m.room.power_levels";

/** The named levels of rule 9.5, with the default each has when absent. */
const NAMED_DEFAULTS = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
} as const;

export type NamedLevel = "invite" | "kick" | "ban" | "redact";

const NAMED_KEYS = Object.keys(NAMED_DEFAULTS) as (keyof typeof NAMED_DEFAULTS)[];
const INTEGER_STRING = /^\s*[+-]?\d+\s*$/;

/**
 * A power level value, or undefined when the value is not one. Integers in the canonical
 * JSON range always count; integer strings only where the version still allows them
 * (before v10). Levels already in room state passed rule 9 when they got there, so readers
 * of state parse leniently.
 */
export function parseLevel(value: unknown, allowStrings = true): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : undefined;
  if (allowStrings && typeof value === "string" && INTEGER_STRING.test(value)) {
    const n = Number.parseInt(value, 10);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** An own property of a JSON object (never something inherited such as `constructor`). */
function own(obj: unknown, key: string): unknown {
  return isPlainObject(obj) && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function powerLevelsContent(state: StateMap): Record<string, unknown> | undefined {
  return stateEvent(state, POWER_LEVELS)?.pdu.content;
}

/**
 * The power level of `userId` in `state`. With no power levels event the creator has 100
 * (the creator is read per `version`; when omitted, from the create event's own
 * `room_version`).
 */
export function powerLevelOf(userId: string, state: StateMap, version?: RoomVersion): number {
  const content = powerLevelsContent(state);
  if (content !== undefined) {
    return parseLevel(own(content.users, userId)) ?? parseLevel(content.users_default) ?? 0;
  }
  const create = stateEvent(state, "m.room.create");
  return create !== undefined && roomCreator(create.pdu, version) === userId ? 100 : 0;
}

/** The level named `invite`, `kick`, `ban` or `redact`, with its default. */
export function namedLevel(name: NamedLevel, state: StateMap): number {
  return parseLevel(powerLevelsContent(state)?.[name]) ?? NAMED_DEFAULTS[name];
}

/** The spec's "required power level" of an event type: `events`, else state/events default. */
export function requiredLevelForEvent(type: string, isState: boolean, state: StateMap): number {
  const content = powerLevelsContent(state);
  const specific = parseLevel(own(content?.events, type));
  if (specific !== undefined) return specific;
  return isState
    ? parseLevel(content?.state_default) ?? NAMED_DEFAULTS.state_default
    : parseLevel(content?.events_default) ?? NAMED_DEFAULTS.events_default;
}

function isValidUserId(s: string): boolean {
  try {
    parseUserId(s);
    return true;
  } catch {
    return false;
  }
}

/** Rules 9.1–9.3: the shape of a new power levels content. */
function checkShape(content: Record<string, unknown>, version: RoomVersion): AuthResult {
  const allowStrings = !version.integerPowerLevels;
  for (const key of NAMED_KEYS) {
    // 9.1 (v10+): each named level, when present, is an integer.
    if (Object.hasOwn(content, key) && parseLevel(content[key], allowStrings) === undefined) {
      return deny(`power level "${key}" must be an integer`);
    }
  }
  for (const key of ["events", "notifications"]) {
    if (!Object.hasOwn(content, key)) continue;
    // 9.2 (v10+): `events` and `notifications` are objects of integers.
    const map = content[key];
    if (!isPlainObject(map) || Object.values(map).some((v) => parseLevel(v, allowStrings) === undefined)) {
      return deny(`"${key}" must be an object whose values are integers`);
    }
  }
  if (Object.hasOwn(content, "users")) {
    // 9.3: `users` maps valid user ids to integers.
    const users = content.users;
    if (!isPlainObject(users)) return deny(`"users" must be an object`);
    for (const [userId, level] of Object.entries(users)) {
      if (!isValidUserId(userId)) return deny(`"users" key ${JSON.stringify(userId)} is not a valid user id`);
      if (parseLevel(level, allowStrings) === undefined) return deny(`power level of ${userId} must be an integer`);
    }
  }
  return ALLOW;
}

function keysOfBoth(a: unknown, b: unknown): Set<string> {
  return new Set([...Object.keys(isPlainObject(a) ? a : {}), ...Object.keys(isPlainObject(b) ? b : {})]);
}

/** Rule 9: may `event` (an `m.room.power_levels` event) replace the current power levels? */
export function checkPowerLevelsChange(event: Pdu, state: StateMap, version: RoomVersion): AuthResult {
  const next = event.content;
  const shape = checkShape(next, version);
  if (!shape.allowed) return shape;

  // 9.4: the first power levels event of a room may say anything well-formed.
  const current = powerLevelsContent(state);
  if (current === undefined) return ALLOW;

  const senderLevel = powerLevelOf(event.sender, state, version);
  const above = (level: number | undefined): boolean => level !== undefined && level > senderLevel;

  // 9.5: a named level added, changed or removed: neither its old nor its new value may
  // exceed the sender's level.
  for (const key of NAMED_KEYS) {
    const before = parseLevel(current[key]);
    const after = parseLevel(next[key]);
    if (before === after) continue;
    if (above(before)) return deny(`cannot change "${key}" from ${before}: above your power level (${senderLevel})`);
    if (above(after)) return deny(`cannot set "${key}" to ${after}: above your power level (${senderLevel})`);
  }

  for (const map of ["events", "notifications"] as const) {
    for (const key of keysOfBoth(current[map], next[map])) {
      const before = parseLevel(own(current[map], key));
      const after = parseLevel(own(next[map], key));
      if (before === after) continue;
      // 9.6: an entry changed or removed may not have been above the sender's level.
      if (above(before)) return deny(`cannot change ${map}["${key}"] from ${before}: above your power level (${senderLevel})`);
      // 9.7: an entry added or changed may not become higher than the sender's level.
      if (above(after)) return deny(`cannot set ${map}["${key}"] to ${after}: above your power level (${senderLevel})`);
    }
  }

  for (const userId of keysOfBoth(current.users, next.users)) {
    const before = parseLevel(own(current.users, userId));
    const after = parseLevel(own(next.users, userId));
    if (before === after) continue;
    // 9.8: another user's entry changed or removed must have been below the sender's level.
    if (userId !== event.sender && before !== undefined && before >= senderLevel) {
      return deny(`cannot change the power level of ${userId} (${before}): not below your own (${senderLevel})`);
    }
    // 9.9: no entry may be added or raised above the sender's level.
    if (above(after)) return deny(`cannot give ${userId} power level ${after}: above your own (${senderLevel})`);
  }

  return ALLOW; // 9.10
}
