import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { membershipOf, namedLevel, powerLevelOf, requiredLevelForEvent } from "../../../src/rooms/auth-rules.js";
import {
  ALICE, BOB, DEFAULT_POWER_LEVELS, EVE, MOD, RoomFixture, VERSION_IDS, assertAllowed, assertDenied, pdu, standardRoom, version,
} from "./auth-fixtures.js";

function plEvent(sender: string, content: Record<string, unknown>) {
  return pdu({ type: "m.room.power_levels", sender, stateKey: "", content });
}

/** The default levels with some top-level fields replaced. */
function levels(overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...DEFAULT_POWER_LEVELS, ...overrides };
}

/** The default levels with the users map replaced and no per-event levels. */
function withUsers(users: Record<string, unknown>): Record<string, unknown> {
  return levels({ users, events: {} });
}

for (const id of VERSION_IDS) {
  describe(`v${id} rules 5–8: sending events`, () => {
    it("denies a message from a non-member (5) and allows one from a member", () => {
      const room = standardRoom(id).member(EVE, "invite", {}, ALICE);
      assertDenied(room.check(pdu({ type: "m.room.message", sender: BOB, content: {} })), /not in the room/);
      assertDenied(room.check(pdu({ type: "m.room.message", sender: EVE, content: {} })), /not in the room/);
      assertAllowed(room.check(pdu({ type: "m.room.message", sender: MOD, content: {} })));
    });

    it("allows m.room.third_party_invite at the invite level only (6)", () => {
      const room = standardRoom(id).member(BOB, "join").powerLevels(levels({ invite: 50 }));
      const tpi = (sender: string) => pdu({ type: "m.room.third_party_invite", sender, stateKey: "tok", content: {} });
      assertAllowed(room.check(tpi(MOD)));
      assertDenied(room.check(tpi(BOB)), /inviting needs power level 50/);
    });

    it("denies a message below events_default and honours events[type] (7)", () => {
      const room = standardRoom(id).member(BOB, "join").powerLevels(levels({ events_default: 10, events: { "m.reaction": 0 } }));
      assertDenied(room.check(pdu({ type: "m.room.message", sender: BOB, content: {} })), /needs power level 10; @bob:a.test has 0/);
      assertAllowed(room.check(pdu({ type: "m.reaction", sender: BOB, content: {} })));
    });

    it("denies a state event without enough power (7)", () => {
      const room = standardRoom(id).member(BOB, "join");
      assertDenied(room.check(pdu({ type: "m.room.topic", sender: BOB, stateKey: "", content: {} })), /m\.room\.topic needs power level 50/);
      assertAllowed(room.check(pdu({ type: "m.room.topic", sender: MOD, stateKey: "", content: {} })));
      assertDenied(room.check(pdu({ type: "m.room.power_levels", sender: MOD, stateKey: "", content: {} })), /needs power level 100/);
    });

    it("without a power levels event, only the creator may send state (7)", () => {
      const room = new RoomFixture(version(id)).member(ALICE, "join").joinRule("public").member(BOB, "join");
      assertAllowed(room.check(pdu({ type: "m.room.topic", sender: ALICE, stateKey: "", content: {} })));
      assertDenied(room.check(pdu({ type: "m.room.topic", sender: BOB, stateKey: "", content: {} })), /needs power level 50/);
      assertAllowed(room.check(pdu({ type: "m.room.message", sender: BOB, content: {} })));
    });

    it("denies a state key starting with @ that is not the sender (8)", () => {
      const room = standardRoom(id);
      assertDenied(room.check(pdu({ type: "org.example.status", sender: MOD, stateKey: ALICE, content: {} })), /must be the sender's own user id/);
      assertAllowed(room.check(pdu({ type: "org.example.status", sender: MOD, stateKey: MOD, content: {} })));
    });
  });

  describe(`v${id} rule 9: m.room.power_levels`, () => {
    it("allows the first power levels event of a room, whatever it says (9.4)", () => {
      const room = new RoomFixture(version(id)).member(ALICE, "join");
      assertAllowed(room.check(plEvent(ALICE, { users: { [ALICE]: 100, [BOB]: 9000 }, ban: 1000 })));
    });

    it("denies raising one's own level (9.9) and allows lowering it", () => {
      const room = standardRoom(id).powerLevels(levels({ events: {} }));
      assertDenied(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 60 }))), /cannot give @mod:a.test power level 60/);
      assertAllowed(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 40 }))));
    });

    it("denies demoting a peer at the same level (9.8) and allows demoting a lower user", () => {
      const room = standardRoom(id).powerLevels(levels({ events: {}, users: { [ALICE]: 100, [MOD]: 50, [EVE]: 50, [BOB]: 10 } }));
      assertDenied(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 50, [EVE]: 0, [BOB]: 10 }))), /@eve:a.test \(50\): not below your own/);
      assertDenied(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 50, [BOB]: 10 }))), /@eve:a.test/); // removal counts too
      assertAllowed(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 50, [EVE]: 50, [BOB]: 0 }))));
    });

    it("allows promoting someone up to one's own level, not above (9.9)", () => {
      const room = standardRoom(id).powerLevels(levels({ events: {} }));
      assertAllowed(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 50, [BOB]: 50 }))));
      assertDenied(room.check(plEvent(MOD, withUsers({ [ALICE]: 100, [MOD]: 50, [BOB]: 51 }))), /power level 51: above your own/);
    });

    it("denies changing a named level from or to above one's own (9.5)", () => {
      const room = standardRoom(id).powerLevels(levels({ events: {}, kick: 75 }));
      assertDenied(room.check(plEvent(MOD, levels({ events: {}, kick: 50 }))), /"kick" from 75/);
      assertDenied(room.check(plEvent(MOD, levels({ events: {}, kick: 75, ban: 60 }))), /"ban" to 60/);
      const { kick: _kick, ...withoutKick } = levels({ events: {} });
      assertDenied(room.check(plEvent(MOD, withoutKick)), /"kick" from 75/); // removal counts too
      assertAllowed(room.check(plEvent(MOD, levels({ events: {}, kick: 75, ban: 40 }))));
    });

    it("denies changing events or notifications entries from or to above one's own (9.6, 9.7)", () => {
      const room = standardRoom(id).powerLevels(levels({ events: { "m.room.name": 50, "m.room.tombstone": 100 } }));
      const base = { "m.room.name": 50, "m.room.tombstone": 100 };
      assertDenied(room.check(plEvent(MOD, levels({ events: { "m.room.name": 50 } }))), /events\["m\.room\.tombstone"\] from 100/);
      assertDenied(room.check(plEvent(MOD, levels({ events: { ...base, "m.room.topic": 70 } }))), /events\["m\.room\.topic"\] to 70/);
      assertDenied(room.check(plEvent(MOD, levels({ events: base, notifications: { room: 99 } }))), /notifications\["room"\] to 99/);
      assertAllowed(room.check(plEvent(MOD, levels({ events: { ...base, "m.room.topic": 20 } }))));
    });

    it("denies string power levels (9.1–9.3)", () => {
      const room = standardRoom(id);
      assertDenied(room.check(plEvent(ALICE, levels({ users_default: "42" }))), /"users_default" must be an integer/);
      assertDenied(room.check(plEvent(ALICE, levels({ events: { "m.room.name": "50" } }))), /"events" must be an object whose values are integers/);
      assertDenied(room.check(plEvent(ALICE, withUsers({ [ALICE]: "100" }))), /power level of @alice:a.test must be an integer/);
    });

    it("denies other non-integer levels (9.1–9.3)", () => {
      const room = standardRoom(id);
      assertDenied(room.check(plEvent(ALICE, levels({ ban: 50.5 }))), /"ban" must be an integer/);
      assertDenied(room.check(plEvent(ALICE, levels({ kick: null }))), /"kick" must be an integer/);
      assertDenied(room.check(plEvent(ALICE, levels({ invite: 2 ** 53 }))), /"invite" must be an integer/);
      assertDenied(room.check(plEvent(ALICE, levels({ notifications: { room: null } }))), /"notifications"/);
      assertDenied(room.check(plEvent(ALICE, levels({ events: [] }))), /"events"/);
      assertDenied(room.check(plEvent(ALICE, levels({ users: [] }))), /"users" must be an object/);
    });

    it("denies users keys that are not valid user ids (9.3)", () => {
      const room = standardRoom(id);
      assertDenied(room.check(plEvent(ALICE, withUsers({ [ALICE]: 100, "not-a-user": 10 }))), /"not-a-user" is not a valid user id/);
      assertDenied(room.check(plEvent(ALICE, withUsers({ [ALICE]: 100, "@nodomain": 10 }))), /not a valid user id/);
    });
  });
}

