import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hashAndSignEvent, verifyEventSignature } from "../../../src/events/event-signing.js";
import { checkContentHash } from "../../../src/events/hashes.js";
import { redact } from "../../../src/events/redaction.js";
import { testKey, V10, V11 } from "./fixtures.js";

/**
 * Appendices, "Cryptographic Test Vectors" → "Event Signing". The events are in the old
 * (v1/v2) shape with `origin` and `event_id`, which the v10 redaction rules still protect.
 */
const MINIMAL_EVENT = {
  room_id: "!x:domain",
  sender: "@a:domain",
  origin: "domain",
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {},
  type: "X",
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
};

const MINIMAL_EVENT_SIGNED = {
  auth_events: [],
  content: {},
  depth: 3,
  hashes: { sha256: "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos" },
  origin: "domain",
  origin_server_ts: 1000000,
  prev_events: [],
  room_id: "!x:domain",
  sender: "@a:domain",
  signatures: {
    domain: { "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg" },
  },
  type: "X",
  unsigned: { age_ts: 1000000 },
};

const REDACTABLE_EVENT = {
  content: { body: "Here is the message content" },
  event_id: "$0:domain",
  origin: "domain",
  origin_server_ts: 1000000,
  type: "m.room.message",
  room_id: "!r:domain",
  sender: "@u:domain",
  signatures: {},
  unsigned: { age_ts: 1000000 },
};

const REDACTABLE_EVENT_SIGNED = {
  content: { body: "Here is the message content" },
  event_id: "$0:domain",
  hashes: { sha256: "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g" },
  origin: "domain",
  origin_server_ts: 1000000,
  type: "m.room.message",
  room_id: "!r:domain",
  sender: "@u:domain",
  signatures: {
    domain: { "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA" },
  },
  unsigned: { age_ts: 1000000 },
};

describe("hashAndSignEvent: spec vectors (appendices, Cryptographic Test Vectors → Event Signing)", () => {
  it("signs the minimally-sized event", () => {
    assert.deepEqual(hashAndSignEvent(MINIMAL_EVENT, V10, "domain", testKey()), MINIMAL_EVENT_SIGNED);
  });

  it("signs the event with redactable content (signature over the redacted form)", () => {
    assert.deepEqual(hashAndSignEvent(REDACTABLE_EVENT, V10, "domain", testKey()), REDACTABLE_EVENT_SIGNED);
  });

  it("gives a different signature under v11 rules, which no longer protect `origin`", () => {
    const v11 = hashAndSignEvent(MINIMAL_EVENT, V11, "domain", testKey());
    assert.equal(v11.hashes.sha256, MINIMAL_EVENT_SIGNED.hashes.sha256);
    assert.notEqual(v11.signatures.domain?.["ed25519:1"], MINIMAL_EVENT_SIGNED.signatures.domain["ed25519:1"]);
  });
});

describe("verifyEventSignature", () => {
  const pub = testKey().publicKeyBase64;

  it("verifies the spec's signed events, full and redacted", () => {
    for (const ev of [MINIMAL_EVENT_SIGNED, REDACTABLE_EVENT_SIGNED]) {
      assert.equal(verifyEventSignature(ev, V10, "domain", "ed25519:1", pub), true);
      assert.equal(verifyEventSignature(redact(ev, V10), V10, "domain", "ed25519:1", pub), true);
    }
  });

  it("keeps the signature valid when redactable content changes, but the content hash catches it", () => {
    const edited = { ...REDACTABLE_EVENT_SIGNED, content: { body: "something else" } };
    assert.equal(verifyEventSignature(edited, V10, "domain", "ed25519:1", pub), true);
    assert.equal(checkContentHash(edited), false);
    assert.equal(checkContentHash(REDACTABLE_EVENT_SIGNED), true);
  });

  it("fails when a protected key changes", () => {
    const moved = { ...MINIMAL_EVENT_SIGNED, depth: 4 };
    assert.equal(verifyEventSignature(moved, V10, "domain", "ed25519:1", pub), false);
  });
});
