/**
 * Room directory endpoints: aliases (PUT|GET|DELETE /directory/room/{roomAlias},
 * GET /rooms/{roomId}/aliases), the published room list (GET|POST /publicRooms) and a
 * room's entry in it (GET|PUT /directory/list/room/{roomId}).
 * Reads that the spec leaves unauthenticated (alias lookup, a room's entry) take no token,
 * like Synapse; GET /publicRooms takes one optionally, POST requires one.
 */
import Type from "typebox";
import { InvalidParamError } from "../../../errors/matrix-error.js";
import type { ClientRouter } from "../../../http/client-router.js";
import type { RoomAliases } from "../../../rooms/aliases.js";
import type { RoomDirectory } from "../../../rooms/directory.js";

const SetAliasBody = Type.Object({ room_id: Type.String({ minLength: 1, maxLength: 255 }) });
const SetVisibilityBody = Type.Object({ visibility: Type.Optional(Type.Union([Type.Literal("public"), Type.Literal("private")])) });
const PublicRoomsBody = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0 })),
  since: Type.Optional(Type.String({ maxLength: 64 })),
  filter: Type.Optional(
    Type.Object({
      generic_search_term: Type.Optional(Type.String({ maxLength: 1024 })),
      room_types: Type.Optional(Type.Array(Type.Union([Type.String({ maxLength: 255 }), Type.Null()]), { maxItems: 100 })),
    }),
  ),
  include_all_networks: Type.Optional(Type.Boolean()),
  third_party_instance_id: Type.Optional(Type.String({ maxLength: 255 })),
});

/** `limit` of GET /publicRooms: a non-negative integer (Synapse: 400 M_INVALID_PARAM otherwise). */
function limitParam(s: string | undefined): number | null {
  if (s === undefined) return null;
  if (!/^\d{1,9}$/.test(s)) throw new InvalidParamError("limit must be a non-negative integer");
  return Number(s);
}

export function registerDirectoryRoutes(router: ClientRouter, deps: { aliases: RoomAliases; directory: RoomDirectory }): void {
  router.route({
    method: "PUT",
    path: "/directory/room/:roomAlias",
    auth: "required",
    body: SetAliasBody,
    handler: async ({ requester, params, body }) => {
      await deps.aliases.create(requester, params.roomAlias!, body.room_id);
      return {};
    },
  });

  router.route({
    method: "GET",
    path: "/directory/room/:roomAlias",
    auth: "none",
    handler: async ({ params }) => {
      const { roomId, servers } = await deps.aliases.resolve(params.roomAlias!);
      return { room_id: roomId, servers };
    },
  });

  router.route({
    method: "DELETE",
    path: "/directory/room/:roomAlias",
    auth: "required",
    handler: async ({ requester, params }) => {
      await deps.aliases.delete(requester, params.roomAlias!);
      return {};
    },
  });

  router.route({
    method: "GET",
    path: "/rooms/:roomId/aliases",
    auth: "required",
    handler: async ({ requester, params }) => ({ aliases: await deps.aliases.forRoom(requester, params.roomId!) }),
  });

  router.route({
    method: "GET",
    path: "/publicRooms",
    auth: "optional",
    handler: async ({ query }) =>
      deps.directory.publicRooms({
        limit: limitParam(query.limit),
        since: query.since ?? null,
        searchTerm: null,
        roomTypes: null,
        includeAllNetworks: false,
        thirdPartyInstanceId: null,
        server: query.server ?? null,
      }),
  });

  router.route({
    method: "POST",
    path: "/publicRooms",
    auth: "required",
    body: PublicRoomsBody,
    handler: async ({ query, body }) =>
      deps.directory.publicRooms({
        limit: body.limit ?? null,
        since: body.since ?? null,
        searchTerm: body.filter?.generic_search_term ?? null,
        roomTypes: body.filter?.room_types ?? null,
        includeAllNetworks: body.include_all_networks ?? false,
        thirdPartyInstanceId: body.third_party_instance_id ?? null,
        server: query.server ?? null,
      }),
  });

  router.route({
    method: "GET",
    path: "/directory/list/room/:roomId",
    auth: "none",
    handler: async ({ params }) => ({ visibility: await deps.directory.visibility(params.roomId!) }),
  });

  router.route({
    method: "PUT",
    path: "/directory/list/room/:roomId",
    auth: "required",
    body: SetVisibilityBody,
    handler: async ({ requester, params, body }) => {
      await deps.directory.setVisibility(requester, params.roomId!, body.visibility ?? "public");
      return {};
    },
  });
}