describe("power level helpers", () => {
  it("powerLevelOf reads users, then users_default, and gives the creator 100 without power levels", () => {
    const room = standardRoom("10").powerLevels({ users: { [ALICE]: 100, [BOB]: 7 }, users_default: 3 });
    assert.equal(powerLevelOf(BOB, room.stateMap), 7);
    assert.equal(powerLevelOf(EVE, room.stateMap), 3);
    assert.equal(powerLevelOf("constructor", room.stateMap), 3);
    for (const id of VERSION_IDS) {
      const bare = new RoomFixture(version(id));
      assert.equal(powerLevelOf(ALICE, bare.stateMap), 100);
      assert.equal(powerLevelOf(ALICE, bare.stateMap, version(id)), 100);
      assert.equal(powerLevelOf(BOB, bare.stateMap), 0);
    }
  });

  it("requiredLevelForEvent falls back to state_default 50 and events_default 0", () => {
    const bare = new RoomFixture(version("11"));
    assert.equal(requiredLevelForEvent("m.room.topic", true, bare.stateMap), 50);
    assert.equal(requiredLevelForEvent("m.room.message", false, bare.stateMap), 0);
    const room = standardRoom("11").powerLevels({ events: { "m.room.message": 5 }, state_default: 20, events_default: 1 });
    assert.equal(requiredLevelForEvent("m.room.message", false, room.stateMap), 5);
    assert.equal(requiredLevelForEvent("m.room.topic", true, room.stateMap), 20);
    assert.equal(requiredLevelForEvent("m.custom", false, room.stateMap), 1);
    assert.equal(requiredLevelForEvent("toString", false, room.stateMap), 1);
  });

  it("namedLevel defaults invite to 0 and kick, ban, redact to 50", () => {
    const bare = new RoomFixture(version("10"));
    assert.deepEqual(["invite", "kick", "ban", "redact"].map((n) => namedLevel(n as "invite", bare.stateMap)), [0, 50, 50, 50]);
    const room = standardRoom("10").powerLevels({ invite: 5, kick: 6, ban: 7, redact: 8 });
    assert.deepEqual(["invite", "kick", "ban", "redact"].map((n) => namedLevel(n as "invite", room.stateMap)), [5, 6, 7, 8]);
  });

  it("membershipOf reads the member event, undefined when there is none", () => {
    const room = standardRoom("10").member(BOB, "ban", {}, ALICE);
    assert.equal(membershipOf(ALICE, room.stateMap), "join");
    assert.equal(membershipOf(BOB, room.stateMap), "ban");
    assert.equal(membershipOf(EVE, room.stateMap), undefined);
  });
});
