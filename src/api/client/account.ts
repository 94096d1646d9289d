/** GET /account/whoami, POST /account/password, POST /account/deactivate. */
import Type from "typebox";
import type { ClientRouter } from "../../http/client-router.js";
import type { AccountManagement } from "../../accounts/account-management.js";

const PasswordBody = Type.Object({
  new_password: Type.String({ maxLength: 512 }),
  logout_devices: Type.Optional(Type.Boolean()),
  auth: Type.Optional(Type.Object({})),
});

const DeactivateBody = Type.Object({
  auth: Type.Optional(Type.Object({})),
  erase: Type.Optional(Type.Boolean()),
  id_server: Type.Optional(Type.String()),
});

export function registerAccountRoutes(router: ClientRouter, deps: { accounts: AccountManagement }): void {
  router.route({
    method: "GET",
    path: "/account/whoami",
    auth: "required",
    handler: async ({ requester }) => ({ user_id: requester.userId, device_id: requester.deviceId, is_guest: false }),
  });

  router.route({
    method: "POST",
    path: "/account/password",
    auth: "required",
    body: PasswordBody,
    handler: async ({ requester, body }) => {
      await deps.accounts.changePassword(requester, body.new_password, body.logout_devices !== false, body.auth);
      return {};
    },
  });

  router.route({
    method: "POST",
    path: "/account/deactivate",
    auth: "required",
    body: DeactivateBody,
    handler: async ({ requester, body }) => {
      await deps.accounts.deactivate(requester, body.auth);
      // We hold no third-party identifiers, so there is nothing to unbind.
      return { id_server_unbind_result: "no-support" };
    },
  });
}
