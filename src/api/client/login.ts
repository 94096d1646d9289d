/** GET|POST /login, POST /refresh, POST /logout, POST /logout/all. */
import Type from "typebox";
import { parseDeviceId } from "../../events/ids.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { RateLimiter } from "../../http/rate-limit.js";
import type { PasswordLogin } from "../../accounts/login.js";
import type { Sessions } from "../../accounts/sessions.js";

const LoginBody = Type.Object({
  type: Type.String(),
  identifier: Type.Optional(Type.Object({ type: Type.String() })),
  user: Type.Optional(Type.String({ maxLength: 512 })),
  password: Type.Optional(Type.String({ maxLength: 512 })),
  device_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  initial_device_display_name: Type.Optional(Type.String({ maxLength: 512 })),
  refresh_token: Type.Optional(Type.Boolean()),
});

const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1 }) });

export interface LoginDeps {
  login: PasswordLogin;
  sessions: Sessions;
  perAddress: RateLimiter;
  perAccount: RateLimiter;
  /** Read per request: with `listen.port: 0` it is known only once listening. */
  publicBaseUrl: () => string;
  serverName: string;
}

export function registerLoginRoutes(router: ClientRouter, deps: LoginDeps): void {
  router.route({
    method: "GET",
    path: "/login",
    auth: "none",
    handler: async () => ({ flows: [{ type: "m.login.password" }] }),
  });

  router.route({
    method: "POST",
    path: "/login",
    auth: "none",
    body: LoginBody,
    handler: async ({ body, ip }) => {
      deps.perAddress.consume(ip);
      const identifier = body.identifier as (Record<string, unknown> & { type: string }) | undefined;
      const claimed = deps.login.claimedUser({ identifier, user: body.user });
      if (claimed) deps.perAccount.consume(claimed);
      const tokens = await deps.login.login({
        type: body.type,
        identifier,
        user: body.user,
        password: body.password,
        deviceId: body.device_id !== undefined ? parseDeviceId(body.device_id) : undefined,
        initialDeviceDisplayName: body.initial_device_display_name,
        withRefresh: body.refresh_token === true,
        ip,
      });
      return { ...tokens, home_server: deps.serverName, well_known: { "m.homeserver": { base_url: deps.publicBaseUrl() } } };
    },
  });

  router.route({
    method: "POST",
    path: "/refresh",
    auth: "none",
    body: RefreshBody,
    handler: async ({ body }) => deps.sessions.refresh(body.refresh_token),
  });

  router.route({
    method: "POST",
    path: "/logout",
    auth: "required",
    handler: async ({ requester }) => {
      await deps.sessions.logout(requester);
      return {};
    },
  });

  router.route({
    method: "POST",
    path: "/logout/all",
    auth: "required",
    handler: async ({ requester }) => {
      await deps.sessions.logoutAll(requester);
      return {};
    },
  });
}
