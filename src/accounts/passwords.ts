/**
 * Password hashing with scrypt (node:crypto, memory-hard, runs on the libuv pool so the
 * event loop never stalls). Stored form: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`
 * (base64url), so the cost can rise later while old hashes still verify.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const KEY_LENGTH = 32;
const R = 8;
const P = 1;

function scryptAsync(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export class PasswordHasher {
  /** `cost` is log2(N); 15 costs ~32 MiB and ~0.15 s on the reference machine. */
  constructor(private readonly cost: number) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await scryptAsync(password, salt, this.cost, R, P);
    return `$scrypt$ln=${this.cost},r=${R},p=${P}$${salt.toString("base64url")}$${key.toString("base64url")}`;
  }

  /** False for a wrong password and for a hash this code cannot read. */
  async verify(password: string, stored: string): Promise<boolean> {
    const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
    if (!m) return false;
    const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (ln < 1 || ln > 22) return false;
    const expected = Buffer.from(m[5]!, "base64url");
    const key = await scryptAsync(password, Buffer.from(m[4]!, "base64url"), ln, r, p);
    return key.length === expected.length && timingSafeEqual(key, expected);
  }
}
