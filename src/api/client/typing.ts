/** PUT /rooms/{roomId}/typing/{userId}. */
import Type from "typebox";
import type { ClientRouter } from "../../http/client-router.js";
import type { Typing } from "../../ephemeral/typing.js";

const TypingBody = Type.Object({ typing: Type.Boolean(), timeout: Type.Optional(Type.Number({ minimum: 0 })) });

export function registerTypingRoutes(router: ClientRouter, deps: { typing: Typing }): void {
  router.route({
    method: "PUT",
    path: "/rooms/:roomId/typing/:userId",
    auth: "required",
    body: TypingBody,
    handler: async ({ requester, params, body }) => {
      const timeout = body.timeout === undefined ? undefined : Math.floor(body.timeout);
      await deps.typing.set(requester, params.roomId!, params.userId!, body.typing, timeout);
      return {};
    },
  });
}
