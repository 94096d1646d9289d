/**
 * The composition root: the only file that builds every module and picks the storage
 * backend. Each module gets exactly the dependencies it uses (no service locator).
 * createApp() returns a started-but-not-listening App; main.ts and tests call listen().
 */
import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";
import type { Config } from "./config/schema.js";
import { databasePath, publicBaseUrl } from "./config/load.js";
import { parseServerName } from "./events/ids.js";
import { openSqliteStorage } from "./storage/sqlite/index.js";
import type { Storage } from "./storage/storage.js";
import { LocalNotifier } from "./notifier/local-notifier.js";
import type { Notifier } from "./notifier/notifier.js";
import { systemClock, type Clock } from "./util/clock.js";
import { PasswordHasher } from "./accounts/passwords.js";
import { Authenticator } from "./accounts/authenticator.js";
import { UserInteractiveAuth } from "./accounts/uia.js";
import { Sessions } from "./accounts/sessions.js";
import { Registration } from "./accounts/registration.js";
import { PasswordLogin } from "./accounts/login.js";
import { AccountManagement } from "./accounts/account-management.js";
import { Devices } from "./accounts/devices.js";
import { Profiles } from "./accounts/profiles.js";
import { Filters } from "./filters/filters.js";
import { loadOrCreateSigningKey, type SigningKey } from "./events/signing.js";
import { KeyedMutex } from "./util/keyed-mutex.js";
import { EventWriter } from "./rooms/event-writer.js";
import { PushRules } from "./push/push-rules.js";
import { PushRecipients } from "./push/recipients.js";
import { IgnoreLists } from "./push/ignore-lists.js";
import { UnreadCounts } from "./push/unread-counts.js";
import { Notifications } from "./push/notifications.js";
import { Pushers } from "./push/pushers.js";
import { Memberships } from "./rooms/memberships.js";
import { RoomCreator } from "./rooms/create-room.js";
import { RoomReads } from "./rooms/room-reads.js";
import { RoomAliases } from "./rooms/aliases.js";
import { RoomDirectory } from "./rooms/directory.js";
import { E2eKeys } from "./keys/e2e-keys.js";
import { HistoryVisibility } from "./rooms/visibility.js";
import { AccountData } from "./userdata/account-data.js";
import { RoomTags } from "./userdata/tags.js";
import { Receipts } from "./ephemeral/receipts.js";
import { Typing, TYPING_DEFAULTS } from "./ephemeral/typing.js";
import { Presence } from "./ephemeral/presence.js";
import { ToDevice } from "./ephemeral/to-device.js";
import { RateLimiter } from "./http/rate-limit.js";
import { SyncV2Engine, type SyncEvents } from "./sync/v2/sync-v2.js";
import { SentMembers } from "./sync/v2/sent-members.js";
import { HighWaterMark, judgeStartup, readHighWaterMark } from "./streams/high-water-mark.js";
import { RoomEventSerializer } from "./rooms/room-event-serializer.js";
import { HttpMetrics } from "./http/metrics.js";
import { buildHttpServer } from "./http/server.js";
import { registerRoutes } from "./http/routes.js";

export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
}

/** Everything the HTTP routes need, built once. */
export interface Services {
  config: Config;
  clock: Clock;
  /** Advertised in .well-known and login; without a configured one, the address bound by listen(). */
  publicBaseUrl: string;
  storage: Storage;
  notifier: Notifier;
  metrics: HttpMetrics;
  authenticator: Authenticator;
  sessions: Sessions;
  registration: Registration;
  login: PasswordLogin;
  accountManagement: AccountManagement;
  devices: Devices;
  profiles: Profiles;
  filters: Filters;
  signingKey: SigningKey;
  writer: EventWriter;
  pushRules: PushRules;
  unreadCounts: UnreadCounts;
  notifications: Notifications;
  pushers: Pushers;
  memberships: Memberships;
  roomCreator: RoomCreator;
  roomReads: RoomReads;
  syncV2: SyncV2Engine;
  aliases: RoomAliases;
  directory: RoomDirectory;
  e2eKeys: E2eKeys;
  accountData: AccountData;
  tags: RoomTags;
  receipts: Receipts;
  typing: Typing;
  presence: Presence;
  toDevice: ToDevice;
  limits: { loginPerAddress: RateLimiter; loginPerAccount: RateLimiter; registerPerAddress: RateLimiter };
}

export interface App {
  readonly services: Services;
  readonly http: FastifyInstance;
  readonly logger: Logger;
  /** Starts listening; resolves with the base URL actually bound. */
  listen(): Promise<string>;
  /** Graceful stop: wake parked waiters, stop accepting, finish requests, close storage. */
  close(): Promise<void>;
}

