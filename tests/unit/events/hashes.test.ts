import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addContentHash, checkContentHash, contentHash, eventIdFor, referenceHash } from "../../../src/events/hashes.js";
import { parseEventId } from "../../../src/events/ids.js";
import { V10, V11 } from "./fixtures.js";

const EVENT = {
  room_id: "!room:example.org",
  sender: "@alice:example.org",
  type: "m.room.message",
  content: { msgtype: "m.text", body: "hello" },
  prev_events: ["$prev"],
  auth_events: ["$create", "$power", "$member"],
  depth: 7,
  origin_server_ts: 1_700_000_000_000,
};

describe("content hash (server-server API, Calculating the content hash)", () => {
  it("ignores unsigned, signatures and existing hashes", () => {
    const base = contentHash(EVENT);
    const decorated = { ...EVENT, unsigned: { age: 1 }, signatures: { x: { "ed25519:1": "s" } }, hashes: { sha256: "old" } };
    assert.deepEqual(contentHash(decorated), base);
  });

  it("covers content", () => {
    assert.notDeepEqual(contentHash({ ...EVENT, content: { body: "bye" } }), contentHash(EVENT));
  });

  it("addContentHash sets unpadded base64 and checkContentHash accepts it", () => {
    const hashed = addContentHash(EVENT);
    assert.match(hashed.hashes.sha256, /^[A-Za-z0-9+/]{43}$/);
    assert.equal(checkContentHash(hashed), true);
    assert.equal(checkContentHash({ ...hashed, content: { body: "edited" } }), false);
    assert.equal(checkContentHash({ ...hashed, hashes: { sha256: "!!" } }), false);
    assert.equal(checkContentHash(EVENT), false);
    assert.equal("hashes" in EVENT, false, "input not mutated");
  });
});

describe("reference hash and event id (room versions 4+, Event IDs)", () => {
  const hashed = addContentHash(EVENT);

  it("is `$` + 43 URL-safe base64 characters, stable across calls", () => {
    const id = eventIdFor(hashed, V10);
    assert.match(id, /^\$[A-Za-z0-9_-]{43}$/);
    assert.equal(eventIdFor(structuredClone(hashed), V10), id);
    assert.equal(parseEventId(id), id);
  });

  it("does not change with unsigned or signatures", () => {
    const id = eventIdFor(hashed, V10);
    assert.equal(eventIdFor({ ...hashed, unsigned: { age: 99, transaction_id: "t" } }, V10), id);
    assert.equal(eventIdFor({ ...hashed, signatures: { "example.org": { "ed25519:1": "x" } } }, V10), id);
  });

  it("changes when content changes, through the content hash", () => {
    const other = addContentHash({ ...EVENT, content: { msgtype: "m.text", body: "hello!" } });
    assert.notEqual(eventIdFor(other, V10), eventIdFor(hashed, V10));
  });

  it("is the same for the event and its redacted copy", () => {
    const { content: _c, ...rest } = hashed;
    assert.equal(eventIdFor({ ...rest, content: {} }, V10), eventIdFor(hashed, V10));
  });

  it("depends on the room version's redaction rules (v11 drops `origin`)", () => {
    const withOrigin = { ...hashed, origin: "example.org" };
    assert.notDeepEqual(referenceHash(withOrigin, V10), referenceHash(hashed, V10));
    assert.deepEqual(referenceHash(withOrigin, V11), referenceHash(hashed, V11));
  });
});
