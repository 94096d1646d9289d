import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { redact } from "../../../src/events/redaction.js";
import { V10, V11 } from "./fixtures.js";

/** Every top-level key a PDU may carry, protected or not. */
const TOP = {
  event_id: "$e",
  room_id: "!r:x",
  sender: "@u:x",
  state_key: "",
  hashes: { sha256: "h" },
  signatures: { x: { "ed25519:1": "s" } },
  depth: 3,
  prev_events: ["$p"],
  prev_state: [],
  auth_events: ["$a"],
  origin: "x",
  origin_server_ts: 1,
  membership: "join",
  unsigned: { age: 5 },
  redacts: "$target",
  extra: "junk",
};

function ev(type: string, content: Record<string, unknown>): Record<string, unknown> {
  return { ...TOP, type, content };
}

describe("redact: top-level keys", () => {
  it("v10 keeps the v9 list, including origin, membership, prev_state", () => {
    const out = redact(ev("m.room.message", { body: "x" }), V10);
    assert.deepEqual(Object.keys(out).sort(), [
      "auth_events", "content", "depth", "event_id", "hashes", "membership", "origin", "origin_server_ts",
      "prev_events", "prev_state", "room_id", "sender", "signatures", "state_key", "type",
    ]);
  });

  it("v11 drops origin, membership and prev_state", () => {
    const out = redact(ev("m.room.message", { body: "x" }), V11);
    assert.deepEqual(Object.keys(out).sort(), [
      "auth_events", "content", "depth", "event_id", "hashes", "origin_server_ts",
      "prev_events", "room_id", "sender", "signatures", "state_key", "type",
    ]);
  });

  it("always strips unsigned, redacts (top-level) and unknown keys, and always has content", () => {
    for (const v of [V10, V11]) {
      const out = redact({ type: "m.room.message", unsigned: { a: 1 }, redacts: "$x", extra: 1 }, v);
      assert.deepEqual(out, { type: "m.room.message", content: {} });
    }
  });

  it("does not mutate or share structure with its input", () => {
    const input = ev("m.room.power_levels", { users: { "@u:x": 100 }, custom: 1 });
    const copy = structuredClone(input);
    const out = redact(input, V10);
    assert.deepEqual(input, copy);
    (out.content as { users: Record<string, number> }).users["@v:x"] = 1;
    (out.prev_events as string[]).push("$q");
    assert.deepEqual(input, copy);
  });
});

/** [type, content, kept in v10, kept in v11]. */
const CONTENT_TABLE: [string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>][] = [
  [
    "m.room.member",
    {
      membership: "invite",
      join_authorised_via_users_server: "@admin:x",
      displayname: "Alice",
      avatar_url: "mxc://x/y",
      reason: "hi",
      third_party_invite: { display_name: "a***@b", signed: { mxid: "@u:x", token: "t", signatures: {} } },
    },
    { membership: "invite", join_authorised_via_users_server: "@admin:x" },
    {
      membership: "invite",
      join_authorised_via_users_server: "@admin:x",
      third_party_invite: { signed: { mxid: "@u:x", token: "t", signatures: {} } },
    },
  ],
  [
    "m.room.member",
    { membership: "join", third_party_invite: { display_name: "no signed key" } },
    { membership: "join" },
    { membership: "join" },
  ],
  [
    "m.room.create",
    { creator: "@u:x", room_version: "10", "m.federate": false, predecessor: { room_id: "!old:x" }, type: "m.space" },
    { creator: "@u:x" },
    { creator: "@u:x", room_version: "10", "m.federate": false, predecessor: { room_id: "!old:x" }, type: "m.space" },
  ],
  [
    "m.room.join_rules",
    { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!s:x" }], other: 1 },
    { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!s:x" }] },
    { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!s:x" }] },
  ],
  [
    "m.room.power_levels",
    {
      ban: 50, events: { "m.room.name": 50 }, events_default: 0, invite: 0, kick: 50, redact: 50,
      state_default: 50, users: { "@u:x": 100 }, users_default: 0, notifications: { room: 50 }, historical: 100,
    },
    {
      ban: 50, events: { "m.room.name": 50 }, events_default: 0, kick: 50, redact: 50,
      state_default: 50, users: { "@u:x": 100 }, users_default: 0,
    },
    {
      ban: 50, events: { "m.room.name": 50 }, events_default: 0, invite: 0, kick: 50, redact: 50,
      state_default: 50, users: { "@u:x": 100 }, users_default: 0,
    },
  ],
  [
    "m.room.history_visibility",
    { history_visibility: "shared", other: true },
    { history_visibility: "shared" },
    { history_visibility: "shared" },
  ],
  ["m.room.redaction", { redacts: "$target", reason: "spam" }, {}, { redacts: "$target" }],
  ["m.room.name", { name: "Secret" }, {}, {}],
  ["m.room.topic", { topic: "t" }, {}, {}],
  ["m.room.message", { msgtype: "m.text", body: "hello" }, {}, {}],
  ["m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "c" }, {}, {}],
  ["m.room.guest_access", { guest_access: "can_join" }, {}, {}],
];

describe("redact: content per event type (v10 vs v11)", () => {
  for (const [type, content, v10, v11] of CONTENT_TABLE) {
    it(`${type} ${JSON.stringify(Object.keys(content))}`, () => {
      assert.deepEqual(redact(ev(type, content), V10).content, v10, "v10");
      assert.deepEqual(redact(ev(type, content), V11).content, v11, "v11");
    });
  }

  it("keeps content only for the exact type, not a state_key or prefix match", () => {
    assert.deepEqual(redact(ev("m.room.member.custom", { membership: "join" }), V10).content, {});
  });

  it("treats non-object content as empty", () => {
    assert.deepEqual(redact({ type: "m.room.member", content: "nope" }, V11).content, {});
  });

  it("is idempotent", () => {
    for (const [type, content] of CONTENT_TABLE) {
      for (const v of [V10, V11]) {
        const once = redact(ev(type, content), v);
        assert.deepEqual(redact(once, v), once);
      }
    }
  });
});
