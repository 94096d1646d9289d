/**
 * RoomReads: the room read use cases behind one object for the composition root and the
 * API module (issue 4): /messages, /context, /event, /relations, /timestamp_to_event,
 * /state, /members, /joined_members. Each read lives in its own file and receives ReadDeps.
 * Every read goes ReadAccessGate (may the user read this room, and up to where?) →
 * storage → RoomViewer per event (history visibility) → RoomEventSerializer.
 * Reads never look past the sequencer's frontier.
 */
import type { UserId } from "../events/ids.js";
import type { Storage } from "../storage/storage.js";
import type { StreamPos } from "../streams/position.js";
import { getEvent, getEventContext, type ContextRequest, type ContextResponse } from "./event-context.js";
import type { ClientEvent } from "../events/client-event.js";
import { getMessages, type MessagesRequest, type MessagesResponse } from "./messages.js";
import { ReadAccessGate } from "./read-access.js";
import { getRelations, type RelationsRequest, type RelationsResponse } from "./relations.js";
import { RoomEventSerializer } from "./room-event-serializer.js";
import { getJoinedMembers, getMembers, getState, getStateEntry, type JoinedMembersResponse, type MembersRequest } from "./room-state.js";
import { timestampToEvent, type TimestampRequest } from "./timestamp-to-event.js";
import { HistoryVisibility } from "./visibility.js";

/** What every read use case gets. */
export interface ReadDeps {
  readonly storage: Storage;
  readonly access: ReadAccessGate;
  readonly serializer: RoomEventSerializer;
  /** The read frontier: the highest position every reader may see. */
  frontier(): StreamPos;
}

export class RoomReads {
  private readonly deps: ReadDeps;

  constructor(storage: Storage, visibility = new HistoryVisibility(storage)) {
    const frontier = () => storage.sequencer.retired();
    this.deps = { storage, access: new ReadAccessGate(storage, visibility, frontier), serializer: new RoomEventSerializer(storage), frontier };
  }

  messages(req: MessagesRequest): Promise<MessagesResponse> {
    return getMessages(this.deps, req);
  }

  context(req: ContextRequest): Promise<ContextResponse> {
    return getEventContext(this.deps, req);
  }

  event(userId: UserId, roomId: string, eventId: string): Promise<ClientEvent> {
    return getEvent(this.deps, userId, roomId, eventId);
  }

  relations(req: RelationsRequest): Promise<RelationsResponse> {
    return getRelations(this.deps, req);
  }

  timestampToEvent(req: TimestampRequest): Promise<{ event_id: string; origin_server_ts: number }> {
    return timestampToEvent(this.deps, req);
  }

  state(userId: UserId, roomId: string): Promise<ClientEvent[]> {
    return getState(this.deps, userId, roomId);
  }

  /** One state entry as its event; 404 M_NOT_FOUND when the room has none. */
  stateEntry(userId: UserId, roomId: string, type: string, stateKey: string): Promise<ClientEvent> {
    return getStateEntry(this.deps, userId, roomId, type, stateKey);
  }

  members(req: MembersRequest): Promise<{ chunk: ClientEvent[] }> {
    return getMembers(this.deps, req);
  }

  joinedMembers(userId: UserId, roomId: string): Promise<JoinedMembersResponse> {
    return getJoinedMembers(this.deps, userId, roomId);
  }
}
