/**
 * IgnoredUsers (rooms/ignored-users.ts): which user ids an m.ignored_user_list names (none when
 * malformed, as Synapse), and that only non-state events of ignored senders are withheld.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { IgnoredUsers, ignoredUserIds } from "../../../src/rooms/ignored-users.js";
import type { Storage } from "../../../src/storage/storage.js";
import type { UserId } from "../../../src/events/ids.js";

const ME = "@me:test.local" as UserId;

/** A Storage whose only account data is one global m.ignored_user_list. */
function storageWith(content: Record<string, unknown> | null): Storage {
  const accountData = {
    get: async (userId: UserId, roomId: string | null, type: string) =>
      content !== null && userId === ME && roomId === null && type === "m.ignored_user_list" ? { userId, roomId, type, content, pos: 1 } : null,
  };
  return { accountData } as unknown as Storage;
}

describe("ignoredUserIds", () => {
  it("reads the keys of ignored_users", () => {
    assert.deepEqual(ignoredUserIds({ ignored_users: { "@a:x": {}, "@b:x": {} } }), ["@a:x", "@b:x"]);
  });
  it("malformed or missing content ignores no one", () => {
    for (const c of [null, undefined, {}, { ignored_users: null }, { ignored_users: ["@a:x"] }, { ignored_users: "@a:x" }]) assert.deepEqual(ignoredUserIds(c as never), [], JSON.stringify(c));
  });
});

describe("IgnoredUsers", () => {
  it("hides non-state events of ignored senders only", async () => {
    const ignored = await IgnoredUsers.load(storageWith({ ignored_users: { "@a:x": {} } }), ME);
    assert.equal(ignored.has("@a:x"), true);
    assert.equal(ignored.hides({ sender: "@a:x" }), true);
    assert.equal(ignored.hides({ sender: "@a:x", state_key: "" }), false, "state events are always sent");
    assert.equal(ignored.hides({ sender: "@b:x" }), false);
  });
  it("no list, and a list naming the user themselves, never hide the user's own events", async () => {
    assert.equal((await IgnoredUsers.load(storageWith(null), ME)).hides({ sender: "@a:x" }), false);
    const self = await IgnoredUsers.load(storageWith({ ignored_users: { [ME]: {} } }), ME);
    assert.equal(self.hides({ sender: ME }), false);
  });
});
