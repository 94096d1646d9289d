/** GET /devices, GET|PUT|DELETE /devices/{deviceId}, POST /delete_devices. */
import Type from "typebox";
import { parseDeviceId } from "../../events/ids.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { Devices } from "../../accounts/devices.js";

const RenameBody = Type.Object({ display_name: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])) });
const DeleteBody = Type.Object({ auth: Type.Optional(Type.Object({})) });
const DeleteManyBody = Type.Object({
  devices: Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000 }),
  auth: Type.Optional(Type.Object({})),
});

export function registerDeviceRoutes(router: ClientRouter, deps: { devices: Devices }): void {
  router.route({
    method: "GET",
    path: "/devices",
    auth: "required",
    handler: async ({ requester }) => ({ devices: await deps.devices.list(requester) }),
  });

  router.route({
    method: "GET",
    path: "/devices/:deviceId",
    auth: "required",
    handler: async ({ requester, params }) => deps.devices.get(requester, parseDeviceId(params.deviceId!)),
  });

  router.route({
    method: "PUT",
    path: "/devices/:deviceId",
    auth: "required",
    body: RenameBody,
    handler: async ({ requester, params, body }) => {
      // An absent display_name leaves it unchanged (Synapse); an explicit null clears it.
      if (body.display_name !== undefined) await deps.devices.rename(requester, parseDeviceId(params.deviceId!), body.display_name);
      else await deps.devices.get(requester, parseDeviceId(params.deviceId!));
      return {};
    },
  });

  router.route({
    method: "DELETE",
    path: "/devices/:deviceId",
    auth: "required",
    body: DeleteBody,
    handler: async ({ requester, params, body }) => {
      await deps.devices.deleteOne(requester, parseDeviceId(params.deviceId!), body.auth);
      return {};
    },
  });

  router.route({
    method: "POST",
    path: "/delete_devices",
    auth: "required",
    body: DeleteManyBody,
    handler: async ({ requester, body }) => {
      await deps.devices.deleteMany(requester, body.devices.map(parseDeviceId), body.auth);
      return {};
    },
  });
}
