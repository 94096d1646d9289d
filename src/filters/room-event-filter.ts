/**
 * RoomEventFilter (client-server "Filtering", definitions/room_event_filter.yaml) as the
 * read endpoints use it: parsing the `filter=` query parameter of /messages and /context,
 * and testing one event against it.
 * In:  the raw query string value (JSON), or an already-validated filter object.
 * Out: a predicate over (event, room id). `types`/`not_types` accept `*` as "any sequence of
 *      characters"; every `not_*` list wins over its positive twin; `contains_url` checks
 *      for a string `url` in the content (as Synapse does). `limit`, `lazy_load_members`
 *      and `include_redundant_members` are for the caller; they do not select events.
 * Errors: JSON that does not parse is 400 M_INVALID_PARAM (it is a query parameter);
 *      JSON of the wrong shape is 400 M_BAD_JSON naming the field.
 */
import type { Static } from "typebox";
import Value from "typebox/value";
import { BadJsonError, InvalidParamError } from "../errors/matrix-error.js";
import type { Pdu } from "../events/pdu.js";
import { RoomEventFilter } from "./filter-schema.js";

export type RoomEventFilterBody = Static<typeof RoomEventFilter>;

/** Reads `filter=`: absent, empty or JSON `null` means no filter. */
export function parseRoomEventFilterParam(raw: string | undefined): RoomEventFilterBody | null {
  if (raw === undefined || raw === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidParamError("filter is not valid JSON");
  }
  if (parsed === null) return null;
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new BadJsonError("filter must be a JSON object");
  const problem = Value.Errors(RoomEventFilter, parsed)[0];
  if (problem) throw new BadJsonError(`filter${problem.instancePath}: ${problem.message}`);
  return parsed as RoomEventFilterBody;
}

export type EventPredicate = (pdu: Pdu, roomId: string) => boolean;

const acceptAll: EventPredicate = () => true;

/** `*` matches any sequence of characters; everything else is literal. */
function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`, "s");
}

function typeMatcher(patterns: readonly string[]): (type: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes("*")));
  const globs = patterns.filter((p) => p.includes("*")).map(globToRegExp);
  return (type) => exact.has(type) || globs.some((g) => g.test(type));
}

/** The predicate for a filter (null = every event passes). */
export function compileRoomEventFilter(filter: RoomEventFilterBody | null): EventPredicate {
  if (!filter) return acceptAll;
  const checks: EventPredicate[] = [];
  if (filter.types) {
    const matches = typeMatcher(filter.types);
    checks.push((pdu) => matches(pdu.type));
  }
  if (filter.not_types) {
    const matches = typeMatcher(filter.not_types);
    checks.push((pdu) => !matches(pdu.type));
  }
  if (filter.senders) {
    const senders = new Set(filter.senders);
    checks.push((pdu) => senders.has(pdu.sender));
  }
  if (filter.not_senders) {
    const senders = new Set(filter.not_senders);
    checks.push((pdu) => !senders.has(pdu.sender));
  }
  if (filter.rooms) {
    const rooms = new Set(filter.rooms);
    checks.push((_pdu, roomId) => rooms.has(roomId));
  }
  if (filter.not_rooms) {
    const rooms = new Set(filter.not_rooms);
    checks.push((_pdu, roomId) => !rooms.has(roomId));
  }
  if (filter.contains_url !== undefined) {
    const wanted = filter.contains_url;
    checks.push((pdu) => (typeof pdu.content.url === "string") === wanted);
  }
  if (checks.length === 0) return acceptAll;
  return (pdu, roomId) => checks.every((check) => check(pdu, roomId));
}
