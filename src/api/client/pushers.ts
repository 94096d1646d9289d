/**
 * Pushers (pusher.yaml): GET /pushers and POST /pushers/set. The schema checks types only;
 * which fields are required depends on `kind` and is checked by push/pushers.ts
 * (M_MISSING_PARAM, as the spec's example answers).
 */
import Type from "typebox";
import { MissingParamError } from "../../errors/matrix-error.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { Pushers } from "../../push/pushers.js";

const SetPusherBody = Type.Object({
  kind: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  app_id: Type.Optional(Type.String()),
  pushkey: Type.Optional(Type.String()),
  app_display_name: Type.Optional(Type.String()),
  device_display_name: Type.Optional(Type.String()),
  profile_tag: Type.Optional(Type.String()),
  lang: Type.Optional(Type.String()),
  data: Type.Optional(Type.Object({})),
  append: Type.Optional(Type.Boolean()),
});

export function registerPusherRoutes(router: ClientRouter, deps: { pushers: Pushers }): void {
  router.route({ method: "GET", path: "/pushers", auth: "required", handler: ({ requester }) => deps.pushers.list(requester.userId) });

  router.route({
    method: "POST",
    path: "/pushers/set",
    auth: "required",
    body: SetPusherBody,
    handler: async ({ requester, body }) => {
      const { kind, app_id: appId, pushkey } = body;
      const missing = [kind === undefined ? "kind" : null, appId === undefined ? "app_id" : null, pushkey === undefined ? "pushkey" : null].filter((m) => m !== null);
      if (kind === undefined || appId === undefined || pushkey === undefined) throw new MissingParamError(`Missing parameters: ${missing.join(", ")}`);
      await deps.pushers.set(requester.userId, { ...body, kind, app_id: appId, pushkey, data: body.data as Record<string, unknown> | undefined });
      return {};
    },
  });
}
