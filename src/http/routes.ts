/**
 * The one explicit list of every API module mounted on the server. Adding an endpoint
 * group means adding one line here; nothing registers itself by side effect.
 */
import type { FastifyInstance } from "fastify";
import type { Services } from "../app.js";
import { ClientRouter } from "./client-router.js";
import { registerSyncRoutes } from "../api/client/sync.js";
import { registerSyncResetRoutes } from "../api/admin/sync-resets.js";
import { registerServerKeyRoutes } from "../api/federation/keys.js";
import { registerVersionRoutes } from "../api/client/versions.js";
import { registerRegisterRoutes } from "../api/client/register.js";
import { registerLoginRoutes } from "../api/client/login.js";
import { registerAccountRoutes } from "../api/client/account.js";
import { registerDeviceRoutes } from "../api/client/devices.js";
import { registerCapabilityRoutes } from "../api/client/capabilities.js";
import { registerProfileRoutes } from "../api/client/profile.js";
import { registerFilterRoutes } from "../api/client/filter.js";
import { registerCreateRoomRoutes } from "../api/client/rooms/create.js";
import { registerMembershipRoutes } from "../api/client/rooms/membership.js";
import { registerSendRoutes } from "../api/client/rooms/send.js";
import { registerRoomReadRoutes } from "../api/client/rooms/reads.js";
import { registerDirectoryRoutes } from "../api/client/rooms/directory.js";
import { registerPushRoutes } from "../api/client/push.js";
import { registerKeyRoutes } from "../api/client/keys.js";
import { registerAccountDataRoutes } from "../api/client/account-data.js";
import { registerReceiptRoutes } from "../api/client/receipts.js";
import { registerTypingRoutes } from "../api/client/typing.js";
import { registerPresenceRoutes } from "../api/client/presence.js";
import { registerToDeviceRoutes } from "../api/client/to-device.js";

export function registerRoutes(app: FastifyInstance, s: Services): void {
  const router = new ClientRouter(app, s.authenticator);
  registerVersionRoutes(router, { publicBaseUrl: () => s.publicBaseUrl });
  registerRegisterRoutes(router, { registration: s.registration, registerLimiter: s.limits.registerPerAddress, registrationTokens: s.config.registration.tokens, registrationMode: s.config.registration.mode });
  registerLoginRoutes(router, {
    login: s.login,
    sessions: s.sessions,
    perAddress: s.limits.loginPerAddress,
    perAccount: s.limits.loginPerAccount,
    publicBaseUrl: () => s.publicBaseUrl,
    serverName: s.config.serverName,
  });
  registerAccountRoutes(router, { accounts: s.accountManagement });
  registerDeviceRoutes(router, { devices: s.devices });
  registerCapabilityRoutes(router, { defaultRoomVersion: "10", roomVersions: ["10", "11"] });
  registerProfileRoutes(router, { profiles: s.profiles });
  registerFilterRoutes(router, { filters: s.filters });
  registerCreateRoomRoutes(router, { roomCreator: s.roomCreator });
  registerMembershipRoutes(router, { memberships: s.memberships, storage: s.storage });
  registerSendRoutes(router, { writer: s.writer, memberships: s.memberships });
  registerRoomReadRoutes(router, { roomReads: s.roomReads });
  registerDirectoryRoutes(router, { aliases: s.aliases, directory: s.directory });
  registerPushRoutes(router, { pushRules: s.pushRules, pushers: s.pushers, notifications: s.notifications });
  registerKeyRoutes(router, { keys: s.e2eKeys });
  registerAccountDataRoutes(router, { accountData: s.accountData, tags: s.tags });
  registerReceiptRoutes(router, { receipts: s.receipts });
  registerTypingRoutes(router, { typing: s.typing });
  registerPresenceRoutes(router, { presence: s.presence });
  registerToDeviceRoutes(router, { toDevice: s.toDevice });

  registerSyncRoutes(router, { engine: s.syncV2, storage: s.storage, timeoutMaxMs: s.config.sync.timeoutMaxMs });
  registerSyncResetRoutes(router, { storage: s.storage, clock: s.clock, log: (fields) => app.log.warn(fields, "operator forced a resync") });
  registerServerKeyRoutes(app, { serverName: s.config.serverName, signingKey: s.signingKey });

  if (s.config.metrics.enabled) {
    app.get("/metrics", async (_req, reply) => {
      const text = await s.metrics.registry.metrics();
      return reply.type(s.metrics.registry.contentType).send(text);
    });
  }
}
