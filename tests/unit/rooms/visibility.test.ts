/**
 * RoomViewer: the history-visibility rules (client-server "Room History Visibility",
 * "Server behaviour"), built through HistoryVisibility from a room's event list.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { UserId } from "../../../src/events/ids.js";
import type { Pdu } from "../../../src/events/pdu.js";
import type { EventRow } from "../../../src/storage/rows.js";
import type { Storage } from "../../../src/storage/storage.js";
import { asStreamPos } from "../../../src/streams/position.js";
import { HistoryVisibility, type RoomViewer } from "../../../src/rooms/visibility.js";

const ROOM = "!room:a.test";
const ALICE = "@alice:a.test" as UserId;
const BOB = "@bob:a.test" as UserId;

/** A room history: events at positions 1, 2, 3, … */
class Timeline {
  readonly events: EventRow[] = [];

  private add(type: string, sender: string, content: Record<string, unknown>, stateKey?: string): EventRow {
    const pos = asStreamPos(this.events.length + 1);
    const pdu = {
      room_id: ROOM, sender, type, content, origin_server_ts: pos, prev_events: [], auth_events: [], depth: pos,
      hashes: { sha256: "" }, signatures: {}, ...(stateKey !== undefined ? { state_key: stateKey } : {}),
    } as Pdu;
    const row: EventRow = { pos, eventId: `$e${pos}`, roomId: ROOM, pdu, redactedBy: null };
    this.events.push(row);
    return row;
  }

  message(sender = ALICE): EventRow {
    return this.add("m.room.message", sender, { msgtype: "m.text", body: "hi" });
  }

  member(target: string, membership: string, sender = target): EventRow {
    return this.add("m.room.member", sender, { membership }, target);
  }

  visibility(value: string): EventRow {
    return this.add("m.room.history_visibility", ALICE, { history_visibility: value }, "");
  }

  /** The viewer for `user`, through HistoryVisibility over a fake storage holding this timeline. */
  async viewer(user: UserId): Promise<RoomViewer> {
    const storage = {
      events: {
        stateHistory: async (roomId: string, type: string, stateKey: string) =>
          this.events.filter((e) => e.roomId === roomId && e.pdu.type === type && e.pdu.state_key === stateKey),
      },
    } as unknown as Storage;
    return new HistoryVisibility(storage).viewer(ROOM, user);
  }
}

/** A room created by Alice with the given visibility (positions 1–3). */
function room(visibility: string): Timeline {
  const t = new Timeline();
  t.member(ALICE, "join");
  t.visibility(visibility);
  return t;
}

describe("RoomViewer: world_readable", () => {
  it("shows events to a user who was never in the room, only while world_readable", async () => {
    const t = room("shared");
    const before = t.message();
    const change = t.visibility("world_readable");
    const during = t.message();
    const back = t.visibility("joined");
    const after = t.message();
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(before), false);
    assert.equal(v.canSee(change), true, "the change to world_readable is visible (after-rule)");
    assert.equal(v.canSee(during), true);
    assert.equal(v.canSee(back), true, "the change away from world_readable is visible (before-rule)");
    assert.equal(v.canSee(after), false);
    assert.equal(v.isWorldReadableNow(), false);
    assert.equal(v.mayPeek(), false);
  });

  it("mayPeek and isWorldReadableNow follow the current value", async () => {
    const t = room("world_readable");
    const v = await t.viewer(BOB);
    assert.equal(v.isWorldReadableNow(), true);
    assert.equal(v.mayPeek(), true);
    assert.equal(v.currentMembership, "leave");
    assert.equal(v.currentMembershipPos, null);
  });
});

