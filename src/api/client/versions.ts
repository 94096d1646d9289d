/** GET /_matrix/client/versions and GET /.well-known/matrix/client. */
import type { ClientRouter } from "../../http/client-router.js";

/** Every spec version we serve, as exact strings: matrix-js-sdk looks for exact matches. */
export const SUPPORTED_VERSIONS = [
  "r0.0.1", "r0.1.0", "r0.2.0", "r0.3.0", "r0.4.0", "r0.5.0", "r0.6.0", "r0.6.1",
  "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12",
] as const;

/** Unstable features we actually implement; grow this only with the feature. */
export const UNSTABLE_FEATURES: Record<string, boolean> = {
  // Clear cache and reload: /sync?org.matrix.msc2855.clear_cache=true (docs/operations/backup-and-restore.md).
  "org.matrix.msc2855": true,
};

/** `publicBaseUrl` is read per request: with `listen.port: 0` it is known only once listening. */
export function registerVersionRoutes(router: ClientRouter, deps: { publicBaseUrl: () => string }): void {
  // Clients send their token here too (MSC4026); it is accepted and ignored.
  router.exact({
    method: "GET",
    path: "/_matrix/client/versions",
    auth: "none",
    handler: async () => ({ versions: [...SUPPORTED_VERSIONS], unstable_features: { ...UNSTABLE_FEATURES } }),
  });
  router.exact({
    method: "GET",
    path: "/.well-known/matrix/client",
    auth: "none",
    handler: async () => ({ "m.homeserver": { base_url: deps.publicBaseUrl() } }),
  });
}
