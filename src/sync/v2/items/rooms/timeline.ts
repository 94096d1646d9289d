/**
 * rooms.{join,leave}.*.timeline: the newest events of the room's window, oldest first.
 * Window: (floor, end]: (since, end] for rooms the client already had; the whole history
 * (newest `limit`) for initial syncs and rooms new to the client; after the user's last leave
 * for a room they rejoined (RoomPlan.floor). Hidden events (history visibility) end the
 * window; events the timeline filter rejects and non-state events sent by users the
 * requester ignores (m.ignored_user_list) are skipped. `limited` says events of the window
 * were left out (a window holding only skipped events is empty, not limited); `prev_batch`
 * is the boundary /messages continues from backwards (decision 0003).
 */
import { encodeRoomToken } from "../../../../rooms/pagination-token.js";
import { scanPage } from "../../../../rooms/event-scan.js";
import type { RoomViewer } from "../../../../rooms/visibility.js";
import type { EventRow } from "../../../../storage/rows.js";
import { asStreamPos } from "../../../../streams/position.js";
import type { SyncV2Context } from "../../context.js";
import { ignoredUsers } from "../../ignored-users.js";
import type { RoomPlan } from "../../room-plan.js";

export interface TimelineWindow {
  /** Oldest first. */
  rows: EventRow[];
  limited: boolean;
  prevBatch: string;
}

export async function timelineWindow(ctx: SyncV2Context, plan: RoomPlan, viewer: Pick<RoomViewer, "canSee">): Promise<TimelineWindow> {
  // (floor, end]: after `since` for a room the client followed; for an initial sync or a
  // (re)joined room, after what the client may already hold (room-plan.ts).
  const lower = plan.floor === null ? null : asStreamPos(plan.floor + 1);
  // The timeline is contiguous in what the user may see: it stops (limited) at an event
  // history visibility hides rather than skipping it, so no state change can hide inside it
  // (classic `state` describes the timeline's start; the client replays the rest). Events the
  // filter rejects are skipped: state.ts covers the state changes among them. Events of
  // ignored users are skipped too; being non-state, they change no state.
  const ignored = await ignoredUsers(ctx);
  const scan = await scanPage(
    (range) => ctx.deps.storage.events.inRoom(plan.roomId, range),
    { dir: "b", from: asStreamPos(plan.end + 1), to: lower, limit: ctx.timelineLimit },
    (row) => ctx.timelineFilter(row.pdu, plan.roomId) && !ignored.hides(row.pdu),
    (row) => !viewer.canSee(row),
  );
  return { rows: scan.events.reverse(), limited: !scan.exhausted, prevBatch: encodeRoomToken(scan.next) };
}
