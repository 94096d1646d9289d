/**
 * A test device that makes and signs end-to-end keys as a client would: a real ed25519
 * identity key and curve25519 keys from node:crypto, signatures over canonical JSON without
 * `signatures` and `unsigned` (spec appendices, "Signing JSON"). The canonical encoder here
 * is deliberately separate from the server's, so a bug there cannot hide itself.
 */
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** Canonical JSON for what these tests sign: objects, arrays, strings, booleans, integers, null. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function rawPublicKey(key: KeyObject): string {
  // The SPKI DER of an ed25519 or x25519 key ends with the 32 raw bytes.
  return key.export({ format: "der", type: "spki" }).subarray(-32).toString("base64").replace(/=+$/, "");
}

function newCurveKey(): string {
  return rawPublicKey(generateKeyPairSync("x25519").publicKey);
}

export type Signed<T> = T & { signatures: Record<string, Record<string, string>> };

export class TestDevice {
  readonly ed25519: string;
  readonly curve25519: string;
  private readonly privateKey: KeyObject;
  private nextKeyId = 1;

  constructor(readonly userId: string, readonly deviceId: string) {
    const pair = generateKeyPairSync("ed25519");
    this.privateKey = pair.privateKey;
    this.ed25519 = rawPublicKey(pair.publicKey);
    this.curve25519 = newCurveKey();
  }

  get keyId(): string {
    return `ed25519:${this.deviceId}`;
  }

  /** Unpadded Base64 signature of `obj` without its `signatures` and `unsigned`. */
  signature(obj: Record<string, unknown>): string {
    const { signatures: _s, unsigned: _u, ...signable } = obj;
    return sign(null, Buffer.from(canonical(signable), "utf8"), this.privateKey).toString("base64").replace(/=+$/, "");
  }

  /** `obj` with this device's signature added (other signatures kept). */
  signed<T extends Record<string, unknown>>(obj: T): Signed<T> {
    const previous = (obj.signatures ?? {}) as Record<string, Record<string, string>>;
    return { ...obj, signatures: { ...previous, [this.userId]: { ...previous[this.userId], [this.keyId]: this.signature(obj) } } };
  }

  /** The device keys body for /keys/upload, signed; `over` changes fields before signing. */
  deviceKeys(over: Record<string, unknown> = {}): Signed<Record<string, unknown>> {
    return this.signed({
      user_id: this.userId,
      device_id: this.deviceId,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: { [`curve25519:${this.deviceId}`]: this.curve25519, [`ed25519:${this.deviceId}`]: this.ed25519 },
      ...over,
    });
  }

  /** A fresh signed curve25519 key object (`fallback: true` for a fallback key). */
  signedKey(opts: { fallback?: boolean } = {}): Signed<{ key: string; fallback?: boolean }> {
    return this.signed({ key: newCurveKey(), ...(opts.fallback ? { fallback: true } : {}) });
  }

  /** `n` fresh signed one-time keys named `signed_curve25519:<id>`, ids never repeating. */
  oneTimeKeys(n: number): Record<string, Signed<{ key: string }>> {
    const out: Record<string, Signed<{ key: string }>> = {};
    for (let i = 0; i < n; i++) out[`signed_curve25519:${this.newKeyId()}`] = this.signedKey();
    return out;
  }

  /** One fresh signed fallback key, as the `fallback_keys` map. */
  fallbackKeys(): Record<string, Signed<{ key: string; fallback?: boolean }>> {
    return { [`signed_curve25519:${this.newKeyId()}`]: this.signedKey({ fallback: true }) };
  }

  private newKeyId(): string {
    const id = `AAAA${String(this.nextKeyId).padStart(4, "0")}`;
    this.nextKeyId += 1;
    return id;
  }
}
