import { describe, it } from "node:test";
import {
  ALICE, BOB, CAROL, EVE, MOD, RoomFixture, VERSION_IDS, assertAllowed, assertDenied, pdu, standardRoom, version,
} from "./auth-fixtures.js";

for (const id of VERSION_IDS) {
  describe(`v${id} rule 4.3: join`, () => {
    it("allows the creator's first join straight after the create event (4.3.1)", () => {
      const room = new RoomFixture(version(id));
      const join = pdu({ type: "m.room.member", sender: ALICE, stateKey: ALICE, content: { membership: "join" }, prevEvents: [room.create.eventId] });
      assertAllowed(room.check(join));
    });

    it("denies a first join by someone who is not the creator (4.3.7)", () => {
      const room = new RoomFixture(version(id));
      const join = pdu({ type: "m.room.member", sender: BOB, stateKey: BOB, content: { membership: "join" }, prevEvents: [room.create.eventId] });
      assertDenied(room.check(join), /join rule "invite"|not invited/);
    });

    it("denies joining on behalf of another user (4.3.2)", () => {
      const room = standardRoom(id, "public");
      assertDenied(room.check(room.memberEvent(ALICE, BOB, "join")), /on behalf of another user/);
    });

    it("allows anyone to join a public room (4.3.6)", () => {
      const room = standardRoom(id, "public");
      assertAllowed(room.check(room.memberEvent(BOB, BOB, "join")));
      assertAllowed(room.check(room.memberEvent(CAROL, CAROL, "join")));
    });

    it("denies a banned user's join even in a public room (4.3.3)", () => {
      const room = standardRoom(id, "public").member(BOB, "ban", {}, ALICE);
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join")), /banned/);
    });

    it("denies a join to an invite-only room without an invite (4.3.4)", () => {
      const room = standardRoom(id, "invite");
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join")), /not invited/);
      room.member(BOB, "leave");
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join")), /not invited/);
    });

    it("allows a join to an invite-only or knock room with an invite (4.3.4)", () => {
      for (const rule of ["invite", "knock"]) {
        const room = standardRoom(id, rule).member(BOB, "invite", {}, ALICE);
        assertAllowed(room.check(room.memberEvent(BOB, BOB, "join")));
      }
    });

    it("denies a join to a knock room for a user who only knocked (4.3.4)", () => {
      const room = standardRoom(id, "knock").member(BOB, "knock");
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join")), /not invited/);
    });

    it("treats a room without join rules as invite-only, and an unknown join rule as closed (4.3.7)", () => {
      const bare = new RoomFixture(version(id)).member(ALICE, "join");
      assertDenied(bare.check(bare.memberEvent(BOB, BOB, "join")), /not invited/);
      const priv = standardRoom(id, "private");
      assertDenied(priv.check(priv.memberEvent(BOB, BOB, "join")), /"private" does not allow joining/);
    });

    it("allows a restricted join vouched for by a joined member with invite power (4.3.5.3)", () => {
      for (const rule of ["restricted", "knock_restricted"]) {
        const room = standardRoom(id, rule);
        assertAllowed(room.check(room.memberEvent(BOB, BOB, "join", { join_authorised_via_users_server: MOD })));
      }
    });

    it("denies a restricted join without join_authorised_via_users_server (4.3.5.2)", () => {
      const room = standardRoom(id, "restricted");
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join")), /needs join_authorised_via_users_server/);
    });

    it("denies a restricted join vouched for by a user who is not joined (4.3.5.2)", () => {
      const room = standardRoom(id, "restricted").member(EVE, "leave");
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join", { join_authorised_via_users_server: EVE })), /not joined/);
    });

    it("denies a restricted join vouched for by a member without invite power (4.3.5.2)", () => {
      const room = standardRoom(id, "restricted").member(EVE, "join").powerLevels({ users: { [ALICE]: 100 }, invite: 10 });
      assertDenied(room.check(room.memberEvent(BOB, BOB, "join", { join_authorised_via_users_server: EVE })), /may not invite/);
    });

    it("allows an invited user into a restricted room without a voucher (4.3.5.1)", () => {
      const room = standardRoom(id, "knock_restricted").member(BOB, "invite", {}, ALICE);
      assertAllowed(room.check(room.memberEvent(BOB, BOB, "join")));
    });
  });

  describe(`v${id} rule 4.4: invite`, () => {
    it("allows a joined member with the invite level to invite (4.4.4)", () => {
      const room = standardRoom(id, "invite");
      assertAllowed(room.check(room.memberEvent(MOD, BOB, "invite")));
    });

    it("denies an invite from a user who is not joined (4.4.2)", () => {
      const room = standardRoom(id, "invite").member(EVE, "invite", {}, ALICE);
      assertDenied(room.check(room.memberEvent(EVE, BOB, "invite")), /not in the room, so cannot invite/);
    });

    it("denies an invite from a member below the invite level (4.4.5)", () => {
      const room = standardRoom(id, "invite").member(EVE, "join").powerLevels({ ...{ users: { [ALICE]: 100 } }, invite: 50 });
      assertDenied(room.check(room.memberEvent(EVE, BOB, "invite")), /inviting needs power level 50; @eve:a.test has 0/);
    });

    it("denies inviting a banned or already joined user (4.4.3)", () => {
      const room = standardRoom(id, "invite").member(BOB, "ban", {}, ALICE);
      assertDenied(room.check(room.memberEvent(ALICE, BOB, "invite")), /banned/);
      assertDenied(room.check(room.memberEvent(ALICE, MOD, "invite")), /already in the room/);
    });

    it("checks third-party invites step by step and refuses them unverified (4.4.1)", () => {
      const room = standardRoom(id, "invite").setState("m.room.third_party_invite", "tok", { public_key: "abc" }, MOD);
      const signed = (mxid: string, token: string) => ({ third_party_invite: { signed: { mxid, token, signatures: {} } } });
      assertDenied(room.check(room.memberEvent(MOD, BOB, "invite", { third_party_invite: {} })), /no signed object/);
      assertDenied(room.check(room.memberEvent(MOD, BOB, "invite", signed(CAROL, "tok"))), /mxid does not match/);
      assertDenied(room.check(room.memberEvent(MOD, BOB, "invite", signed(BOB, "other"))), /no m\.room\.third_party_invite/);
      assertDenied(room.check(room.memberEvent(ALICE, BOB, "invite", signed(BOB, "tok"))), /did not send/);
      assertDenied(room.check(room.memberEvent(MOD, BOB, "invite", signed(BOB, "tok"))), /signatures are not verified/);
      room.member(BOB, "ban", {}, ALICE);
      assertDenied(room.check(room.memberEvent(MOD, BOB, "invite", signed(BOB, "tok"))), /banned/);
    });
  });

  describe(`v${id} rule 4.5: leave`, () => {
    it("allows leaving from join, invite (rejecting) and knock (retracting) (4.5.1)", () => {
      for (const from of ["join", "invite", "knock"]) {
        const room = standardRoom(id, "knock").member(BOB, from, {}, from === "invite" ? ALICE : BOB);
        assertAllowed(room.check(room.memberEvent(BOB, BOB, "leave")));
      }
    });

    it("denies leaving when not in the room, and a banned user lifting their own ban (4.5.1)", () => {
      const room = standardRoom(id);
      assertDenied(room.check(room.memberEvent(BOB, BOB, "leave")), /current membership none/);
      room.member(BOB, "ban", {}, ALICE);
      assertDenied(room.check(room.memberEvent(BOB, BOB, "leave")), /current membership ban/);
    });

    it("allows kicking a user with a lower power level (4.5.4)", () => {
      const room = standardRoom(id).member(BOB, "join");
      assertAllowed(room.check(room.memberEvent(MOD, BOB, "leave")));
    });

    it("denies kicking a user with equal power level (4.5.5)", () => {
      const room = standardRoom(id).member(EVE, "join").powerLevels({ users: { [ALICE]: 100, [MOD]: 50, [EVE]: 50 } });
      assertDenied(room.check(room.memberEvent(MOD, EVE, "leave")), /not below yours/);
    });

    it("denies kicking below the kick level, and kicking by non-members (4.5.2, 4.5.5)", () => {
      const room = standardRoom(id).member(BOB, "join").member(EVE, "join").powerLevels({ users: { [ALICE]: 100, [EVE]: 10 }, kick: 20 });
      assertDenied(room.check(room.memberEvent(EVE, BOB, "leave")), /kicking needs power level 20/);
      room.member(EVE, "leave");
      assertDenied(room.check(room.memberEvent(EVE, BOB, "leave")), /not in the room/);
    });

    it("allows unbanning with the ban level and denies it with only the kick level (4.5.3)", () => {
      const room = standardRoom(id).member(BOB, "ban", {}, ALICE).powerLevels({ users: { [ALICE]: 100, [MOD]: 50 }, kick: 50, ban: 80 });
      assertDenied(room.check(room.memberEvent(MOD, BOB, "leave")), /unbanning needs power level 80/);
      assertAllowed(room.check(room.memberEvent(ALICE, BOB, "leave")));
    });
  });

  describe(`v${id} rule 4.6: ban`, () => {
    it("allows a ban with the ban level of a lower user (4.6.2)", () => {
      const room = standardRoom(id).member(BOB, "join");
      assertAllowed(room.check(room.memberEvent(MOD, BOB, "ban")));
      assertAllowed(room.check(room.memberEvent(MOD, CAROL, "ban")));
    });

    it("denies a ban of an equal or higher user, below the ban level, or by a non-member (4.6)", () => {
      const room = standardRoom(id).member(BOB, "join");
      assertDenied(room.check(room.memberEvent(MOD, ALICE, "ban")), /not below yours/);
      assertDenied(room.check(room.memberEvent(BOB, EVE, "ban")), /banning needs power level 50/);
      room.member(MOD, "leave");
      assertDenied(room.check(room.memberEvent(MOD, BOB, "ban")), /not in the room/);
    });
  });

  describe(`v${id} rule 4.7: knock`, () => {
    it("allows a knock on a knock or knock_restricted room (4.7.3)", () => {
      for (const rule of ["knock", "knock_restricted"]) {
        const room = standardRoom(id, rule);
        assertAllowed(room.check(room.memberEvent(BOB, BOB, "knock")));
      }
    });

    it("denies a knock on a public, invite or restricted room (4.7.1)", () => {
      for (const rule of ["public", "invite", "restricted"]) {
        const room = standardRoom(id, rule);
        assertDenied(room.check(room.memberEvent(BOB, BOB, "knock")), /does not allow knocking/);
      }
    });

    it("denies knocking for someone else, or when invited, joined or banned (4.7.2, 4.7.4)", () => {
      const room = standardRoom(id, "knock");
      assertDenied(room.check(room.memberEvent(MOD, BOB, "knock")), /on behalf of another user/);
      assertDenied(room.check(room.memberEvent(MOD, MOD, "knock")), /membership join/);
      room.member(BOB, "invite", {}, ALICE);
      assertDenied(room.check(room.memberEvent(BOB, BOB, "knock")), /membership invite/);
      room.member(BOB, "ban", {}, ALICE);
      assertDenied(room.check(room.memberEvent(BOB, BOB, "knock")), /membership ban/);
    });
  });

  describe(`v${id} rules 4.1 and 4.8`, () => {
    it("denies a member event without membership, or with an unknown one", () => {
      const room = standardRoom(id);
      assertDenied(room.check(pdu({ type: "m.room.member", sender: BOB, stateKey: BOB, content: {} })), /needs content\.membership/);
      assertDenied(room.check(pdu({ type: "m.room.member", sender: BOB, content: { membership: "join" } })), /needs a state_key/);
      assertDenied(room.check(room.memberEvent(BOB, BOB, "dance")), /unknown membership "dance"/);
    });
  });
}

describe("the creator per version (4.3.1)", () => {
  it("v10 takes the creator from content.creator; v11 from the sender", () => {
    // A create event sent by Alice that names Bob as creator.
    const v10 = new RoomFixture(version("10"), ALICE, { creator: BOB });
    const v11 = new RoomFixture(version("11"), ALICE, { creator: BOB });
    const firstJoin = (room: RoomFixture, user: string) =>
      pdu({ type: "m.room.member", sender: user, stateKey: user, content: { membership: "join" }, prevEvents: [room.create.eventId] });
    assertAllowed(v10.check(firstJoin(v10, BOB)));
    assertDenied(v10.check(firstJoin(v10, ALICE)), /not invited/);
    assertAllowed(v11.check(firstJoin(v11, ALICE)));
    assertDenied(v11.check(firstJoin(v11, BOB)), /not invited/);
  });

  it("the creator's join only counts as first when the create event is its only prev event", () => {
    const room = new RoomFixture(version("11"));
    const join = pdu({ type: "m.room.member", sender: ALICE, stateKey: ALICE, content: { membership: "join" }, prevEvents: [room.create.eventId, "$other"] });
    assertDenied(room.check(join), /not invited/);
  });
});
