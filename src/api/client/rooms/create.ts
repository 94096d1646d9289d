/** POST /createRoom. */
import Type from "typebox";
import type { ClientRouter } from "../../../http/client-router.js";
import type { RoomCreator } from "../../../rooms/create-room.js";

const StateEvent = Type.Object({ type: Type.String({ minLength: 1, maxLength: 255 }), state_key: Type.Optional(Type.String({ maxLength: 255 })), content: Type.Object({}) });

const CreateRoomBody = Type.Object({
  visibility: Type.Optional(Type.Union([Type.Literal("public"), Type.Literal("private")])),
  room_alias_name: Type.Optional(Type.String({ maxLength: 255 })),
  name: Type.Optional(Type.String({ maxLength: 255 })),
  topic: Type.Optional(Type.String({ maxLength: 4096 })),
  invite: Type.Optional(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 100 })),
  invite_3pid: Type.Optional(Type.Array(Type.Object({}), { maxItems: 0 })),
  room_version: Type.Optional(Type.String({ maxLength: 32 })),
  creation_content: Type.Optional(Type.Object({})),
  initial_state: Type.Optional(Type.Array(StateEvent, { maxItems: 100 })),
  preset: Type.Optional(Type.Union([Type.Literal("private_chat"), Type.Literal("public_chat"), Type.Literal("trusted_private_chat")])),
  is_direct: Type.Optional(Type.Boolean()),
  power_level_content_override: Type.Optional(Type.Object({})),
});

export function registerCreateRoomRoutes(router: ClientRouter, deps: { roomCreator: RoomCreator }): void {
  router.route({
    method: "POST",
    path: "/createRoom",
    auth: "required",
    body: CreateRoomBody,
    handler: async ({ requester, body }) => deps.roomCreator.create(requester.userId, body as never),
  });
}
