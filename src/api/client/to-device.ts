/** PUT /sendToDevice/{eventType}/{txnId}. */
import Type from "typebox";
import type { ClientRouter } from "../../http/client-router.js";
import type { ToDevice, ToDeviceRequest } from "../../ephemeral/to-device.js";

const SendToDeviceBody = Type.Object({
  messages: Type.Record(Type.String(), Type.Record(Type.String(), Type.Object({}))),
});

export function registerToDeviceRoutes(router: ClientRouter, deps: { toDevice: ToDevice }): void {
  router.route({
    method: "PUT",
    path: "/sendToDevice/:eventType/:txnId",
    auth: "required",
    body: SendToDeviceBody,
    handler: async ({ requester, params, body, request }) => {
      const outcome = await deps.toDevice.send(requester, params.eventType!, params.txnId!, body.messages as ToDeviceRequest);
      if (outcome.remoteUsers.length > 0) {
        request.log.info({ sender: requester.userId, type: params.eventType, remoteUsers: outcome.remoteUsers }, "to-device messages for remote users dropped: no federation");
      }
      if (outcome.invalidUsers.length > 0) {
        request.log.warn({ sender: requester.userId, invalidUsers: outcome.invalidUsers }, "to-device messages for invalid user ids ignored");
      }
      return {};
    },
  });
}
