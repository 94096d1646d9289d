/** POST /user/{userId}/filter and GET /user/{userId}/filter/{filterId}. */
import { parseUserId } from "../../events/ids.js";
import type { ClientRouter } from "../../http/client-router.js";
import { Filter } from "../../filters/filter-schema.js";
import type { Filters } from "../../filters/filters.js";

export function registerFilterRoutes(router: ClientRouter, deps: { filters: Filters }): void {
  router.route({
    method: "POST",
    path: "/user/:userId/filter",
    auth: "required",
    body: Filter,
    handler: async ({ requester, params, body }) => ({
      filter_id: await deps.filters.create(requester, parseUserId(params.userId!), body),
    }),
  });

  router.route({
    method: "GET",
    path: "/user/:userId/filter/:filterId",
    auth: "required",
    handler: async ({ requester, params }) => deps.filters.get(requester, parseUserId(params.userId!), params.filterId!),
  });
}
