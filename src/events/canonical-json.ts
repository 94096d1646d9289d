/**
 * Canonical JSON (spec appendices, "Signing JSON" → "Canonical JSON"): the one byte encoding
 * that hashes, signatures and event ids are computed over.
 * In:  a JSON value built from plain objects, arrays, strings, booleans, null and integers.
 * Out: the shortest UTF-8 JSON text with object keys sorted by Unicode code point.
 * Invariants: numbers are integers within ±(2^53−1), written without exponent; -0 is written 0.
 * Throws TypeError for floats, NaN/Infinity, unsafe integers, undefined/functions/symbols/bigints
 * where a value is required, lone surrogates (not encodable as UTF-8), and non-plain objects.
 */

/** Lone surrogates only: with the `u` flag a well-formed pair is one code point above U+FFFF. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** Any UTF-16 surrogate code unit, paired or not. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Orders by Unicode code point. JavaScript's default sort compares UTF-16 code units, which
 * differs only when an astral character (a surrogate pair, 0xD800–0xDFFF) meets a BMP
 * character in U+E000–U+FFFF: code point order puts the astral one last.
 */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function sortKeys(keys: string[]): string[] {
  // Without surrogates, code unit order is code point order and the built-in sort is faster.
  return keys.some((k) => ANY_SURROGATE.test(k)) ? keys.sort(compareCodePoints) : keys.sort();
}

/**
 * JSON.stringify already writes strings exactly as the canonical grammar wants: \b \t \n \f \r
 * \" \\ escaped, other controls as lowercase \u00XX, everything else (U+2028/2029 included) raw.
 */
function encodeString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError("canonical JSON: string contains a lone surrogate");
  return JSON.stringify(s);
}

function encodeNumber(n: number): string {
  if (!Number.isSafeInteger(n)) {
    throw new TypeError(`canonical JSON: only integers within ±(2^53−1) are allowed, got ${n}`);
  }
  return n === 0 ? "0" : String(n); // String(-0) is already "0"; the test keeps the intent explicit
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function encode(v: unknown): string {
  switch (typeof v) {
    case "string":
      return encodeString(v);
    case "number":
      return encodeNumber(v);
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) {
        const parts: string[] = [];
        for (const item of v as unknown[]) {
          if (item === undefined) throw new TypeError("canonical JSON: undefined in an array");
          parts.push(encode(item));
        }
        return `[${parts.join(",")}]`;
      }
      if (!isPlainObject(v)) throw new TypeError("canonical JSON: only plain objects can be encoded");
      const parts: string[] = [];
      for (const k of sortKeys(Object.keys(v))) {
        const item = v[k];
        if (item === undefined) continue; // an absent key, as JSON.stringify treats it
        parts.push(`${encodeString(k)}:${encode(item)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(`canonical JSON: cannot encode a value of type ${typeof v}`);
  }
}

/** The canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  return encode(value);
}

/** The canonical JSON of `value` as UTF-8 bytes: what gets hashed and signed. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(encode(value), "utf8");
}
