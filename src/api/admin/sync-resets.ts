/**
 * POST /_sluice/admin/v1/reset_sync — an operator forces clients to resync (issue 7).
 * Body: { "all": true } | { "user_id": "@u:server" } | { "user_id": …, "device_id": … },
 * optional "reason". Server admins only (403 M_FORBIDDEN otherwise). Answers the position
 * from which tokens are valid again. docs/operations/backup-and-restore.md documents it.
 */
import Type from "typebox";
import { BadJsonError, ForbiddenError } from "../../errors/matrix-error.js";
import { parseDeviceId, parseUserId } from "../../events/ids.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { Storage } from "../../storage/storage.js";
import { resetSyncOnServer, type ResetScope } from "../../sync/resets.js";
import type { Clock } from "../../util/clock.js";

const ResetBody = Type.Object({
  all: Type.Optional(Type.Boolean()),
  user_id: Type.Optional(Type.String({ maxLength: 255 })),
  device_id: Type.Optional(Type.String({ maxLength: 255 })),
  reason: Type.Optional(Type.String({ maxLength: 1024 })),
});

export function registerSyncResetRoutes(router: ClientRouter, deps: { storage: Storage; clock: Clock; log: (fields: Record<string, unknown>) => void }): void {
  router.exact({
    method: "POST",
    path: "/_sluice/admin/v1/reset_sync",
    auth: "required",
    body: ResetBody,
    handler: async ({ requester, body }) => {
      if (!requester.isAdmin) throw new ForbiddenError("Only server admins may force a resync");
      let target: ResetScope;
      if (body.all === true) {
        if (body.user_id !== undefined || body.device_id !== undefined) throw new BadJsonError("Give either all, or user_id (and device_id)");
        target = { scope: "all" };
      } else if (body.user_id !== undefined) {
        const userId = parseUserId(body.user_id);
        target = body.device_id !== undefined ? { scope: "device", userId, deviceId: parseDeviceId(body.device_id) } : { scope: "user", userId };
      } else if (body.device_id !== undefined) {
        throw new BadJsonError("device_id needs user_id");
      } else {
        throw new BadJsonError("Give all: true, or user_id (and device_id)");
      }
      const pos = await resetSyncOnServer(deps.storage, deps.clock, target, body.reason);
      deps.log({ by: requester.userId, ...target, pos, reason: body.reason }, );
      return { reset: target.scope, position: pos };
    },
  });
}
