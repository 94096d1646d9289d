/**
 * rooms.{join,leave}.*.timeline: the newest events of the room's window, oldest first.
 * Window: (since, end] for rooms the client already had; the whole history (newest `limit`)
 * for initial syncs and newly joined rooms. Hidden events (history visibility) and events
 * the timeline filter rejects are skipped. `limited` says events of the window were left
 * out; `prev_batch` is the boundary /messages continues from backwards (decision 0003).
 */
import { encodeRoomToken } from "../../../../rooms/pagination-token.js";
import { scanPage } from "../../../../rooms/event-scan.js";
import type { RoomViewer } from "../../../../rooms/visibility.js";
import type { EventRow } from "../../../../storage/rows.js";
import { asStreamPos } from "../../../../streams/position.js";
import type { SyncV2Context } from "../../context.js";
import type { RoomPlan } from "../../room-plan.js";

export interface TimelineWindow {
  /** Oldest first. */
  rows: EventRow[];
  limited: boolean;
  prevBatch: string;
}

export async function timelineWindow(ctx: SyncV2Context, plan: RoomPlan, viewer: RoomViewer): Promise<TimelineWindow> {
  const unbounded = ctx.isInitial || plan.newlyJoined;
  const lower = unbounded ? null : asStreamPos(ctx.since! + 1);
  const scan = await scanPage(
    (range) => ctx.deps.storage.events.inRoom(plan.roomId, range),
    { dir: "b", from: asStreamPos(plan.end + 1), to: lower, limit: ctx.timelineLimit },
    (row) => viewer.canSee(row) && ctx.timelineFilter(row.pdu, plan.roomId),
  );
  return { rows: scan.events.reverse(), limited: !scan.exhausted, prevBatch: encodeRoomToken(scan.next) };
}