describe("RoomViewer: joined", () => {
  it("shows a member what was sent while they were joined, and nothing else", async () => {
    const t = room("joined");
    const before = t.message();
    const join = t.member(BOB, "join");
    const during = t.message();
    const leave = t.member(BOB, "leave");
    const after = t.message();
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(before), false, "a later join does not open earlier history");
    assert.equal(v.canSee(join), true, "own join: membership after is join");
    assert.equal(v.canSee(during), true);
    assert.equal(v.canSee(leave), true, "own leave: membership before is join");
    assert.equal(v.canSee(after), false, "nothing after leaving");
    assert.equal(v.currentMembership, "leave");
    assert.equal(v.currentMembershipPos, leave.pos);
  });

  it("hides events from an invited user until they join", async () => {
    const t = room("joined");
    const invite = t.member(BOB, "invite", ALICE);
    const whileInvited = t.message();
    t.member(BOB, "join");
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(invite), false, "own invite: neither leave nor invite may see under joined");
    assert.equal(v.canSee(whileInvited), false);
  });
});

describe("RoomViewer: shared", () => {
  it("shows earlier history to a user who joined later", async () => {
    const t = room("shared");
    const before = t.message();
    t.member(BOB, "join");
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(before), true);
    assert.equal(v.canSee(t.events[0]!), true, "even the creator's join");
  });

  it("hides history from a user who never joined, including an invitee", async () => {
    const t = room("shared");
    const before = t.message();
    t.member(BOB, "invite", ALICE);
    const afterInvite = t.message();
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(before), false);
    assert.equal(v.canSee(afterInvite), false);
  });

  it("keeps what a departed user could see, and hides what came after they left", async () => {
    const t = room("shared");
    const before = t.message();
    t.member(BOB, "join");
    t.member(BOB, "leave");
    const afterLeave = t.message();
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(before), true);
    assert.equal(v.canSee(afterLeave), false);
  });

  it("reopens the gap when the user joins again", async () => {
    const t = room("shared");
    t.member(BOB, "join");
    t.member(BOB, "leave");
    const gap = t.message();
    t.member(BOB, "join");
    assert.equal((await t.viewer(BOB)).canSee(gap), true);
  });

  it("treats an unknown or missing visibility as shared", async () => {
    const t = room("some.future.value");
    const before = t.message();
    t.member(BOB, "join");
    assert.equal((await t.viewer(BOB)).canSee(before), true);
    const bare = new Timeline();
    bare.member(ALICE, "join");
    const early = bare.message();
    bare.member(BOB, "join");
    assert.equal((await bare.viewer(BOB)).canSee(early), true);
  });
});

describe("RoomViewer: invited", () => {
  it("shows events from the invite onwards, not before", async () => {
    const t = room("invited");
    const before = t.message();
    const invite = t.member(BOB, "invite", ALICE);
    const whileInvited = t.message();
    t.member(BOB, "join");
    const joined = t.message();
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(before), false);
    assert.equal(v.canSee(invite), true, "own invite: membership after is invite");
    assert.equal(v.canSee(whileInvited), true);
    assert.equal(v.canSee(joined), true);
  });

  it("stops when the invite is rejected, but the rejection itself is visible", async () => {
    const t = room("invited");
    t.member(BOB, "invite", ALICE);
    const reject = t.member(BOB, "leave");
    const after = t.message();
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(reject), true);
    assert.equal(v.canSee(after), false);
  });
});

describe("RoomViewer: own membership events", () => {
  it("a rejected invite is visible even under joined (Synapse: the room must be seen to go away)", async () => {
    const t = room("joined");
    t.member(BOB, "invite", ALICE);
    const reject = t.member(BOB, "leave");
    assert.equal((await t.viewer(BOB)).canSee(reject), true);
  });

  it("a kick or ban from join is visible; a ban of a never-member is not", async () => {
    const t = room("joined");
    t.member(BOB, "join");
    const kick = t.member(BOB, "leave", ALICE);
    const ban = t.member(BOB, "ban", ALICE);
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(kick), true);
    assert.equal(v.canSee(ban), false, "before leave, after ban: neither may see under joined");
  });

  it("other users' membership events follow the ordinary rules", async () => {
    const t = room("joined");
    const carolJoin = t.member("@carol:a.test", "join");
    t.member(BOB, "join");
    const carolLeave = t.member("@carol:a.test", "leave");
    const v = await t.viewer(BOB);
    assert.equal(v.canSee(carolJoin), false);
    assert.equal(v.canSee(carolLeave), true);
  });
});
