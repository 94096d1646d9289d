/**
 * Every configuration knob of Sluice: named, typed, defaulted and described in one place.
 * In:  the YAML file (optional) merged with SLUICE_* environment overrides (see load.ts).
 * Out: `Config`, validated and frozen once at start-up; code receives values, never reads env.
 * docs/configuration.md lists the same knobs for operators: keep both in step.
 */
import Type, { type Static } from "typebox";

const RateLimit = Type.Object(
  {
    perSecond: Type.Number({ exclusiveMinimum: 0, description: "tokens added per second" }),
    burst: Type.Integer({ minimum: 1, description: "bucket size: requests allowed at once" }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    serverName: Type.String({ default: "localhost", minLength: 1, description: "the server part of user ids; never change it after the first start" }),
    listen: Type.Object(
      {
        host: Type.String({ default: "127.0.0.1", description: "address to bind" }),
        port: Type.Integer({ default: 8008, minimum: 0, maximum: 65535, description: "TCP port (0 picks a free one)" }),
      },
      { additionalProperties: false, default: {} },
    ),
    publicBaseUrl: Type.Optional(Type.String({ description: "client-facing base URL for .well-known; default http://<listen.host>:<listen.port>" })),
    dataDir: Type.String({ default: "./data", description: "directory for the database, signing key and other state" }),
    database: Type.Object(
      {
        backend: Type.Union([Type.Literal("sqlite")], { default: "sqlite", description: "storage backend" }),
        path: Type.Optional(Type.String({ description: "SQLite file; default <dataDir>/sluice.db" })),
      },
      { additionalProperties: false, default: {} },
    ),
    registration: Type.Object(
      {
        mode: Type.Union([Type.Literal("closed"), Type.Literal("open"), Type.Literal("token")], { default: "closed", description: "who may register over the API" }),
        tokens: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._~-]+$" }), { default: [], description: "valid registration tokens when mode is token" }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: Type.Object(
      {
        accessTokenLifetimeMs: Type.Integer({ default: 300_000, minimum: 1000, description: "lifetime of access tokens issued with a refresh token" }),
        passwordHashCost: Type.Integer({ default: 15, minimum: 10, maximum: 20, description: "scrypt cost as log2(N); 15 = 32 MiB, ~0.15 s per hash" }),
        minPasswordLength: Type.Integer({ default: 8, minimum: 0, description: "shortest password accepted at registration and change" }),
        uiaSessionTtlMs: Type.Integer({ default: 600_000, minimum: 1000, description: "how long a user-interactive auth session lives" }),
      },
      { additionalProperties: false, default: {} },
    ),
    rateLimits: Type.Object(
      {
        loginPerAddress: Type.Object(RateLimit.properties, { additionalProperties: false, default: { perSecond: 0.17, burst: 3 } }),
        loginPerAccount: Type.Object(RateLimit.properties, { additionalProperties: false, default: { perSecond: 0.17, burst: 3 } }),
        registerPerAddress: Type.Object(RateLimit.properties, { additionalProperties: false, default: { perSecond: 0.17, burst: 3 } }),
      },
      { additionalProperties: false, default: {} },
    ),
    http: Type.Object(
      {
        maxBodyBytes: Type.Integer({ default: 1_048_576, minimum: 1024, description: "largest accepted request body" }),
        trustProxy: Type.Boolean({ default: false, description: "use X-Forwarded-For for client addresses (behind a reverse proxy)" }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
          { default: "info", description: "pino log level" },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    metrics: Type.Object(
      { enabled: Type.Boolean({ default: true, description: "serve Prometheus metrics at /metrics" }) },
      { additionalProperties: false, default: {} },
    ),
    presence: Type.Object(
      {
        idleAfterMs: Type.Integer({ default: 300_000, minimum: 1000, description: "an online user with no activity for this long becomes unavailable" }),
      },
      { additionalProperties: false, default: {} },
    ),
    sync: Type.Object(
      {
        linearMaxDelta: Type.Integer({ default: 1024, minimum: 0, description: "incremental syncs spanning at most this many positions scan the log (linear); larger gaps use point look-ups (polylog)" }),
        timeoutMaxMs: Type.Integer({ default: 120_000, minimum: 0, description: "longest long-poll a client may ask for with ?timeout=" }),
        staleSince: Type.Union([Type.Literal("full_state"), Type.Literal("error"), Type.Literal("empty_initial")], {
          default: "full_state",
          description: "answer to a since token from a history this database no longer has (restore, forced resync), for clients that did not opt in to MSC2855",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    shutdown: Type.Object(
      { graceMs: Type.Integer({ default: 10_000, minimum: 0, description: "how long SIGTERM waits for requests in flight" }) },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
