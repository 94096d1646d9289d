/** GET /capabilities: what this server lets clients change. */
import type { ClientRouter } from "../../http/client-router.js";

export function registerCapabilityRoutes(router: ClientRouter, deps: { defaultRoomVersion: string; roomVersions: readonly string[] }): void {
  router.route({
    method: "GET",
    path: "/capabilities",
    auth: "required",
    handler: async () => ({
      capabilities: {
        "m.change_password": { enabled: true },
        "m.room_versions": {
          default: deps.defaultRoomVersion,
          available: Object.fromEntries(deps.roomVersions.map((v) => [v, "stable"])),
        },
        "m.set_displayname": { enabled: true },
        "m.set_avatar_url": { enabled: true },
        "m.3pid_changes": { enabled: false },
        "m.get_login_token": { enabled: false },
      },
    }),
  });
}
