/** POST /keys/upload, POST /keys/query, POST /keys/claim, GET /keys/changes. */
import Type from "typebox";
import { MissingParamError } from "../../errors/matrix-error.js";
import type { ClientRouter } from "../../http/client-router.js";
import type { E2eKeys } from "../../keys/e2e-keys.js";

const Signatures = Type.Record(Type.String(), Type.Record(Type.String(), Type.String()));

/** The spec's DeviceKeys; other fields are allowed (and signed) as clients may add some. */
const DeviceKeys = Type.Object({
  user_id: Type.String(),
  device_id: Type.String(),
  algorithms: Type.Array(Type.String()),
  keys: Type.Record(Type.String(), Type.String()),
  signatures: Signatures,
});

const SignedKey = Type.Object({ key: Type.String(), signatures: Signatures, fallback: Type.Optional(Type.Boolean()) });
/** `null` is read as absent (Synapse); `device_keys: null` is refused, as Synapse does. */
const KeyMap = Type.Union([Type.Record(Type.String(), Type.Union([Type.String(), SignedKey])), Type.Null()]);

const UploadBody = Type.Object({
  device_keys: Type.Optional(DeviceKeys),
  one_time_keys: Type.Optional(KeyMap),
  fallback_keys: Type.Optional(KeyMap),
  "org.matrix.msc2732.fallback_keys": Type.Optional(KeyMap),
});

const Timeout = Type.Optional(Type.Integer());

const QueryBody = Type.Object({
  device_keys: Type.Record(Type.String(), Type.Array(Type.String())),
  timeout: Timeout,
});

const ClaimBody = Type.Object({
  one_time_keys: Type.Record(Type.String(), Type.Record(Type.String(), Type.String())),
  timeout: Timeout,
});

export function registerKeyRoutes(router: ClientRouter, deps: { keys: E2eKeys }): void {
  router.route({
    method: "POST",
    path: "/keys/upload",
    auth: "required",
    body: UploadBody,
    handler: async ({ requester, body }) => deps.keys.upload(requester, body),
  });

  router.route({
    method: "POST",
    path: "/keys/query",
    auth: "required",
    body: QueryBody,
    handler: async ({ body }) => deps.keys.query(body),
  });

  router.route({
    method: "POST",
    path: "/keys/claim",
    auth: "required",
    body: ClaimBody,
    handler: async ({ body }) => deps.keys.claim(body),
  });

  router.route({
    method: "GET",
    path: "/keys/changes",
    auth: "required",
    handler: async ({ requester, query }) => {
      if (query.from === undefined) throw new MissingParamError("Missing from parameter");
      return deps.keys.changes(requester, query.from, query.to);
    },
  });
}
