/**
 * The wire shape of a /sync (v2) response, as `sync.yaml` defines it. Items fill these
 * objects; only the HTTP layer serialises them. Empty sections are pruned at the end
 * (`pruneEmpty`) so a quiet sync is just `{ next_batch, … counts }`.
 */
import type { ClientEvent } from "../../events/client-event.js";

export interface EventList<E = ClientEvent> {
  events: E[];
}

export interface Timeline extends EventList {
  limited: boolean;
  prev_batch?: string;
}

export interface JoinedRoom {
  timeline: Timeline;
  state?: EventList;
  /** `state_after` (MSC4222 stable) or `org.matrix.msc4222.state_after`, never both with `state`. */
  [stateAfterKey: string]: unknown;
  account_data: EventList<Record<string, unknown>>;
  ephemeral: EventList<Record<string, unknown>>;
  summary: { "m.heroes"?: string[]; "m.joined_member_count"?: number; "m.invited_member_count"?: number };
  unread_notifications: { notification_count: number; highlight_count: number };
  unread_thread_notifications?: Record<string, { notification_count: number; highlight_count: number }>;
}

export interface LeftRoom {
  timeline: Timeline;
  state?: EventList;
  [stateAfterKey: string]: unknown;
  account_data: EventList<Record<string, unknown>>;
}

export type StrippedEvent = { type: string; state_key: string; content: Record<string, unknown>; sender: string };

export interface SyncV2Response {
  next_batch: string;
  rooms: {
    join: Record<string, JoinedRoom>;
    invite: Record<string, { invite_state: EventList<StrippedEvent> }>;
    leave: Record<string, LeftRoom>;
    knock: Record<string, { knock_state: EventList<StrippedEvent> }>;
  };
  account_data: EventList<Record<string, unknown>>;
  presence: EventList<Record<string, unknown>>;
  to_device: EventList<Record<string, unknown>>;
  device_lists: { changed: string[]; left: string[] };
  device_one_time_keys_count: Record<string, number>;
  device_unused_fallback_key_types: string[];
}

export function emptyResponse(): SyncV2Response {
  return {
    next_batch: "",
    rooms: { join: {}, invite: {}, leave: {}, knock: {} },
    account_data: { events: [] },
    presence: { events: [] },
    to_device: { events: [] },
    device_lists: { changed: [], left: [] },
    device_one_time_keys_count: {},
    device_unused_fallback_key_types: [],
  };
}

/** True when the response carries anything besides the always-present key counts. */
export function hasContent(r: SyncV2Response): boolean {
  const rooms = r.rooms;
  return (
    Object.keys(rooms.join).length + Object.keys(rooms.invite).length + Object.keys(rooms.leave).length + Object.keys(rooms.knock).length > 0 ||
    r.account_data.events.length > 0 ||
    r.presence.events.length > 0 ||
    r.to_device.events.length > 0 ||
    r.device_lists.changed.length > 0 ||
    r.device_lists.left.length > 0
  );
}

/** Drops empty top-level sections (Synapse's shape): keeps next_batch and the key counts. */
export function pruneEmpty(r: SyncV2Response): Record<string, unknown> {
  const out: Record<string, unknown> = {
    next_batch: r.next_batch,
    device_one_time_keys_count: r.device_one_time_keys_count,
    device_unused_fallback_key_types: r.device_unused_fallback_key_types,
  };
  const rooms: Record<string, unknown> = {};
  for (const k of ["join", "invite", "leave", "knock"] as const) if (Object.keys(r.rooms[k]).length > 0) rooms[k] = r.rooms[k];
  if (Object.keys(rooms).length > 0) out.rooms = rooms;
  if (r.account_data.events.length > 0) out.account_data = r.account_data;
  if (r.presence.events.length > 0) out.presence = r.presence;
  if (r.to_device.events.length > 0) out.to_device = r.to_device;
  if (r.device_lists.changed.length > 0 || r.device_lists.left.length > 0) out.device_lists = r.device_lists;
  return out;
}
