import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeBase64 } from "../../../src/events/base64.js";
import { loadOrCreateSigningKey, saveSigningKey, SigningKey, verifyJsonSignature } from "../../../src/events/signing.js";
import { TEST_SEED, testKey } from "./fixtures.js";

describe("signJson: spec vectors (appendices, Cryptographic Test Vectors → JSON Signing)", () => {
  it("signs the empty object", () => {
    assert.deepEqual(testKey().signJson({}, "domain"), {
      signatures: {
        domain: {
          "ed25519:1": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ",
        },
      },
    });
  });

  it("signs an object with data values", () => {
    assert.deepEqual(testKey().signJson({ one: 1, two: "Two" }, "domain"), {
      one: 1,
      signatures: {
        domain: {
          "ed25519:1": "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw",
        },
      },
      two: "Two",
    });
  });
});

describe("SigningKey", () => {
  it("has key id ed25519:<version> and an unpadded 32-byte public key", () => {
    const k = testKey();
    assert.equal(k.keyId, "ed25519:1");
    assert.doesNotMatch(k.publicKeyBase64, /=/);
    assert.equal(decodeBase64(k.publicKeyBase64)!.length, 32);
  });

  it("generates distinct keys with Synapse-shaped versions", () => {
    const a = SigningKey.generate();
    const b = SigningKey.generate();
    assert.match(a.version, /^a_[A-Za-z0-9]{4}$/);
    assert.notEqual(a.publicKeyBase64, b.publicKeyBase64);
  });

  it("keeps existing signatures and unsigned, and does not mutate its input", () => {
    const input = { a: 1, unsigned: { age: 5 }, signatures: { other: { "ed25519:x": "sig" } } };
    const signed = testKey().signJson(input, "domain");
    assert.deepEqual(input.signatures, { other: { "ed25519:x": "sig" } });
    assert.equal(signed.signatures.other?.["ed25519:x"], "sig");
    assert.deepEqual(signed.unsigned, { age: 5 });
    // Neither `unsigned` nor other signatures are covered: same signature as the bare object.
    assert.equal(signed.signatures.domain?.["ed25519:1"], testKey().signJson({ a: 1 }, "domain").signatures.domain?.["ed25519:1"]);
  });

  it("refuses bad seeds and versions", () => {
    assert.throws(() => SigningKey.fromSeed(new Uint8Array(31), "1"), TypeError);
    assert.throws(() => SigningKey.fromSeed(new Uint8Array(32), "a:b"), TypeError);
    assert.throws(() => SigningKey.parse("ed25519 1"), TypeError);
    assert.throws(() => SigningKey.parse("rsa 1 AAAA"), TypeError);
    assert.throws(() => SigningKey.parse("ed25519 1 not*base64"), TypeError);
  });

  it("parses Synapse's key file format, padded or not", () => {
    const unpadded = SigningKey.parse(`ed25519 1 ${TEST_SEED}\n`);
    const padded = SigningKey.parse(`\ned25519 1 ${TEST_SEED}=\ned25519 old AAAA\n`);
    assert.equal(unpadded.publicKeyBase64, testKey().publicKeyBase64);
    assert.equal(padded.publicKeyBase64, testKey().publicKeyBase64);
  });
});

describe("verifyJsonSignature", () => {
  const k = testKey();
  const signed = k.signJson({ one: 1, two: "Two" }, "domain");

  it("accepts a valid signature, ignoring unsigned", () => {
    assert.equal(verifyJsonSignature(signed, "domain", "ed25519:1", k.publicKeyBase64), true);
    assert.equal(verifyJsonSignature({ ...signed, unsigned: { x: 1 } }, "domain", "ed25519:1", k.publicKeyBase64), true);
  });

  it("rejects tampering, wrong keys, wrong names and junk", () => {
    const other = SigningKey.generate();
    assert.equal(verifyJsonSignature({ ...signed, one: 2 }, "domain", "ed25519:1", k.publicKeyBase64), false);
    assert.equal(verifyJsonSignature(signed, "domain", "ed25519:1", other.publicKeyBase64), false);
    assert.equal(verifyJsonSignature(signed, "other", "ed25519:1", k.publicKeyBase64), false);
    assert.equal(verifyJsonSignature(signed, "domain", "ed25519:2", k.publicKeyBase64), false);
    assert.equal(verifyJsonSignature(signed, "domain", "curve25519:1", k.publicKeyBase64), false);
    assert.equal(verifyJsonSignature(signed, "domain", "ed25519:1", "not base64!"), false);
    assert.equal(verifyJsonSignature({ ...signed, signatures: { domain: { "ed25519:1": "%%%" } } }, "domain", "ed25519:1", k.publicKeyBase64), false);
    assert.equal(verifyJsonSignature({ one: 1 }, "domain", "ed25519:1", k.publicKeyBase64), false);
    assert.equal(verifyJsonSignature({ ...signed, f: 1.5 }, "domain", "ed25519:1", k.publicKeyBase64), false);
  });
});

describe("signing key file", () => {
  it("creates a 0600 file once, then loads the same key", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-key-"));
    try {
      const path = join(dir, "signing.key");
      const created = await loadOrCreateSigningKey(path);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const text = await readFile(path, "utf8");
      assert.match(text, /^ed25519 a_[A-Za-z0-9]{4} [A-Za-z0-9+/]{43}\n$/);
      const loaded = await loadOrCreateSigningKey(path);
      assert.equal(loaded.keyId, created.keyId);
      assert.equal(loaded.publicKeyBase64, created.publicKeyBase64);
      assert.equal(loaded.serialize(), text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("saves with mode 0600 and round-trips", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-key-"));
    try {
      const path = join(dir, "signing.key");
      await writeFile(path, "placeholder", { mode: 0o644 });
      await saveSigningKey(path, testKey());
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      const text = await readFile(path, "utf8");
      assert.match(text, /^ed25519 1 [A-Za-z0-9+/]{43}\n$/);
      assert.deepEqual(decodeBase64(text.trim().split(" ")[2]!), decodeBase64(TEST_SEED));
      assert.equal((await loadOrCreateSigningKey(path)).publicKeyBase64, testKey().publicKeyBase64);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a corrupt key file instead of replacing it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-key-"));
    try {
      const path = join(dir, "signing.key");
      await writeFile(path, "garbage\n");
      await assert.rejects(loadOrCreateSigningKey(path), TypeError);
      assert.equal(await readFile(path, "utf8"), "garbage\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
