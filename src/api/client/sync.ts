/**
 * GET /sync (v3 and r0). Parses the request, ties the computation to the client's socket
 * (a closed connection aborts a parked long-poll: no work continues for nobody), and runs
 * the sync v2 engine.
 */
import type { ClientRouter } from "../../http/client-router.js";
import type { Storage } from "../../storage/storage.js";
import { parseSyncRequest } from "../../sync/v2/request.js";
import type { SyncV2Engine } from "../../sync/v2/sync-v2.js";
import { Cancellation } from "../../util/cancellation.js";

export function registerSyncRoutes(router: ClientRouter, deps: { engine: SyncV2Engine; storage: Storage; timeoutMaxMs: number }): void {
  router.route({
    method: "GET",
    path: "/sync",
    auth: "required",
    handler: async ({ requester, query, request, reply }) => {
      const req = await parseSyncRequest(query, requester.userId, deps.storage, deps.timeoutMaxMs);
      const cancel = new Cancellation();
      const onClose = () => {
        if (!reply.raw.writableEnded) cancel.cancel();
      };
      request.raw.socket?.once("close", onClose);
      try {
        const { body } = await deps.engine.sync(requester.userId, requester.deviceId, req, cancel);
        return body;
      } finally {
        request.raw.socket?.off("close", onClose);
      }
    },
  });
}
