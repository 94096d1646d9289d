/** POST /rooms/{roomId}/receipt/{receiptType}/{eventId} and POST /rooms/{roomId}/read_markers. */
import Type from "typebox";
import type { ClientRouter } from "../../http/client-router.js";
import type { Receipts } from "../../ephemeral/receipts.js";

/** `thread_id` is checked by the use case: the spec wants M_INVALID_PARAM for a bad one, not M_BAD_JSON. */
const ReceiptBody = Type.Object({});
const EventIdOrNothing = Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()]));
const ReadMarkersBody = Type.Object({ "m.fully_read": EventIdOrNothing, "m.read": EventIdOrNothing, "m.read.private": EventIdOrNothing });

export function registerReceiptRoutes(router: ClientRouter, deps: { receipts: Receipts }): void {
  router.route({
    method: "POST",
    path: "/rooms/:roomId/receipt/:receiptType/:eventId",
    auth: "required",
    body: ReceiptBody,
    handler: async ({ requester, params, body }) => {
      const threadId = (body as Record<string, unknown>).thread_id;
      await deps.receipts.post(requester, params.roomId!, params.receiptType!, params.eventId!, threadId);
      return {};
    },
  });

  router.route({
    method: "POST",
    path: "/rooms/:roomId/read_markers",
    auth: "required",
    body: ReadMarkersBody,
    handler: async ({ requester, params, body }) => {
      await deps.receipts.setReadMarkers(requester, params.roomId!, body);
      return {};
    },
  });
}