/** Builds the domain services on a storage (used by the server and by the CLI). */
export function buildServices(config: Config, storage: Storage, clock: Clock, signingKey: SigningKey, syncHooks: SyncEvents = {}): Omit<Services, "metrics"> {
  const serverName = parseServerName(config.serverName);
  const notifier = new LocalNotifier();
  storage.sequencer.onRetired((change) => notifier.publish(change));
  const hasher = new PasswordHasher(config.auth.passwordHashCost);
  const uia = new UserInteractiveAuth(storage, hasher, clock, {
    serverName,
    sessionTtlMs: config.auth.uiaSessionTtlMs,
    registrationTokens: config.registration.tokens,
  });
  const sessions = new Sessions(storage, clock, config.auth.accessTokenLifetimeMs);
  const registration = new Registration(storage, hasher, uia, sessions, clock, {
    mode: config.registration.mode,
    serverName,
    minPasswordLength: config.auth.minPasswordLength,
  });
  const pushRules = new PushRules(storage);
  storage.sequencer.onRetired((change) => pushRules.onChange(change)); // rule caches follow every change
  const unreadCounts = new UnreadCounts(storage);
  storage.sequencer.onRetired((change) => unreadCounts.onChange(change)); // a receipt retires the user's running totals
  const ignoreLists = new IgnoreLists(storage);
  storage.sequencer.onRetired((change) => ignoreLists.onChange(change)); // follows every m.ignored_user_list change
  const writer = new EventWriter(storage, new KeyedMutex(), { serverName, signingKey }, clock, new PushRecipients(storage, pushRules, ignoreLists, clock));
  const memberships = new Memberships(storage, writer, serverName);
  const accountData = new AccountData(storage, { readPushRules: (u) => pushRules.all(u) });
  const typing = new Typing(storage, clock, TYPING_DEFAULTS);
  const presence = new Presence(storage, clock, { idleAfterMs: config.presence.idleAfterMs });
  const syncV2 = new SyncV2Engine(
    { storage, serializer: new RoomEventSerializer(storage), unreadCounts, typing, pushRules: { pushRulesContent: (u) => pushRules.all(u) }, sentMembers: new SentMembers(), ignoreLists },
    storage.sequencer,
    notifier,
    clock,
    { linearMaxDelta: config.sync.linearMaxDelta, staleSince: config.sync.staleSince },
    {
      ...syncHooks,
      // Polling /sync marks the user active, or idle with set_presence=unavailable; offline changes nothing.
      syncing: (userId, setPresence) => {
        if (setPresence === "online") void presence.bumpActivity(userId).catch(() => {});
        else if (setPresence === "unavailable") void presence.markIdleFromSync(userId).catch(() => {});
      },
    },
  );
  return {
    config,
    clock,
    publicBaseUrl: publicBaseUrl(config),
    storage,
    notifier,
    authenticator: new Authenticator(storage, clock),
    sessions,
    registration,
    login: new PasswordLogin(storage, hasher, sessions, serverName),
    accountManagement: new AccountManagement(storage, hasher, uia, registration, clock),
    devices: new Devices(storage, uia, clock),
    profiles: new Profiles(storage, clock),
    filters: new Filters(storage),
    signingKey,
    writer,
    pushRules,
    unreadCounts,
    notifications: new Notifications(storage, unreadCounts),
    pushers: new Pushers(storage),
    memberships,
    roomCreator: new RoomCreator(storage, writer, memberships, serverName),
    roomReads: new RoomReads(storage),
    aliases: new RoomAliases(storage, writer, serverName),
    directory: new RoomDirectory(storage, serverName),
    e2eKeys: new E2eKeys(storage, serverName),
    accountData,
    tags: new RoomTags(storage, accountData),
    receipts: new Receipts(storage, new HistoryVisibility(storage), accountData, clock),
    typing,
    presence,
    syncV2,
    toDevice: new ToDevice(storage, serverName),
    limits: {
      loginPerAddress: new RateLimiter(config.rateLimits.loginPerAddress, clock),
      loginPerAccount: new RateLimiter(config.rateLimits.loginPerAccount, clock),
      registerPerAddress: new RateLimiter(config.rateLimits.registerPerAddress, clock),
    },
  };
}

/** The high-water mark file lives next to the database: a restore of the database leaves it be. */
export function highWaterMarkPath(config: Config): string {
  return `${databasePath(config)}.hwm`;
}

/**
 * Start-up check (issue 7): if the database is behind the positions clients were given,
 * every token and cache is suspect: say so loudly, rotate the epoch (all older tokens become
 * stale and are answered with a resync), and count it.
 */
