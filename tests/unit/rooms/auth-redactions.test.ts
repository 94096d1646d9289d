import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mayApplyRedaction, mayUserRedact, redactedEventId } from "../../../src/rooms/auth-rules.js";
import {
  ALICE, BOB, CAROL, DEFAULT_POWER_LEVELS, EVE, MOD, VERSION_IDS, assertAllowed, assertDenied, pdu, standardRoom, version,
} from "./auth-fixtures.js";

/** A redaction in the version's own shape. */
function redaction(versionId: string, sender: string, target = "$target") {
  return versionId === "10"
    ? pdu({ type: "m.room.redaction", sender, content: {}, extra: { redacts: target } })
    : pdu({ type: "m.room.redaction", sender, content: { redacts: target } });
}

for (const id of VERSION_IDS) {
  describe(`v${id} redactions`, () => {
    it("the auth rules let a member send a redaction without the redact level", () => {
      const room = standardRoom(id).member(BOB, "join");
      assertAllowed(room.check(redaction(id, BOB)));
    });

    it("the auth rules apply events[m.room.redaction] and membership like any event (5, 7)", () => {
      const room = standardRoom(id).member(BOB, "join").powerLevels({ ...DEFAULT_POWER_LEVELS, events: { "m.room.redaction": 60 } });
      assertDenied(room.check(redaction(id, MOD)), /m\.room\.redaction needs power level 60; @mod:a.test has 50/);
      assertAllowed(room.check(redaction(id, ALICE)));
      assertDenied(room.check(redaction(id, EVE)), /not in the room/);
    });

    it("handling: applied for the redact level or the same server, else not", () => {
      const room = standardRoom(id).member(BOB, "join").member(CAROL, "join");
      const v = version(id);
      const carolsMessage = pdu({ type: "m.room.message", sender: CAROL, content: {} });
      assertAllowed(mayApplyRedaction(redaction(id, MOD), carolsMessage, room.stateMap, v)); // 50 >= redact 50
      assertDenied(mayApplyRedaction(redaction(id, BOB), carolsMessage, room.stateMap, v), /needs power level 50; @bob:a.test has 0/);
      const evesMessage = pdu({ type: "m.room.message", sender: EVE, content: {} });
      assertAllowed(mayApplyRedaction(redaction(id, BOB), evesMessage, room.stateMap, v)); // same domain a.test
      const elsewhere = pdu({ type: "m.room.message", sender: CAROL, content: {}, roomId: "!other:a.test" });
      assertDenied(mayApplyRedaction(redaction(id, ALICE), elsewhere, room.stateMap, v), /another room/);
    });

    it("a local user redacts their own events, or others' with the redact level", () => {
      const room = standardRoom(id).member(BOB, "join");
      const v = version(id);
      const bobsMessage = pdu({ type: "m.room.message", sender: BOB, content: {} });
      const evesMessage = pdu({ type: "m.room.message", sender: EVE, content: {} });
      assertAllowed(mayUserRedact(redaction(id, BOB), bobsMessage, room.stateMap, v));
      assertDenied(mayUserRedact(redaction(id, BOB), evesMessage, room.stateMap, v), /other users' events needs power level 50/);
      assertAllowed(mayUserRedact(redaction(id, MOD), evesMessage, room.stateMap, v));
    });
  });
}

describe("redactedEventId", () => {
  it("reads top-level redacts in v10 and content.redacts in v11", () => {
    const both = pdu({ type: "m.room.redaction", sender: BOB, content: { redacts: "$inContent" }, extra: { redacts: "$topLevel" } });
    assert.equal(redactedEventId(both, version("10")), "$topLevel");
    assert.equal(redactedEventId(both, version("11")), "$inContent");
    assert.equal(redactedEventId(redaction("10", BOB), version("11")), undefined);
    assert.equal(redactedEventId(redaction("11", BOB), version("10")), undefined);
  });
});
