/**
 * Ed25519 signing keys and JSON signatures (spec appendices, "Signing JSON", "Signing Details",
 * "Checking for a Signature"; server-server API, "Retrieving server keys").
 * In:  a 32-byte seed (Synapse's key file: `ed25519 <key_version> <unpadded base64 seed>`).
 * Out: unpadded standard Base64 signatures over canonical JSON without `signatures`/`unsigned`.
 * Invariants: signing never mutates its input; KeyObjects are built once and cached.
 * I/O: only loadOrCreateSigningKey / saveSigningKey touch the file system.
 */
import { createPrivateKey, createPublicKey, randomBytes, randomInt, sign, verify, type KeyObject } from "node:crypto";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { canonicalJsonBytes } from "./canonical-json.js";
import { decodeBase64, encodeUnpaddedBase64 } from "./base64.js";

export type Signatures = Record<string, Record<string, string>>;

/** DER headers that wrap a raw 32-byte ed25519 seed (PKCS#8) or public key (SPKI), RFC 8410. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const SEED_BYTES = 32;
const ALGORITHM = "ed25519";
/** Key versions are `[a-zA-Z0-9_]` (server-server API, Server Keys: verify_keys). */
const KEY_VERSION = /^[A-Za-z0-9_]+$/;
const VERSION_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export class SigningKey {
  /** `ed25519:<version>`, the signing key identifier under `signatures.<server>`. */
  readonly keyId: string;
  /** Unpadded standard Base64 of the raw 32-byte public key, as `verify_keys` publishes it. */
  readonly publicKeyBase64: string;
  private readonly privateKey: KeyObject;

  private constructor(
    readonly version: string,
    private readonly seed: Buffer,
  ) {
    this.keyId = `${ALGORITHM}:${version}`;
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
    const spki = createPublicKey(this.privateKey).export({ format: "der", type: "spki" });
    this.publicKeyBase64 = encodeUnpaddedBase64(spki.subarray(SPKI_ED25519_PREFIX.length));
  }

  /** A key from a 32-byte seed. Throws TypeError on a wrong length or version. */
  static fromSeed(seed: Uint8Array, version: string): SigningKey {
    if (seed.byteLength !== SEED_BYTES) throw new TypeError(`ed25519 seed must be ${SEED_BYTES} bytes`);
    if (!KEY_VERSION.test(version)) throw new TypeError(`invalid signing key version: ${version}`);
    return new SigningKey(version, Buffer.from(seed));
  }

  /** A fresh random key; the version defaults to Synapse's shape, `a_` + four characters. */
  static generate(version?: string): SigningKey {
    let v = version;
    if (v === undefined) {
      v = "a_";
      for (let i = 0; i < 4; i++) v += VERSION_ALPHABET[randomInt(VERSION_ALPHABET.length)];
    }
    return SigningKey.fromSeed(randomBytes(SEED_BYTES), v);
  }

  /**
   * Reads Synapse's signing key file: one key per line, `ed25519 <version> <base64 seed>`.
   * The first key is the one we sign with; later lines are ignored. Throws TypeError.
   */
  static parse(text: string): SigningKey {
    const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== "");
    const parts = line?.split(/\s+/) ?? [];
    if (parts.length !== 3 || parts[0] !== ALGORITHM) {
      throw new TypeError("signing key file: expected `ed25519 <key_version> <base64 seed>`");
    }
    const seed = decodeBase64(parts[2]!);
    if (seed === null) throw new TypeError("signing key file: seed is not base64");
    return SigningKey.fromSeed(seed, parts[1]!);
  }

  /** The key file line, as Synapse writes it (unpadded seed, trailing newline). */
  serialize(): string {
    return `${ALGORITHM} ${this.version} ${encodeUnpaddedBase64(this.seed)}\n`;
  }

  /** Unpadded Base64 ed25519 signature of `bytes`. */
  sign(bytes: Uint8Array): string {
    return encodeUnpaddedBase64(sign(null, bytes, this.privateKey));
  }

  /**
   * A copy of `obj` with this key's signature added under `signatures[serverName][keyId]`
   * (appendices, "Signing Details"). Existing signatures and `unsigned` are kept but not covered.
   */
  signJson<T extends Record<string, unknown>>(obj: T, serverName: string): T & { signatures: Signatures } {
    const signature = this.sign(canonicalJsonBytes(signablePart(obj)));
    const previous = (obj.signatures ?? {}) as Signatures;
    const signatures: Signatures = { ...previous, [serverName]: { ...previous[serverName], [this.keyId]: signature } };
    return { ...obj, signatures };
  }
}

/** The object without `signatures` and `unsigned`: what a signature covers. */
export function signablePart(obj: Record<string, unknown>): Record<string, unknown> {
  const { signatures: _s, unsigned: _u, ...rest } = obj;
  return rest;
}

/** Verification keys by their Base64 text; bounded so a stream of unknown keys cannot grow it forever. */
const publicKeyCache = new Map<string, KeyObject | null>();
const PUBLIC_KEY_CACHE_MAX = 1024;

function publicKeyObject(publicKeyBase64: string): KeyObject | null {
  const cached = publicKeyCache.get(publicKeyBase64);
  if (cached !== undefined) return cached;
  const raw = decodeBase64(publicKeyBase64);
  let key: KeyObject | null = null;
  if (raw !== null && raw.length === 32) {
    try {
      key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
    } catch {
      key = null;
    }
  }
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_MAX) publicKeyCache.clear();
  publicKeyCache.set(publicKeyBase64, key);
  return key;
}

/**
 * Checks one signature (appendices, "Checking for a Signature", steps 1 and 4–7): true only if
 * `signatures[serverName][keyId]` exists, decodes, and verifies against the key. Never throws
 * for bad input; a key id whose algorithm is not ed25519 does not verify.
 */
export function verifyJsonSignature(
  obj: Record<string, unknown>,
  serverName: string,
  keyId: string,
  publicKeyBase64: string,
): boolean {
  if (!keyId.startsWith(`${ALGORITHM}:`)) return false;
  const signatures = obj.signatures;
  if (typeof signatures !== "object" || signatures === null) return false;
  const byServer = (signatures as Record<string, unknown>)[serverName];
  if (typeof byServer !== "object" || byServer === null) return false;
  const signature = (byServer as Record<string, unknown>)[keyId];
  if (typeof signature !== "string") return false;
  const sigBytes = decodeBase64(signature);
  if (sigBytes === null || sigBytes.length !== 64) return false;
  const key = publicKeyObject(publicKeyBase64);
  if (key === null) return false;
  let message: Buffer;
  try {
    message = canonicalJsonBytes(signablePart(obj));
  } catch {
    return false; // not canonical-encodable, so it cannot carry a valid signature
  }
  return verify(null, message, key, sigBytes);
}

/** Writes the key file readable by its owner only (0600), replacing any existing file. */
export async function saveSigningKey(path: string, key: SigningKey): Promise<void> {
  await writeFile(path, key.serialize(), { mode: 0o600 });
  await chmod(path, 0o600); // `mode` applies only when the file is created
}

/**
 * Loads the key file at `path`, or creates it (mode 0600, exclusive create so two starting
 * processes cannot each write their own key) with a fresh key when it does not exist.
 */
export async function loadOrCreateSigningKey(path: string): Promise<SigningKey> {
  try {
    return SigningKey.parse(await readFile(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const key = SigningKey.generate();
  try {
    await writeFile(path, key.serialize(), { mode: 0o600, flag: "wx" });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return SigningKey.parse(await readFile(path, "utf8")); // another process won the race
  }
}
