/**
 * Account data and room tags: GET|PUT /user/{userId}/account_data/{type},
 * GET|PUT /user/{userId}/rooms/{roomId}/account_data/{type}, GET /user/{userId}/rooms/{roomId}/tags,
 * PUT|DELETE /user/{userId}/rooms/{roomId}/tags/{tag}.
 */
import Type from "typebox";
import type { ClientRouter } from "../../http/client-router.js";
import type { AccountData } from "../../userdata/account-data.js";
import type { RoomTags } from "../../userdata/tags.js";

const AnyObject = Type.Object({});

export function registerAccountDataRoutes(router: ClientRouter, deps: { accountData: AccountData; tags: RoomTags }): void {
  router.route({
    method: "GET",
    path: "/user/:userId/account_data/:type",
    auth: "required",
    handler: async ({ requester, params }) => deps.accountData.get(requester, params.userId!, null, params.type!),
  });

  router.route({
    method: "PUT",
    path: "/user/:userId/account_data/:type",
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, body }) => {
      await deps.accountData.put(requester, params.userId!, null, params.type!, body as Record<string, unknown>);
      return {};
    },
  });

  router.route({
    method: "GET",
    path: "/user/:userId/rooms/:roomId/account_data/:type",
    auth: "required",
    handler: async ({ requester, params }) => deps.accountData.get(requester, params.userId!, params.roomId!, params.type!),
  });

  router.route({
    method: "PUT",
    path: "/user/:userId/rooms/:roomId/account_data/:type",
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, body }) => {
      await deps.accountData.put(requester, params.userId!, params.roomId!, params.type!, body as Record<string, unknown>);
      return {};
    },
  });

  router.route({
    method: "GET",
    path: "/user/:userId/rooms/:roomId/tags",
    auth: "required",
    handler: async ({ requester, params }) => ({ tags: await deps.tags.list(requester, params.userId!, params.roomId!) }),
  });

  router.route({
    method: "PUT",
    path: "/user/:userId/rooms/:roomId/tags/:tag",
    auth: "required",
    body: AnyObject,
    handler: async ({ requester, params, body }) => {
      await deps.tags.add(requester, params.userId!, params.roomId!, params.tag!, body as Record<string, unknown>);
      return {};
    },
  });

  router.route({
    method: "DELETE",
    path: "/user/:userId/rooms/:roomId/tags/:tag",
    auth: "required",
    handler: async ({ requester, params }) => {
      await deps.tags.remove(requester, params.userId!, params.roomId!, params.tag!);
      return {};
    },
  });
}
