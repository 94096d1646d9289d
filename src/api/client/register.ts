/** POST /register, GET /register/available, GET /register/m.login.registration_token/validity. */
import Type from "typebox";
import { ForbiddenError, MissingParamError } from "../../errors/matrix-error.js";
import { parseDeviceId } from "../../events/ids.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { RateLimiter } from "../../http/rate-limit.js";
import type { Registration, RegistrationMode } from "../../accounts/registration.js";

const RegisterBody = Type.Object({
  username: Type.Optional(Type.String({ maxLength: 255 })),
  password: Type.Optional(Type.String({ maxLength: 512 })),
  device_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  initial_device_display_name: Type.Optional(Type.String({ maxLength: 512 })),
  inhibit_login: Type.Optional(Type.Boolean()),
  refresh_token: Type.Optional(Type.Boolean()),
  auth: Type.Optional(Type.Object({})),
});

export interface RegisterDeps {
  registration: Registration;
  registerLimiter: RateLimiter;
  registrationTokens: readonly string[];
  registrationMode: RegistrationMode;
}

export function registerRegisterRoutes(router: ClientRouter, deps: RegisterDeps): void {
  router.route({
    method: "POST",
    path: "/register",
    auth: "none",
    body: RegisterBody,
    handler: async ({ body, query, ip }) => {
      // The first request of a registration counts; UIA follow-ups carry the session it
      // opened and do not. A request with `auth` but no session starts a registration too
      // (a client may skip the challenge), so it counts. Every registration-token attempt
      // counts as well, or one session would allow unlimited guesses of the token.
      const auth = body.auth as { session?: unknown; type?: unknown } | undefined;
      if (typeof auth?.session !== "string" || auth.type === "m.login.registration_token") deps.registerLimiter.consume(ip);
      const result = await deps.registration.register({
        kind: query.kind ?? "user",
        username: body.username,
        password: body.password,
        deviceId: body.device_id !== undefined ? parseDeviceId(body.device_id) : undefined,
        initialDeviceDisplayName: body.initial_device_display_name,
        inhibitLogin: body.inhibit_login === true,
        withRefresh: body.refresh_token === true,
        auth: body.auth,
        ip,
      });
      return { ...result, home_server: result.user_id.slice(result.user_id.indexOf(":") + 1) };
    },
  });

  router.route({
    method: "GET",
    path: "/register/available",
    auth: "none",
    handler: async ({ query, ip }) => {
      deps.registerLimiter.consume(ip);
      if (query.username === undefined) throw new MissingParamError("Missing username");
      return { available: await deps.registration.checkAvailable(query.username) };
    },
  });

  router.route({
    method: "GET",
    path: "/register/m.login.registration_token/validity",
    auth: "none",
    handler: async ({ query, ip }) => {
      deps.registerLimiter.consume(ip);
      if (query.token === undefined) throw new MissingParamError("Missing token");
      // Spec: a server that does not permit registration answers 403 M_FORBIDDEN here.
      if (deps.registrationMode === "closed") throw new ForbiddenError("Registration is disabled");
      return { valid: deps.registrationTokens.includes(query.token) };
    },
  });
}
