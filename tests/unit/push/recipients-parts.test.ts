/**
 * The pieces write-time evaluation is built from: which thread an event counts in
 * (threadIdOf, up to 3 relation hops), the per-room context kept between events
 * (RoomPushContext), the glob matcher's edge cases, and the LRU cache behind both caches.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { threadIdOf } from "../../../src/push/thread-of.js";
import { RoomPushContext } from "../../../src/push/room-push-context.js";
import { containsWord, globMatches } from "../../../src/push/glob.js";
import { LruCache } from "../../../src/util/lru-cache.js";
import type { Pdu, StoredPdu } from "../../../src/events/pdu.js";

function pdu(type: string, content: Record<string, unknown>, stateKey?: string, sender = "@alice:x"): Pdu {
  return {
    room_id: "!r:x", sender, origin_server_ts: 0, type, content, prev_events: [], auth_events: [], depth: 1,
    hashes: { sha256: "" }, signatures: {}, ...(stateKey !== undefined ? { state_key: stateKey } : {}),
  };
}
const stored = (eventId: string, p: Pdu): StoredPdu => ({ eventId, pdu: p });

describe("threadIdOf", () => {
  const events = new Map<string, Pdu>([
    ["$root", pdu("m.room.message", { body: "root" })],
    ["$reply", pdu("m.room.message", { body: "r", "m.relates_to": { rel_type: "m.thread", event_id: "$root" } })],
    ["$react", pdu("m.reaction", { "m.relates_to": { rel_type: "m.annotation", event_id: "$reply", key: "x" } })],
    ["$edit", pdu("m.room.message", { "m.relates_to": { rel_type: "m.replace", event_id: "$react" } })],
    ["$deep", pdu("m.room.message", { "m.relates_to": { rel_type: "m.reference", event_id: "$edit" } })],
  ]);
  const lookup = async (id: string) => events.get(id) ?? null;

  it("an event without a relation is in the main timeline, and so is a thread root", async () => {
    assert.equal(await threadIdOf({ body: "x" }, lookup), "main");
    assert.equal(await threadIdOf(events.get("$root")!.content, lookup), "main");
  });
  it("an m.thread relation names the root", async () => {
    assert.equal(await threadIdOf(events.get("$reply")!.content, lookup), "$root");
  });
  it("a reaction to a threaded event is in that thread (one hop)", async () => {
    assert.equal(await threadIdOf(events.get("$react")!.content, lookup), "$root");
  });
  it("two hops still find the thread; beyond three relations the event counts as main", async () => {
    assert.equal(await threadIdOf(events.get("$edit")!.content, lookup), "$root");
    assert.equal(await threadIdOf(events.get("$deep")!.content, lookup), "main");
  });
  it("a reply (m.in_reply_to only) and an unknown target are main", async () => {
    assert.equal(await threadIdOf({ "m.relates_to": { "m.in_reply_to": { event_id: "$reply" } } }, lookup), "main");
    assert.equal(await threadIdOf({ "m.relates_to": { rel_type: "m.annotation", event_id: "$missing" } }, lookup), "main");
  });
});

describe("RoomPushContext", () => {
  const create = stored("$c", pdu("m.room.create", { room_version: "10", creator: "@alice:x" }, ""));
  const join = (user: string, name?: string) => stored(`$j${user}`, pdu("m.room.member", { membership: "join", ...(name ? { displayname: name } : {}) }, user, user));

  it("builds members and names from state; power defaults give the creator 100 without power levels", () => {
    const ctx = RoomPushContext.fromState([create, join("@alice:x", "Alice"), join("@bob:x")]);
    assert.deepEqual([...ctx.members], [["@alice:x", "Alice"], ["@bob:x", null]]);
    assert.equal(ctx.memberCount, 2);
    assert.equal(ctx.senderPowerLevel("@alice:x"), 100);
    assert.equal(ctx.senderPowerLevel("@bob:x"), 0);
  });

  it("follows joins, renames, leaves and power level changes", () => {
    const ctx = RoomPushContext.fromState([create, join("@alice:x")]);
    ctx.apply(join("@bob:x", "Bob"));
    ctx.apply(join("@bob:x", "Bobby"));
    assert.equal(ctx.members.get("@bob:x"), "Bobby");
    ctx.apply(stored("$l", pdu("m.room.member", { membership: "leave" }, "@alice:x")));
    assert.deepEqual([...ctx.members.keys()], ["@bob:x"]);
    ctx.apply(stored("$pl", pdu("m.room.power_levels", { users: { "@bob:x": 60 }, notifications: { room: 70, bad: "x" } }, "")));
    assert.equal(ctx.senderPowerLevel("@bob:x"), 60);
    assert.equal(ctx.senderPowerLevel("@alice:x"), 0, "with power levels, the creator has what they say");
    assert.deepEqual(ctx.notificationLevels, { room: 70 });
    ctx.apply(stored("$m", pdu("m.room.message", { body: "x" })));
    assert.equal(ctx.memberCount, 1, "non-state events change nothing");
  });
});

describe("glob matching", () => {
  it("matches case-insensitively, including non-ASCII letters", () => {
    assert.ok(globMatches("ÉCOLE*", "école de nuit", "whole"));
    assert.ok(containsWord("Hello ÉLODIE!", "élodie"));
  });
  it("treats a word boundary as any character outside [A-Za-z0-9_]", () => {
    assert.ok(globMatches("cake", "cake-shop", "word"));
    assert.ok(!globMatches("cake", "cake_shop", "word"));
    assert.ok(globMatches("@room", "hi @room!", "word"));
    assert.ok(containsWord("ping [bob]", "[bob]"));
  });
  it("stars never let chunks overlap; ? is one code point", () => {
    assert.ok(!globMatches("ab*ba", "aba", "whole"));
    assert.ok(globMatches("ab*ba", "abba", "whole"));
    assert.ok(!globMatches("a*a", "a", "whole"));
    assert.ok(globMatches("a*a", "aa", "whole"));
    assert.ok(globMatches("a?b", "a😀b", "whole"));
    assert.ok(!globMatches("a??b", "a😀b", "whole"));
    assert.ok(globMatches("*", "", "whole"));
    assert.ok(!globMatches("?*", "", "whole"));
  });
  it("word mode places the end of the match at a word end, even after earlier candidates", () => {
    assert.ok(globMatches("ca*t", "cats and a cat", "word"), "the first 'cat' ends inside a word, the second does not");
    assert.ok(!globMatches("ca*t", "cats", "word"));
    assert.ok(globMatches("*ple", "An example", "word"));
    assert.ok(globMatches("exa*", "An example", "word"));
    assert.ok(!globMatches("xam*", "An example", "word"));
  });
  it("wildcards span lines and collapse without blowing up", () => {
    assert.ok(globMatches("a*b", "a\nb", "whole"));
    const start = Date.now();
    assert.ok(!globMatches("*a*a*a*a*a*a*a*a*b", "a".repeat(5000), "word"));
    assert.ok(Date.now() - start < 2000, "no catastrophic backtracking");
  });
});

describe("LruCache", () => {
  it("evicts the least recently used entry", () => {
    const c = new LruCache<string, number>(2);
    c.set("a", 1);
    c.set("b", 2);
    assert.equal(c.get("a"), 1);
    c.set("c", 3);
    assert.equal(c.get("b"), undefined);
    assert.equal(c.get("a"), 1);
    assert.equal(c.get("c"), 3);
    assert.equal(c.size, 2);
    assert.throws(() => new LruCache(0), RangeError);
  });
});
