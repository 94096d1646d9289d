import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { DEFAULT_KEY_VALIDITY_MS, registerServerKeyRoutes } from "../../../../src/api/federation/keys.js";
import { SigningKey, verifyJsonSignature } from "../../../../src/events/signing.js";

describe("GET /_matrix/key/v2/server", () => {
  it("serves this server's key, self-signed, valid for 7 days", async () => {
    const signingKey = SigningKey.generate();
    const app = Fastify();
    const now = 1_700_000_000_000;
    registerServerKeyRoutes(app, { serverName: "example.org", signingKey, now: () => now });
    try {
      const res = await app.inject({ method: "GET", url: "/_matrix/key/v2/server" });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers["content-type"]), /^application\/json/);
      const body = res.json() as Record<string, unknown>;
      assert.equal(body.server_name, "example.org");
      assert.deepEqual(body.verify_keys, { [signingKey.keyId]: { key: signingKey.publicKeyBase64 } });
      assert.deepEqual(body.old_verify_keys, {});
      assert.equal(body.valid_until_ts, now + DEFAULT_KEY_VALIDITY_MS);
      assert.equal(DEFAULT_KEY_VALIDITY_MS, 7 * 24 * 3600 * 1000);
      // A fetcher checks the response with a key taken from the response itself.
      const [keyId, { key }] = Object.entries(body.verify_keys as Record<string, { key: string }>)[0]!;
      assert.equal(verifyJsonSignature(body, "example.org", keyId, key), true);
      assert.equal(verifyJsonSignature({ ...body, valid_until_ts: now }, "example.org", keyId, key), false);
    } finally {
      await app.close();
    }
  });

  it("honours validForMs and the real clock by default", async () => {
    const signingKey = SigningKey.generate("k1");
    const app = Fastify();
    registerServerKeyRoutes(app, { serverName: "example.org", signingKey, validForMs: 3_600_000 });
    try {
      const before = Date.now();
      const body = (await app.inject({ method: "GET", url: "/_matrix/key/v2/server" })).json() as { valid_until_ts: number; verify_keys: object };
      assert.ok(body.valid_until_ts >= before + 3_600_000 && body.valid_until_ts <= Date.now() + 3_600_000);
      assert.deepEqual(Object.keys(body.verify_keys), ["ed25519:k1"]);
    } finally {
      await app.close();
    }
  });
});
