/**
 * Room reads (issue 4): query parsing and routes; the work is in rooms/room-reads.ts.
 *   v3, r0: GET /rooms/{roomId}/messages, /context/{eventId}, /event/{eventId}, /state,
 *           /state/{eventType}[/{stateKey}], /members, /joined_members
 *   v1:     GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]],
 *           /rooms/{roomId}/timestamp_to_event (the spec serves these under v1 only)
 * Bad parameters: a missing required one is 400 M_MISSING_PARAM, a malformed one (room or
 * event id, token, dir, limit, ts, format, membership) 400 M_INVALID_PARAM; a bad filter is
 * M_INVALID_PARAM (not JSON) or M_BAD_JSON (wrong shape).
 */
import { InvalidParamError, MissingParamError } from "../../../errors/matrix-error.js";
import { parseEventId, parseRoomId } from "../../../events/ids.js";
import { parseRoomEventFilterParam } from "../../../filters/room-event-filter.js";
import type { ClientRouter, RouteContext, RouteDef } from "../../../http/client-router.js";
import type { RoomReads } from "../../../rooms/room-reads.js";

/** Spec default for /messages and /context; Synapse's for /relations. */
const MESSAGES_DEFAULT_LIMIT = 10;
const RELATIONS_DEFAULT_LIMIT = 5;
/** Synapse's MAX_LIMIT: larger values are lowered to it, not refused. */
const MAX_LIMIT = 1000;
const MEMBERSHIPS = ["join", "invite", "knock", "leave", "ban"] as const;

type Query = Record<string, string | undefined>;

function dirParam(q: Query, required: boolean): "b" | "f" {
  const dir = q.dir;
  if (dir === undefined || dir === "") {
    if (required) throw new MissingParamError("Missing dir parameter");
    return "b";
  }
  if (dir !== "b" && dir !== "f") throw new InvalidParamError("dir must be 'b' or 'f'");
  return dir;
}

function integerParam(q: Query, name: string): number | null {
  const raw = q[name];
  if (raw === undefined || raw === "") return null;
  if (!/^-?\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new InvalidParamError(`${name} must be an integer`);
  return Number(raw);
}

function limitParam(q: Query, fallback: number): number {
  const limit = integerParam(q, "limit") ?? fallback;
  if (limit < 0) throw new InvalidParamError("limit must not be negative");
  return Math.min(limit, MAX_LIMIT);
}

/** An optional token; empty counts as absent (Synapse). Decoding is the use case's. */
function tokenParam(q: Query, name: string): string | null {
  const raw = q[name];
  return raw === undefined || raw === "" ? null : raw;
}

function booleanParam(q: Query, name: string): boolean | null {
  const raw = q[name];
  if (raw === undefined) return null;
  if (raw !== "true" && raw !== "false") throw new InvalidParamError(`${name} must be true or false`);
  return raw === "true";
}

function membershipParam(q: Query, name: string): string | null {
  const raw = q[name];
  if (raw === undefined || raw === "") return null;
  if (!(MEMBERSHIPS as readonly string[]).includes(raw)) throw new InvalidParamError(`${name} must be one of ${MEMBERSHIPS.join(", ")}`);
  return raw;
}

function roomIdOf(params: Record<string, string>): string {
  return parseRoomId(params.roomId ?? "");
}

function eventIdOf(params: Record<string, string>): string {
  return parseEventId(params.eventId ?? "");
}

export function registerRoomReadRoutes(router: ClientRouter, deps: { roomReads: RoomReads }): void {
  const reads = deps.roomReads;
  const get = (path: string, handler: RouteDef<undefined>["handler"]) => router.route({ method: "GET", path, auth: "required", handler });

  get("/rooms/:roomId/messages", async ({ requester, params, query }) =>
    reads.messages({
      userId: requester.userId,
      roomId: roomIdOf(params),
      dir: dirParam(query, true),
      from: tokenParam(query, "from"),
      to: tokenParam(query, "to"),
      limit: limitParam(query, MESSAGES_DEFAULT_LIMIT),
      filter: parseRoomEventFilterParam(query.filter),
    }),
  );

  get("/rooms/:roomId/context/:eventId", async ({ requester, params, query }) =>
    reads.context({
      userId: requester.userId,
      roomId: roomIdOf(params),
      eventId: eventIdOf(params),
      limit: limitParam(query, MESSAGES_DEFAULT_LIMIT),
      filter: parseRoomEventFilterParam(query.filter),
    }),
  );

  get("/rooms/:roomId/event/:eventId", async ({ requester, params }) => reads.event(requester.userId, roomIdOf(params), eventIdOf(params)));

  get("/rooms/:roomId/state", async ({ requester, params }) => reads.state(requester.userId, roomIdOf(params)));

  // The state key may be empty: `/state/{eventType}` (with or without a trailing slash) reads it.
  const stateEntry = async ({ requester, params, query }: RouteContext<Record<string, unknown>>) => {
    const format = query.format ?? "content";
    if (format !== "content" && format !== "event") throw new InvalidParamError("format must be 'content' or 'event'");
    const event = await reads.stateEntry(requester.userId, roomIdOf(params), params.eventType ?? "", params.stateKey ?? "");
    return format === "event" ? event : event.content;
  };
  get("/rooms/:roomId/state/:eventType", stateEntry);
  get("/rooms/:roomId/state/:eventType/:stateKey", stateEntry);

  get("/rooms/:roomId/members", async ({ requester, params, query }) =>
    reads.members({
      userId: requester.userId,
      roomId: roomIdOf(params),
      at: tokenParam(query, "at"),
      membership: membershipParam(query, "membership"),
      notMembership: membershipParam(query, "not_membership"),
    }),
  );

  get("/rooms/:roomId/joined_members", async ({ requester, params }) => reads.joinedMembers(requester.userId, roomIdOf(params)));

  const relations = async ({ requester, params, query }: RouteContext<Record<string, unknown>>) => {
    const recurse = booleanParam(query, "recurse") ?? booleanParam(query, "org.matrix.msc3981.recurse") ?? false;
    return reads.relations({
      userId: requester.userId,
      roomId: roomIdOf(params),
      eventId: eventIdOf(params),
      relType: params.relType ?? null,
      eventType: params.eventType ?? null,
      dir: dirParam(query, false),
      from: tokenParam(query, "from"),
      to: tokenParam(query, "to"),
      limit: limitParam(query, RELATIONS_DEFAULT_LIMIT),
      recurse,
    });
  };
  const v1 = "/_matrix/client/v1/rooms/:roomId";
  for (const path of ["/relations/:eventId", "/relations/:eventId/:relType", "/relations/:eventId/:relType/:eventType"]) {
    router.exact({ method: "GET", path: v1 + path, auth: "required", handler: relations });
  }

  router.exact({
    method: "GET",
    path: `${v1}/timestamp_to_event`,
    auth: "required",
    handler: async ({ requester, params, query }) => {
      const ts = integerParam(query, "ts");
      if (ts === null) throw new MissingParamError("Missing ts parameter");
      return reads.timestampToEvent({ userId: requester.userId, roomId: roomIdOf(params), ts, dir: dirParam(query, true) });
    },
  });
}
