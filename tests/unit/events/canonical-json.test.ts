import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson, canonicalJsonBytes } from "../../../src/events/canonical-json.js";

/**
 * Every example of the spec's appendices, "Canonical JSON" → "Examples": the input is the
 * JSON text as printed there (parsed here, so `-0` and `1e10` reach us as JSON.parse gives them).
 */
const SPEC_EXAMPLES: [input: string, expected: string][] = [
  ["{}", "{}"],
  ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
  ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
  ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
  [
    `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                { "medium": "email", "address": "john.doe@example.org" },
                { "medium": "msisdn", "address": "123456789" }
            ]
        }
    }
}`,
    '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
  ],
  ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
  ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
  ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
  ['{\n    "a": null\n}', '{"a":null}'],
  ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
];

describe("canonicalJson: spec appendix examples", () => {
  for (const [input, expected] of SPEC_EXAMPLES) {
    it(`encodes ${expected}`, () => {
      assert.equal(canonicalJson(JSON.parse(input)), expected);
    });
  }
});

describe("canonicalJson: key order", () => {
  it("sorts by code point, not UTF-16 code unit (astral vs U+E000–U+FFFF)", () => {
    // U+FB01 < U+1F600 by code point, but 0xFB01 > 0xD83D (the lead surrogate) by code unit.
    const obj = { "\u{1F600}": 2, "\uFB01": 1, a: 0 };
    assert.equal(canonicalJson(obj), '{"a":0,"\uFB01":1,"\u{1F600}":2}');
    assert.deepEqual(Object.keys(obj).sort(), ["a", "\u{1F600}", "\uFB01"]); // what a naive sort would do
  });

  it("orders astral keys among themselves and by prefix length", () => {
    assert.equal(canonicalJson({ "\u{1F601}": 1, "\u{1F600}x": 2, "\u{1F600}": 3 }), '{"\u{1F600}":3,"\u{1F600}x":2,"\u{1F601}":1}');
  });

  it("sorts nested objects and keeps array order", () => {
    assert.equal(canonicalJson({ z: [3, { y: 1, x: 2 }, 1], a: {} }), '{"a":{},"z":[3,{"x":2,"y":1},1]}');
  });

  it("skips undefined object values, as an absent key", () => {
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  });
});

describe("canonicalJson: strings", () => {
  it("escapes controls without short forms as lowercase \\u00XX", () => {
    assert.equal(canonicalJson("\u0000\u0001\u000b\u001f"), '"\\u0000\\u0001\\u000b\\u001f"');
  });

  it("uses the short escapes for \\b \\t \\n \\f \\r \\\" \\\\", () => {
    assert.equal(canonicalJson('\b\t\n\f\r"\\'), '"\\b\\t\\n\\f\\r\\"\\\\"');
  });

  it("writes U+2028, U+2029, DEL, '/' and non-ASCII raw", () => {
    assert.equal(canonicalJson("\u2028\u2029\u007f/é\u{1F600}"), '"\u2028\u2029\u007f/é\u{1F600}"');
  });

  it("encodes bytes as UTF-8", () => {
    assert.deepEqual([...canonicalJsonBytes({ a: "é" })], [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d]);
  });

  it("rejects lone surrogates (not encodable as UTF-8)", () => {
    assert.throws(() => canonicalJson("\uD800"), TypeError);
    assert.throws(() => canonicalJson({ "\uDC00": 1 }), TypeError);
  });
});

describe("canonicalJson: numbers and other values", () => {
  it("accepts the extreme safe integers", () => {
    assert.equal(canonicalJson([2 ** 53 - 1, -(2 ** 53 - 1)]), "[9007199254740991,-9007199254740991]");
  });

  it("writes -0 as 0", () => {
    assert.equal(canonicalJson(-0), "0");
    assert.equal(canonicalJson({ a: [-0] }), '{"a":[0]}');
  });

  it("rejects 2^53 and -(2^53)", () => {
    assert.throws(() => canonicalJson(2 ** 53), TypeError);
    assert.throws(() => canonicalJson({ a: -(2 ** 53) }), TypeError);
  });

  it("rejects floats, NaN and infinities", () => {
    for (const n of [1.5, 0.1, NaN, Infinity, -Infinity]) assert.throws(() => canonicalJson({ n }), TypeError, String(n));
  });

  it("rejects undefined in arrays and non-JSON values", () => {
    assert.throws(() => canonicalJson([1, undefined]), TypeError);
    assert.throws(() => canonicalJson(undefined), TypeError);
    assert.throws(() => canonicalJson({ f: () => 1 }), TypeError);
    assert.throws(() => canonicalJson({ b: 1n }), TypeError);
    assert.throws(() => canonicalJson({ s: Symbol("x") }), TypeError);
    assert.throws(() => canonicalJson({ d: new Date(0) }), TypeError);
  });

  it("writes booleans and null", () => {
    assert.equal(canonicalJson([true, false, null]), "[true,false,null]");
  });

  it("accepts null-prototype objects", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = 2;
    assert.equal(canonicalJson(o), '{"a":2,"b":1}');
  });
});
