import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildPdu } from "../../../src/events/build-event.js";
import { filterEventFields, parseFieldPath, toClientEvent, type ClientEvent } from "../../../src/events/client-event.js";
import type { StoredPdu } from "../../../src/events/pdu.js";
import { redact } from "../../../src/events/redaction.js";
import { testKey, V10, V11 } from "./fixtures.js";

const key = testKey();

function build(over: Record<string, unknown>, version = V10): StoredPdu {
  return buildPdu(
    {
      room_id: "!room:example.org",
      sender: "@alice:example.org",
      type: "m.room.message",
      content: { msgtype: "m.text", body: "hi", "m.relates_to": { rel_type: "m.thread", event_id: "$root" } },
      prev_events: ["$prev"],
      auth_events: ["$create"],
      depth: 4,
      origin_server_ts: 1234,
      ...over,
    },
    { version, serverName: "example.org", signingKey: key },
  );
}

describe("toClientEvent: client format", () => {
  const msg = build({});

  it("has exactly the ClientEvent fields", () => {
    const ev = toClientEvent(msg, { format: "client" });
    assert.deepEqual(ev, {
      content: msg.pdu.content,
      event_id: msg.eventId,
      origin_server_ts: 1234,
      room_id: "!room:example.org",
      sender: "@alice:example.org",
      type: "m.room.message",
    });
  });

  it("omits room_id on request and includes state_key for state events", () => {
    const state = build({ type: "m.room.topic", state_key: "", content: { topic: "t" } });
    const ev = toClientEvent(state, { format: "client", omitRoomId: true });
    assert.equal("room_id" in ev, false);
    assert.equal(ev.state_key, "");
  });

  it("passes only the caller's unsigned, never the PDU's own", () => {
    const withOwn: StoredPdu = { eventId: msg.eventId, pdu: { ...msg.pdu, unsigned: { transaction_id: "secret" } } };
    assert.equal(toClientEvent(withOwn, { format: "client" }).unsigned, undefined);
    assert.deepEqual(toClientEvent(withOwn, { format: "client", unsigned: { age: 10 } }).unsigned, { age: 10 });
  });

  it("serves redacted_because as a client event", () => {
    const redaction = build({ type: "m.room.redaction", content: { reason: "spam" }, redacts: msg.eventId });
    const redacted: StoredPdu = { eventId: msg.eventId, pdu: redact(msg.pdu, V10) };
    const ev = toClientEvent(redacted, { format: "client", omitRoomId: true, redactedBecause: redaction, unsigned: { age: 1 } });
    assert.deepEqual(ev.content, {});
    const because = ev.unsigned?.redacted_because as ClientEvent;
    assert.equal(ev.unsigned?.age, 1);
    assert.equal(because.event_id, redaction.eventId);
    assert.equal(because.redacts, msg.eventId);
    assert.equal("room_id" in because, false);
    assert.equal("signatures" in because, false);
  });

  it("serves redacts both top-level and in content, in v10 and v11 rooms", () => {
    const v10 = build({ type: "m.room.redaction", content: { reason: "r" }, redacts: "$t" }, V10);
    const v11 = build({ type: "m.room.redaction", content: { reason: "r" }, redacts: "$t" }, V11);
    for (const [stored, version] of [[v10, V10], [v11, V11]] as const) {
      for (const ev of [toClientEvent(stored, { format: "client" }), toClientEvent(stored, { format: "client", roomVersion: version })]) {
        assert.equal(ev.redacts, "$t");
        assert.deepEqual(ev.content, { reason: "r", redacts: "$t" });
      }
    }
    // The PDUs themselves are unchanged.
    assert.deepEqual(v10.pdu.content, { reason: "r" });
    assert.equal(v11.pdu.redacts, undefined);
  });

  it("in a v10 room, the top-level redacts wins over a client-supplied content.redacts", () => {
    const odd = build({ type: "m.room.redaction", content: { redacts: "$fake" }, redacts: "$real" }, V10);
    const ev = toClientEvent(odd, { format: "client", roomVersion: V10 });
    assert.equal(ev.redacts, "$real");
    assert.equal(ev.content.redacts, "$real");
  });

  it("does not add redacts to other event types", () => {
    const ev = toClientEvent(build({ content: { redacts: "$x" } }, V11), { format: "client" });
    assert.equal("redacts" in ev, false);
  });
});

describe("toClientEvent: federation format", () => {
  it("is the raw PDU plus event_id and the caller's unsigned", () => {
    const msg = build({});
    const ev = toClientEvent(msg, { format: "federation", unsigned: { age: 3 } });
    const { unsigned, event_id, ...rest } = ev;
    assert.equal(event_id, msg.eventId);
    assert.deepEqual(unsigned, { age: 3 });
    assert.deepEqual(rest, msg.pdu);
    assert.ok(ev.hashes && ev.signatures && ev.auth_events);
  });
});

describe("event_fields (appendices, Dot-separated property paths)", () => {
  it("parses escapes: \\. is a dot, \\\\ a backslash, others stay literal", () => {
    assert.deepEqual(parseFieldPath("content.body"), ["content", "body"]);
    assert.deepEqual(parseFieldPath("content.m\\.relates_to"), ["content", "m.relates_to"]);
    assert.deepEqual(parseFieldPath("content.m\\\\foo"), ["content", "m\\foo"]);
    assert.deepEqual(parseFieldPath("content.a\\x"), ["content", "a\\x"]);
    assert.deepEqual(parseFieldPath("content.trailing\\"), ["content", "trailing\\"]);
    assert.deepEqual(parseFieldPath("a\\\\.b"), ["a\\", "b"]);
    assert.deepEqual(parseFieldPath("type"), ["type"]);
  });

  const msg = build({ content: { body: "hi", "m.relates_to": { rel_type: "m.thread", event_id: "$root" }, "m\\foo": 1, n: { deep: { er: 2 } } } });
  const full = toClientEvent(msg, { format: "client", unsigned: { age: 5 } });

  it("keeps only the listed paths", () => {
    const ev = toClientEvent(msg, { format: "client", unsigned: { age: 5 }, eventFields: ["type", "content.body", "unsigned.age"] });
    assert.deepEqual(ev, { type: "m.room.message", content: { body: "hi" }, unsigned: { age: 5 } });
  });

  it("follows escaped dots and backslashes into keys", () => {
    assert.deepEqual(filterEventFields(full, ["content.m\\.relates_to.rel_type", "content.m\\\\foo"]), {
      content: { "m.relates_to": { rel_type: "m.thread" }, "m\\foo": 1 },
    });
  });

  it("copies whole objects and merges overlapping paths", () => {
    assert.deepEqual(filterEventFields(full, ["content.n.deep.er", "content.body"]), { content: { n: { deep: { er: 2 } }, body: "hi" } });
    assert.deepEqual(filterEventFields(full, ["content.n.deep.er", "content"]), { content: full.content });
  });

  it("skips missing paths and paths through non-objects", () => {
    assert.deepEqual(filterEventFields(full, ["content.missing", "content.body.length", "nope"]), {});
  });

  it("treats an empty list as no filter", () => {
    assert.deepEqual(toClientEvent(msg, { format: "client", unsigned: { age: 5 }, eventFields: [] }), full);
  });
});
