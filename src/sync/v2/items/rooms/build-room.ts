/**
 * Builds one room's entry for its section from the per-path modules beside this file
 * (timeline, state, ephemeral, summary, unread counts, account data). An incremental
 * joined room with nothing new is left out (returns false).
 */
import { filterEventFields, type ClientEvent } from "../../../../events/client-event.js";
import { HistoryVisibility, type RoomViewer } from "../../../../rooms/visibility.js";
import type { EventRow } from "../../../../storage/rows.js";
import type { SyncV2Context } from "../../context.js";
import type { RoomPlan } from "../../room-plan.js";
import type { JoinedRoom, LeftRoom } from "../../response.js";
import { timelineWindow, type TimelineWindow } from "./timeline.js";
import { roomState } from "./state.js";
import { roomEphemeral } from "./ephemeral.js";
import { roomSummary } from "./summary.js";
import { unreadCounts } from "./unread-notifications.js";
import { strippedState } from "./stripped-state.js";

/** What the range changed in a room besides its events (linear mode knows from the log; polylog assumes everything). */
export interface RoomChanges {
  typing: boolean;
  receipts: boolean;
}

/** A member sees every event of the time they were joined: no history to load (visibility.ts rule 2). */
const SEES_ALL: Pick<RoomViewer, "canSee"> = { canSee: () => true };

/** Events that change what `summary` says (member counts, heroes, and whether heroes are needed). */
const SUMMARY_TYPES: ReadonlySet<string> = new Set(["m.room.member", "m.room.name", "m.room.canonical_alias"]);

export async function buildRoom(ctx: SyncV2Context, plan: RoomPlan, changes: RoomChanges): Promise<boolean> {
  const rooms = ctx.response.rooms;
  if (plan.section === "invite") {
    rooms.invite[plan.roomId] = { invite_state: { events: await strippedState(ctx, plan) } };
    return true;
  }
  if (plan.section === "knock") {
    rooms.knock[plan.roomId] = { knock_state: { events: await strippedState(ctx, plan) } };
    return true;
  }

  // Joined at `since` and ever since (room-plan.ts): the window (since, upto] is all visible.
  const followed = plan.section === "join" && !plan.newlyJoined && ctx.since !== null && plan.floor === ctx.since;
  const viewer = followed ? SEES_ALL : await new HistoryVisibility(ctx.deps.storage).viewer(plan.roomId, ctx.userId);
  const timeline = await timelineWindow(ctx, plan, viewer);
  const stateRows = await roomState(ctx, plan, timeline);
  const accountData = (ctx.roomAccountData.get(plan.roomId) ?? []).map((a) => ({ type: a.type, content: a.content }));
  const ephemeral = plan.section === "join" ? await roomEphemeral(ctx, plan.roomId, changes) : [];

  const quiet = timeline.rows.length === 0 && stateRows.length === 0 && accountData.length === 0 && ephemeral.length === 0;
  if (plan.section === "join" && quiet && !ctx.wantsFullState && !plan.newlyJoined) return false;

  const serialize = { omitRoomId: true, format: ctx.filter.event_format ?? "client" } as const;
  const fields = ctx.filter.event_fields ?? [];
  const shape = (evs: ClientEvent[]) => (fields.length > 0 ? evs.map((e) => withEventFields(e, fields)) : evs);
  const timelineEvents = shape(await withTransactionIds(ctx, await ctx.deps.serializer.serialize(timeline.rows, serialize)));
  const stateEvents = shape(await ctx.deps.serializer.serialize(stateRows, serialize));
  const stateKey = ctx.request.stateAfter ?? "state";
  const base = {
    // limited for a resync too: the client's cache is from another history, so this timeline
    // does not continue what it holds (matrix-js-sdk then resets its live timeline, or links
    // from an event it already has).
    timeline: { events: timelineEvents, limited: timeline.limited || (plan.newlyJoined && !ctx.isInitial) || ctx.request.resync === true, prev_batch: timeline.prevBatch },
    [stateKey]: { events: stateEvents },
    account_data: { events: accountData },
  };
  if (plan.section === "leave") {
    rooms.leave[plan.roomId] = base as LeftRoom;
    return true;
  }
  rooms.join[plan.roomId] = {
    ...base,
    ephemeral: { events: ephemeral },
    // The spec lets the counts be omitted when unchanged since the last sync; like Synapse,
    // the summary is sent only when something it says may have changed.
    summary: summaryMayHaveChanged(ctx, plan, timeline, stateRows) ? await roomSummary(ctx, plan.roomId) : {},
    ...(await unreadCounts(ctx, plan.roomId)),
  } as JoinedRoom;
  return true;
}

function summaryMayHaveChanged(ctx: SyncV2Context, plan: RoomPlan, timeline: TimelineWindow, stateRows: readonly EventRow[]): boolean {
  if (ctx.isInitial || ctx.wantsFullState || plan.newlyJoined || timeline.limited || ctx.request.resync === true) return true;
  // A filtered timeline may have dropped the member event that changed the counts.
  if (ctx.timelineFiltered) return true;
  return timeline.rows.some((r) => SUMMARY_TYPES.has(r.pdu.type)) || stateRows.some((r) => SUMMARY_TYPES.has(r.pdu.type));
}

/**
 * The filter's event_fields, plus the fields sync.yaml's ClientEventWithoutRoomID requires
 * (event_id, type, sender, origin_server_ts, content, state_key on state events): the spec
 * lets a server include more than was asked for, and clients rely on these.
 */
function withEventFields(ev: ClientEvent, fields: readonly string[]): ClientEvent {
  const out = filterEventFields(ev, fields);
  out.event_id = ev.event_id;
  out.type = ev.type;
  out.sender = ev.sender;
  out.origin_server_ts = ev.origin_server_ts;
  out.content ??= {};
  if (ev.state_key !== undefined) out.state_key = ev.state_key;
  return out;
}

/**
 * `unsigned.transaction_id` on the requesting device's own events (spec: only for the client
 * that sent it), so it can match them with its local echo.
 */
async function withTransactionIds(ctx: SyncV2Context, events: ClientEvent[]): Promise<ClientEvent[]> {
  const own = events.filter((e) => e.sender === ctx.userId).map((e) => e.event_id);
  if (own.length === 0) return events;
  const txns = await ctx.deps.storage.events.txnIdsOf(ctx.userId, ctx.deviceId, own);
  for (const e of events) {
    const txnId = txns.get(e.event_id);
    if (txnId !== undefined) e.unsigned = { ...e.unsigned, transaction_id: txnId };
  }
  return events;
}
