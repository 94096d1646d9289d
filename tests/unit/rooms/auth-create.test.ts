import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { stateKeyOf } from "../../../src/events/pdu.js";
import { buildAuthState, checkAuth, selectAuthState } from "../../../src/rooms/auth-rules.js";
import {
  ALICE, BOB, CAROL, ROOM, RoomFixture, assertAllowed, assertDenied, pdu, standardRoom, stored, version,
} from "./auth-fixtures.js";

const V10 = version("10");
const V11 = version("11");

function createEvent(content: Record<string, unknown>, extra: { sender?: string; roomId?: string; prevEvents?: string[] } = {}) {
  return pdu({
    type: "m.room.create",
    sender: extra.sender ?? ALICE,
    stateKey: "",
    content,
    roomId: extra.roomId ?? ROOM,
    prevEvents: extra.prevEvents ?? [],
  });
}

describe("rule 1: m.room.create", () => {
  it("allows a v10 create event naming its creator", () => {
    assertAllowed(checkAuth(createEvent({ creator: ALICE, room_version: "10" }), new Map(), V10));
  });

  it("allows a v11 create event without creator (the sender is the creator)", () => {
    assertAllowed(checkAuth(createEvent({ room_version: "11" }), new Map(), V11));
  });

  it("denies a v10 create event without creator (1.4)", () => {
    assertDenied(checkAuth(createEvent({ room_version: "10" }), new Map(), V10), /no creator/);
  });

  it("denies a create event with prev_events (1.1)", () => {
    const e = createEvent({ creator: ALICE }, { prevEvents: ["$earlier"] });
    assertDenied(checkAuth(e, new Map(), V10), /prev_events/);
    assertDenied(checkAuth(e, new Map(), V11), /prev_events/);
  });

  it("denies a create event whose room id is on another server than the sender (1.2)", () => {
    const e = createEvent({ creator: CAROL }, { sender: CAROL });
    assertDenied(checkAuth(e, new Map(), V10), /domain/);
    assertAllowed(checkAuth(createEvent({ creator: CAROL }, { sender: CAROL, roomId: "!x:b.test" }), new Map(), V10));
  });

  it("denies an unrecognised content.room_version (1.3)", () => {
    assertDenied(checkAuth(createEvent({ room_version: "999" }), new Map(), V11), /unrecognised room version/);
    assertDenied(checkAuth(createEvent({ room_version: 11 }), new Map(), V11), /unrecognised room version/);
  });
});

describe("rule 2: the auth events", () => {
  it("denies an event whose auth state has no create event (2.4)", () => {
    const room = standardRoom("10");
    const e = pdu({ type: "m.room.message", sender: ALICE, content: { body: "hi" } });
    const withoutCreate = new Map(selectAuthState(e, room.state, V10));
    withoutCreate.delete(stateKeyOf("m.room.create", ""));
    assertDenied(checkAuth(e, withoutCreate, V10), /no m\.room\.create/);
  });

  it("denies auth state the selection does not name (2.2)", () => {
    const room = standardRoom("10");
    const e = pdu({ type: "m.room.message", sender: ALICE, content: { body: "hi" } });
    // The join rules are not needed for a message: the whole state is too much.
    assertDenied(checkAuth(e, room.state, V10), /unexpected auth event \(m\.room\.join_rules/);
    assertAllowed(room.check(e));
  });

  it("denies an auth event from another room (2.5)", () => {
    const room = standardRoom("11");
    room.put(pdu({ type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" }, roomId: "!other:a.test" }));
    assertDenied(room.check(pdu({ type: "m.room.message", sender: BOB, content: {} })), /another room/);
  });

  it("denies an auth state entry filed under the wrong key", () => {
    const room = standardRoom("10");
    const e = pdu({ type: "m.room.message", sender: BOB, content: {} });
    const state = new Map(selectAuthState(e, room.state, V10));
    // Alice's join event filed as Bob's membership.
    const aliceJoin = room.state.get(stateKeyOf("m.room.member", ALICE));
    assert.ok(aliceJoin);
    state.set(stateKeyOf("m.room.member", BOB), aliceJoin);
    assertDenied(checkAuth(e, state, V10), /wrong/);
  });

  it("buildAuthState refuses duplicate (type, state_key) entries (2.1) and non-state events", () => {
    const a = stored(pdu({ type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" } }));
    const b = stored(pdu({ type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "leave" } }));
    const msg = stored(pdu({ type: "m.room.message", sender: BOB, content: {} }));
    const dup = buildAuthState([a, b]);
    assert.equal(dup.allowed, false);
    if (!dup.allowed) assert.match(dup.reason, /duplicate/);
    const nonState = buildAuthState([msg]);
    assert.equal(nonState.allowed, false);
    const ok = buildAuthState([a]);
    assert.ok(ok.allowed && ok.state.get(stateKeyOf("m.room.member", BOB)) === a);
  });
});

describe("rule 3: m.federate", () => {
  for (const id of ["10", "11"]) {
    it(`v${id}: a non-federating room refuses other servers' senders and targets`, () => {
      const room = new RoomFixture(version(id), ALICE, { "m.federate": false }).member(ALICE, "join").joinRule("public");
      assertDenied(room.check(room.memberEvent(CAROL, CAROL, "join")), /does not federate.*sender/);
      assertDenied(room.check(room.memberEvent(ALICE, CAROL, "invite")), /does not federate.*target/);
      assertAllowed(room.check(room.memberEvent(BOB, BOB, "join")));
    });
  }
});
