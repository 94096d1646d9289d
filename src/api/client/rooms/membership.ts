/**
 * Membership endpoints: POST /join/{roomIdOrAlias}, /knock/{roomIdOrAlias},
 * /rooms/{roomId}/join|leave|forget|invite|kick|ban|unban, GET /joined_rooms.
 */
import Type from "typebox";
import { parseUserId } from "../../../events/ids.js";
import type { ClientRouter } from "../../../http/client-router.js";
import type { Memberships } from "../../../rooms/memberships.js";
import type { Storage } from "../../../storage/storage.js";

const Reason = Type.Optional(Type.String({ maxLength: 2048 }));
const ReasonBody = Type.Object({ reason: Reason });
const TargetBody = Type.Object({ user_id: Type.String({ minLength: 1, maxLength: 255 }), reason: Reason });

export function registerMembershipRoutes(router: ClientRouter, deps: { memberships: Memberships; storage: Storage }): void {
  const m = deps.memberships;

  for (const path of ["/join/:roomIdOrAlias", "/rooms/:roomIdOrAlias/join"]) {
    router.route({
      method: "POST",
      path,
      auth: "required",
      body: ReasonBody,
      handler: async ({ requester, params, body }) => {
        const roomId = await m.resolveRoom(params.roomIdOrAlias!);
        await m.join(requester.userId, roomId, body.reason);
        return { room_id: roomId };
      },
    });
  }

  router.route({
    method: "POST",
    path: "/knock/:roomIdOrAlias",
    auth: "required",
    body: ReasonBody,
    handler: async ({ requester, params, body }) => {
      const roomId = await m.resolveRoom(params.roomIdOrAlias!);
      await m.knock(requester.userId, roomId, body.reason);
      return { room_id: roomId };
    },
  });

  router.route({
    method: "POST",
    path: "/rooms/:roomId/leave",
    auth: "required",
    body: ReasonBody,
    handler: async ({ requester, params, body }) => {
      await m.leave(requester.userId, await m.resolveRoom(params.roomId!), body.reason);
      return {};
    },
  });

  router.route({
    method: "POST",
    path: "/rooms/:roomId/forget",
    auth: "required",
    handler: async ({ requester, params }) => {
      await m.forget(requester.userId, params.roomId!);
      return {};
    },
  });

  const targeted: [string, (sender: never, roomId: string, target: never, reason?: string) => Promise<unknown>][] = [
    ["invite", (s, r, t, reason) => m.invite(s, r, t, reason !== undefined ? { reason } : {})],
    ["kick", (s, r, t, reason) => m.kick(s, r, t, reason)],
    ["ban", (s, r, t, reason) => m.ban(s, r, t, reason)],
    ["unban", (s, r, t, reason) => m.unban(s, r, t, reason)],
  ];
  for (const [action, run] of targeted) {
    router.route({
      method: "POST",
      path: `/rooms/:roomId/${action}`,
      auth: "required",
      body: TargetBody,
      handler: async ({ requester, params, body }) => {
        const roomId = await m.resolveRoom(params.roomId!);
        await run(requester.userId as never, roomId, parseUserId(body.user_id) as never, body.reason);
        return {};
      },
    });
  }

  router.route({
    method: "GET",
    path: "/joined_rooms",
    auth: "required",
    handler: async ({ requester }) => ({
      joined_rooms: (await deps.storage.rooms.roomsOfUser(requester.userId, ["join"])).map((r) => r.roomId),
    }),
  });
}
