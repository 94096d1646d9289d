import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildPdu, MAX_PDU_BYTES, type PduProto } from "../../../src/events/build-event.js";
import { canonicalJsonBytes } from "../../../src/events/canonical-json.js";
import { verifyEventSignature } from "../../../src/events/event-signing.js";
import { checkContentHash, eventIdFor } from "../../../src/events/hashes.js";
import { BadJsonError, MatrixError, TooLargeError } from "../../../src/errors/matrix-error.js";
import { testKey, V10, V11 } from "./fixtures.js";

const key = testKey();
const ctx10 = { version: V10, serverName: "example.org", signingKey: key };
const ctx11 = { version: V11, serverName: "example.org", signingKey: key };

function proto(over: Partial<PduProto> = {}): PduProto {
  return {
    room_id: "!room:example.org",
    sender: "@alice:example.org",
    type: "m.room.message",
    content: { msgtype: "m.text", body: "hi" },
    prev_events: ["$prev"],
    auth_events: ["$create"],
    depth: 4,
    origin_server_ts: 1_700_000_000_000,
    ...over,
  };
}

function errcodeOf(err: unknown): string {
  assert.ok(err instanceof MatrixError);
  return err.errcode;
}

describe("buildPdu", () => {
  it("adds hashes, this server's signature and the derived event id", () => {
    const { eventId, pdu } = buildPdu(proto(), ctx10);
    assert.equal(checkContentHash(pdu), true);
    assert.equal(verifyEventSignature(pdu, V10, "example.org", "ed25519:1", key.publicKeyBase64), true);
    assert.equal(eventId, eventIdFor(pdu, V10));
    assert.match(eventId, /^\$[A-Za-z0-9_-]{43}$/);
    assert.equal(pdu.unsigned, undefined);
    assert.equal("origin" in pdu, false);
    assert.equal("state_key" in pdu, false);
  });

  it("is deterministic for the same input", () => {
    assert.equal(buildPdu(proto(), ctx10).eventId, buildPdu(proto(), ctx10).eventId);
    assert.notEqual(buildPdu(proto({ content: { body: "other" } }), ctx10).eventId, buildPdu(proto(), ctx10).eventId);
  });

  it("keeps an empty state_key", () => {
    const { pdu } = buildPdu(proto({ type: "m.room.name", state_key: "", content: { name: "n" } }), ctx10);
    assert.equal(pdu.state_key, "");
  });

  it("does not alias the caller's content", () => {
    const content: Record<string, unknown> = { body: "x", nested: { a: 1 } };
    const { pdu } = buildPdu(proto({ content }), ctx10);
    (content.nested as Record<string, number>).a = 2;
    assert.deepEqual(pdu.content.nested, { a: 1 });
  });

  it("puts redacts top-level in v10 and into content in v11", () => {
    const r = { type: "m.room.redaction", content: { reason: "spam" }, redacts: "$target" };
    const v10 = buildPdu(proto(r), ctx10).pdu;
    assert.equal(v10.redacts, "$target");
    assert.deepEqual(v10.content, { reason: "spam" });
    const v11 = buildPdu(proto(r), ctx11).pdu;
    assert.equal("redacts" in v11, false);
    assert.deepEqual(v11.content, { reason: "spam", redacts: "$target" });
  });

  it("rejects a 70 KB event with M_TOO_LARGE", () => {
    assert.throws(() => buildPdu(proto({ content: { body: "x".repeat(70_000) } }), ctx10), (err) => {
      assert.ok(err instanceof TooLargeError);
      return errcodeOf(err) === "M_TOO_LARGE";
    });
  });

  it("measures the whole signed event against 65536 bytes", () => {
    const base = canonicalJsonBytes(buildPdu(proto({ content: { body: "" } }), ctx10).pdu).length;
    const fits = buildPdu(proto({ content: { body: "x".repeat(MAX_PDU_BYTES - base) } }), ctx10);
    assert.equal(canonicalJsonBytes(fits.pdu).length, MAX_PDU_BYTES);
    assert.throws(() => buildPdu(proto({ content: { body: "x".repeat(MAX_PDU_BYTES - base + 1) } }), ctx10), TooLargeError);
  });

  it("rejects over-long type and state_key", () => {
    assert.throws(() => buildPdu(proto({ type: "t".repeat(256) }), ctx10), TooLargeError);
    assert.throws(() => buildPdu(proto({ type: "m.x", state_key: "é".repeat(128) }), ctx10), TooLargeError);
  });

  it("rejects floats and unsafe integers with M_BAD_JSON, naming the field", () => {
    assert.throws(() => buildPdu(proto({ content: { body: "x", n: 1.5 } }), ctx10), (err) => {
      assert.ok(err instanceof BadJsonError);
      assert.match(err.message, /content\.n/);
      return errcodeOf(err) === "M_BAD_JSON";
    });
    assert.throws(() => buildPdu(proto({ content: { list: [1, 2 ** 53] } }), ctx10), (err) => {
      assert.ok(err instanceof BadJsonError);
      assert.match(err.message, /content\.list\[1\]/);
      return true;
    });
    assert.throws(() => buildPdu(proto({ content: { n: NaN } }), ctx10), BadJsonError);
  });

  it("rejects lone surrogates with M_BAD_JSON", () => {
    assert.throws(() => buildPdu(proto({ content: { body: "\uD800" } }), ctx10), BadJsonError);
  });
});
