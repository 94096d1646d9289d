/** PUT|GET /presence/{userId}/status. */
import Type from "typebox";
import type { ClientRouter } from "../../http/client-router.js";
import type { Presence } from "../../ephemeral/presence.js";

/** Synapse refuses unknown keys and a non-string status_msg (400). */
const SetPresenceBody = Type.Object(
  {
    presence: Type.Union([Type.Literal("online"), Type.Literal("unavailable"), Type.Literal("offline")]),
    status_msg: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);

export function registerPresenceRoutes(router: ClientRouter, deps: { presence: Presence }): void {
  router.route({
    method: "PUT",
    path: "/presence/:userId/status",
    auth: "required",
    body: SetPresenceBody,
    handler: async ({ requester, params, body }) => {
      await deps.presence.set(requester, params.userId!, body.presence, body.status_msg);
      return {};
    },
  });

  router.route({
    method: "GET",
    path: "/presence/:userId/status",
    auth: "required",
    handler: async ({ requester, params }) => deps.presence.get(requester, params.userId!),
  });
}
