/**
 * Writing into a room: PUT /rooms/{roomId}/send/{eventType}/{txnId},
 * PUT /rooms/{roomId}/state/{eventType}/{stateKey}, PUT /rooms/{roomId}/redact/{eventId}/{txnId}.
 * Sends are idempotent per (device, txn id): a repeat returns the first event id.
 */
import Type from "typebox";
import { BadJsonError, InvalidParamError } from "../../../errors/matrix-error.js";
import type { ClientRouter, RouteContext } from "../../../http/client-router.js";
import type { EventWriter } from "../../../rooms/event-writer.js";
import type { Memberships } from "../../../rooms/memberships.js";

const AnyObject = Type.Object({});
const RedactBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2048 })) });

function eventType(s: string | undefined): string {
  if (!s || s.length > 255) throw new InvalidParamError("Invalid event type");
  return s;
}

export function registerSendRoutes(router: ClientRouter, deps: { writer: EventWriter; memberships: Memberships }): void {
  router.route({
    method: "PUT",
    path: "/rooms/:roomId/send/:eventType/:txnId",
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, body }) => {
      const type = eventType(params.eventType);
      if (type === "m.room.redaction") throw new BadJsonError("Use the /redact endpoint to redact events");
      const roomId = await deps.memberships.resolveRoom(params.roomId!);
      const { eventId } = await deps.writer.send(
        { roomId, sender: requester.userId, type, content: body as Record<string, unknown> },
        { userId: requester.userId, deviceId: requester.deviceId, txnId: params.txnId! },
      );
      return { event_id: eventId };
    },
  });

  const putState = async ({ requester, params, body }: RouteContext<Record<string, unknown>>) => {
    const roomId = await deps.memberships.resolveRoom(params.roomId!);
    const { eventId } = await deps.writer.send({ roomId, sender: requester.userId, type: eventType(params.eventType), stateKey: params.stateKey ?? "", content: body });
    return { event_id: eventId };
  };
  // The state key may be empty: both `/state/{type}` and `/state/{type}/{stateKey}` are valid.
  router.route({ method: "PUT", path: "/rooms/:roomId/state/:eventType", auth: "required", body: AnyObject, handler: putState });
  router.route({ method: "PUT", path: "/rooms/:roomId/state/:eventType/:stateKey", auth: "required", body: AnyObject, handler: putState });

  router.route({
    method: "PUT",
    path: "/rooms/:roomId/redact/:eventId/:txnId",
    auth: "required",
    body: RedactBody,
    handler: async ({ requester, params, body }) => {
      const roomId = await deps.memberships.resolveRoom(params.roomId!);
      const content: Record<string, unknown> = body.reason !== undefined ? { reason: body.reason } : {};
      const { eventId } = await deps.writer.send(
        { roomId, sender: requester.userId, type: "m.room.redaction", content, redacts: params.eventId! },
        { userId: requester.userId, deviceId: requester.deviceId, txnId: `redact:${params.txnId!}` },
      );
      return { event_id: eventId };
    },
  });
}
