/**
 * GET /notifications (notifications.yaml): the events the user was notified about, newest
 * first, paged with `from` = an earlier `next_token`; `only=highlight` keeps highlights.
 * `limit` defaults to 20 and is capped at 100; a malformed `limit` or `from` is 400
 * M_INVALID_PARAM.
 */
import { InvalidParamError } from "../../errors/matrix-error.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { Notifications } from "../../push/notifications.js";

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  if (!/^[0-9]{1,9}$/.test(raw)) throw new InvalidParamError("'limit' must be a non-negative integer");
  return Math.min(Math.max(Number(raw), 1), MAX_LIMIT);
}

export function registerNotificationRoutes(router: ClientRouter, deps: { notifications: Notifications }): void {
  router.route({
    method: "GET",
    path: "/notifications",
    auth: "required",
    handler: ({ requester, query }) =>
      deps.notifications.list(requester.userId, { from: query.from ?? null, limit: limitOf(query.limit), onlyHighlight: query.only === "highlight" }),
  });
}
