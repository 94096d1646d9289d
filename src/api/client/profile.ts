/** GET /profile/{userId}, GET|PUT /profile/{userId}/displayname and /avatar_url. */
import Type from "typebox";
import { NotFoundError } from "../../errors/matrix-error.js";
import { parseUserId } from "../../events/ids.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { ProfileField, Profiles } from "../../accounts/profiles.js";

const FIELDS: readonly ProfileField[] = ["displayname", "avatar_url"];

export function registerProfileRoutes(router: ClientRouter, deps: { profiles: Profiles }): void {
  router.route({
    method: "GET",
    path: "/profile/:userId",
    auth: "optional",
    handler: async ({ params }) => deps.profiles.get(parseUserId(params.userId!)),
  });

  for (const field of FIELDS) {
    router.route({
      method: "GET",
      path: `/profile/:userId/${field}`,
      auth: "optional",
      handler: async ({ params }) => {
        const profile = await deps.profiles.get(parseUserId(params.userId!));
        if (profile[field] === undefined) throw new NotFoundError(`No ${field} set`);
        return { [field]: profile[field] };
      },
    });
    router.route({
      method: "PUT",
      path: `/profile/:userId/${field}`,
      auth: "required",
      body: Type.Object({ [field]: Type.Union([Type.String(), Type.Null()]) }),
      handler: async ({ requester, params, body }) => {
        await deps.profiles.set(requester, parseUserId(params.userId!), field, (body as Record<string, string | null>)[field] ?? null);
        return {};
      },
    });
  }
}
