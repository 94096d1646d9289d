/**
 * The push notification endpoint groups, registered together: push rules, pushers and
 * GET /notifications (client-server API, "Push Notifications").
 */
import type { ClientRouter } from "../../http/client-router.js";
import type { Notifications } from "../../push/notifications.js";
import type { Pushers } from "../../push/pushers.js";
import type { PushRules } from "../../push/push-rules.js";
import { registerNotificationRoutes } from "./notifications.js";
import { registerPusherRoutes } from "./pushers.js";
import { registerPushRuleRoutes } from "./pushrules.js";

export function registerPushRoutes(router: ClientRouter, deps: { pushRules: PushRules; pushers: Pushers; notifications: Notifications }): void {
  registerPushRuleRoutes(router, { pushRules: deps.pushRules });
  registerPusherRoutes(router, { pushers: deps.pushers });
  registerNotificationRoutes(router, { notifications: deps.notifications });
}
