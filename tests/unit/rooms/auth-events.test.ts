import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { splitStateKey } from "../../../src/events/pdu.js";
import { authEventsNeeded, selectAuthState } from "../../../src/rooms/auth-rules.js";
import { ALICE, BOB, MOD, pdu, standardRoom, version } from "./auth-fixtures.js";

const sorted = (pairs: Array<[string, string]>) => pairs.map(([t, k]) => `${t}|${k}`).sort();

describe("auth events selection", () => {
  it("selects nothing for m.room.create", () => {
    assert.deepEqual(authEventsNeeded("m.room.create", "", ALICE, {}), []);
  });

  it("selects create, power levels and the sender's membership for other events", () => {
    assert.deepEqual(sorted(authEventsNeeded("m.room.message", undefined, BOB, { body: "x" })), [
      "m.room.create|", `m.room.member|${BOB}`, "m.room.power_levels|",
    ]);
    assert.deepEqual(sorted(authEventsNeeded("m.room.topic", "", BOB, {})), [
      "m.room.create|", `m.room.member|${BOB}`, "m.room.power_levels|",
    ]);
  });

  it("adds the target and the join rules for join, invite and knock, once each", () => {
    for (const membership of ["join", "invite", "knock"]) {
      assert.deepEqual(sorted(authEventsNeeded("m.room.member", BOB, ALICE, { membership })), [
        "m.room.create|", "m.room.join_rules|", `m.room.member|${ALICE}`, `m.room.member|${BOB}`, "m.room.power_levels|",
      ]);
    }
    // Sender and target are the same user: listed once.
    assert.equal(authEventsNeeded("m.room.member", BOB, BOB, { membership: "join" }).length, 4);
  });

  it("leaves the join rules out for leave and ban", () => {
    for (const membership of ["leave", "ban"]) {
      assert.deepEqual(sorted(authEventsNeeded("m.room.member", BOB, ALICE, { membership })), [
        "m.room.create|", `m.room.member|${ALICE}`, `m.room.member|${BOB}`, "m.room.power_levels|",
      ]);
    }
  });

  it("adds the third-party invite named by signed.token", () => {
    const content = { membership: "invite", third_party_invite: { signed: { mxid: BOB, token: "abc" } } };
    assert.ok(sorted(authEventsNeeded("m.room.member", BOB, ALICE, content)).includes("m.room.third_party_invite|abc"));
    const noToken = { membership: "invite", third_party_invite: { signed: {} } };
    assert.equal(authEventsNeeded("m.room.member", BOB, ALICE, noToken).length, 5);
  });

  it("adds the authorising user's membership for restricted joins only", () => {
    const content = { membership: "join", join_authorised_via_users_server: MOD };
    assert.ok(sorted(authEventsNeeded("m.room.member", BOB, BOB, content, version("10"))).includes(`m.room.member|${MOD}`));
    const leave = { membership: "leave", join_authorised_via_users_server: MOD };
    assert.ok(!sorted(authEventsNeeded("m.room.member", BOB, BOB, leave)).includes(`m.room.member|${MOD}`));
  });

  it("selectAuthState picks only needed entries that exist", () => {
    const room = standardRoom("11");
    const e = pdu({ type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" } });
    const selected = selectAuthState(e, room.state, room.version);
    assert.deepEqual([...selected.keys()].map((k) => splitStateKey(k)[0]).sort(), [
      "m.room.create", "m.room.join_rules", "m.room.power_levels",
    ]);
  });
});