async function checkHighWaterMark(config: Config, storage: Storage, logger: Logger, metrics: HttpMetrics): Promise<HighWaterMark> {
  const path = highWaterMarkPath(config);
  let epoch = await storage.meta.epoch();
  const highest = await storage.streams.highestPosition();
  const file = await readHighWaterMark(path);
  const verdict = judgeStartup(file, { epoch, highest });
  const mark = new HighWaterMark(path, epoch, verdict.kind === "ok" && file ? file.pos : highest, (err) =>
    logger.error({ err, path }, "could not write the high-water mark; syncs will wait for it and fail until it can be written"),
  );
  if (verdict.kind === "behind") {
    epoch = await storage.meta.rotateEpoch();
    metrics.databaseBehind.inc();
    logger.error(
      { recorded: verdict.recorded, database: verdict.database, newEpoch: epoch },
      "DATABASE IS BEHIND: clients were given positions this database does not have (restored from a backup?). " +
        "The sync epoch was rotated; every client will be told to resync.",
    );
  } else if (verdict.kind === "other-epoch") {
    // Another database lineage (e.g. a backup taken before an earlier restore): its own old
    // tokens could still look valid by position and stamp, so start a fresh epoch too.
    epoch = await storage.meta.rotateEpoch();
    logger.warn({ fileEpoch: verdict.fileEpoch, newEpoch: epoch }, "high-water mark belongs to another database; sync epoch rotated");
  }
  if (verdict.kind !== "ok") await mark.reset(epoch, highest);
  return mark;
}

/** The notifier learns who is in which room once at start-up; membership events keep it current. */
async function loadRoomMembers(storage: Storage, notifier: Notifier): Promise<void> {
  const byRoom = new Map<string, string[]>();
  for (const m of await storage.rooms.activeMemberships()) {
    const list = byRoom.get(m.roomId) ?? [];
    list.push(m.userId);
    byRoom.set(m.roomId, list);
  }
  for (const [roomId, users] of byRoom) notifier.setRoomMembers(roomId, users);
}

export function signingKeyPath(config: Config): string {
  return `${config.dataDir.replace(/\/$/, "")}/signing.key`;
}

export function openStorage(config: Config): Storage {
  switch (config.database.backend) {
    case "sqlite":
      return openSqliteStorage({ path: databasePath(config) });
  }
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const logger = opts.logger ?? pino({ level: config.log.level, base: { service: "sluice" } });
  const clock = opts.clock ?? systemClock;
  if (config.registration.mode === "token" && config.registration.tokens.length === 0) {
    logger.warn("registration.mode is token but no registration.tokens are configured: nobody can register");
  }
  const storage = openStorage(config);
  const signingKey = await loadOrCreateSigningKey(signingKeyPath(config));
  const metrics = new HttpMetrics();
  const highWater = await checkHighWaterMark(config, storage, logger, metrics);
  // Every retired position starts its durable mark at once, so the sync that names it seldom waits.
  storage.sequencer.onRetired((change) => highWater.advance(change.pos));
  const syncHooks: SyncEvents = {
    issuing: (pos) => highWater.ensure(pos, storage.sequencer.retired()),
    staleToken: (userId, cause, { deviceId, answer }) => {
      metrics.staleTokens.inc({ cause });
      logger.warn({ userId, deviceId, cause, answer }, "stale sync token: the client's cache does not match this database; telling it to resync");
    },
  };
  const services: Services = { ...buildServices(config, storage, clock, signingKey, syncHooks), metrics };
  await loadRoomMembers(storage, services.notifier);
  const http = await buildHttpServer({ logger, metrics, maxBodyBytes: config.http.maxBodyBytes, trustProxy: config.http.trustProxy });
  registerRoutes(http, services);
  const uiaSweep = setInterval(() => void storage.uia.purgeExpired(clock.now()).catch((err) => logger.warn({ err }, "UIA purge failed")), 60_000);
  uiaSweep.unref();
  services.presence.startIdleSweep(); // idle users become unavailable on their own

  let closed: Promise<void> | null = null;
  return {
    services,
    http,
    logger,
    async listen() {
      await http.listen({ host: config.listen.host, port: config.listen.port });
      const addr = http.server.address();
      const port = typeof addr === "object" && addr ? addr.port : config.listen.port;
      const host = config.listen.host.includes(":") ? `[${config.listen.host}]` : config.listen.host;
      const url = `http://${host}:${port}`;
      // The default public URL was computed from the configured port, which may be 0 (any).
      if (!config.publicBaseUrl) services.publicBaseUrl = url;
      logger.info({ serverName: config.serverName, url }, "listening");
      return url;
    },
    close() {
      closed ??= (async () => {
        clearInterval(uiaSweep);
        services.typing.close();
        services.presence.close();
        services.notifier.shutdown(); // parked long-polls answer now instead of holding close()
        // Requests in flight get shutdown.graceMs; idle keep-alive connections must not hold
        // the close (fastify closes idle ones only once, when closing starts).
        const idleSweep = setInterval(() => http.server.closeIdleConnections(), 100);
        const force = setTimeout(() => http.server.closeAllConnections(), config.shutdown.graceMs);
        try {
          await http.close();
        } finally {
          clearInterval(idleSweep);
          clearTimeout(force);
        }
        await highWater.close();
        await storage.close();
        logger.info("stopped");
      })();
      return closed;
    },
  };
}
