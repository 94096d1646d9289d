/**
 * EventWriter: the one write path for room events (design.md §1.3).
 * room lock → txn id seen? → load the room and the auth state → build, hash and sign the
 * PDU → authorise → persist event + state + membership + summary + txn id in one storage
 * call at one position → (after commit) the sequencer retires it and the notifier wakes
 * readers. Nothing a client can see in a room is written anywhere else.
 * Throws: NotFoundError (no such room), ForbiddenError (auth rules), TooLargeError/BadJsonError
 * (from the event builder).
 */
import { ForbiddenError, NotFoundError } from "../errors/matrix-error.js";
import type { DeviceId, ServerName, UserId } from "../events/ids.js";
import { stateKeyOf, type Pdu, type StateKey, type StoredPdu } from "../events/pdu.js";
import { roomVersion, type RoomVersion } from "../events/room-versions.js";
import { buildPdu } from "../events/build-event.js";
import { redact } from "../events/redaction.js";
import type { SigningKey } from "../events/signing.js";
import type { Storage } from "../storage/storage.js";
import type { EventRow, RoomSummaryPatch } from "../storage/rows.js";
import type { StreamPos } from "../streams/position.js";
import type { Clock } from "../util/clock.js";
import type { KeyedMutex } from "../util/keyed-mutex.js";
import { authEventsNeeded, checkAuth } from "./auth-rules.js";
import { namedLevel, powerLevelOf } from "./auth/power-levels.js";
import { bumpsRoom, summaryPatchFor } from "./summary.js";
import type { PushHook } from "./push-hook.js";

export interface EventDraft {
  roomId: string;
  sender: UserId;
  type: string;
  stateKey?: string;
  content: Record<string, unknown>;
  /** For m.room.redaction: the event to redact. */
  redacts?: string;
}

export interface TxnKey {
  userId: UserId;
  deviceId: DeviceId;
  txnId: string;
}

export interface Written {
  eventId: string;
  /** Null when nothing was written and an earlier event id is returned (a repeated txn id or membership). */
  pos: StreamPos | null;
}

export interface Signer {
  serverName: ServerName;
  signingKey: SigningKey;
}

export class EventWriter {
  constructor(
    private readonly storage: Storage,
    private readonly locks: KeyedMutex,
    private readonly signer: Signer,
    private readonly clock: Clock,
    /** Write-time push rule evaluation (push/recipients.ts); null evaluates nothing. */
    private readonly push: PushHook | null = null,
  ) {}

  /** Creates a room: writes its m.room.create event (the room row comes with it). */
  async createRoom(roomId: string, creator: UserId, version: RoomVersion, content: Record<string, unknown>): Promise<Written> {
    return this.locks.run(roomId, async () => {
      const stored = this.build({ roomId, sender: creator, type: "m.room.create", stateKey: "", content }, version, [], [], 1);
      const verdict = checkAuth(stored.pdu, new Map(), version);
      if (!verdict.allowed) throw new ForbiddenError(verdict.reason);
      const pos = await this.storage.events.persist(
        {
          eventId: stored.eventId,
          roomId,
          pdu: stored.pdu,
          newRoom: { roomVersion: version.id, creator },
          txn: null,
          redaction: null,
          relation: null,
          summary: summaryPatchFor(stored.pdu),
          bumps: true,
        },
        this.clock.now(),
      );
      return { eventId: stored.eventId, pos };
    });
  }

  /** Sends one event into an existing room. Idempotent per `txn`. */
  async send(draft: EventDraft, txn: TxnKey | null = null): Promise<Written> {
    return this.locks.run(draft.roomId, async () => {
      if (txn) {
        const seen = await this.storage.events.byTxn(txn.userId, txn.deviceId, txn.txnId);
        if (seen) return { eventId: seen, pos: null };
      }
      const room = await this.storage.rooms.get(draft.roomId);
      if (!room) throw new NotFoundError("Unknown room");
      const version = roomVersion(room.roomVersion);
      if (!version) throw new ForbiddenError(`Room version ${room.roomVersion} is not supported`);

      const authState = await this.authStateFor(draft);
      const stored = this.build(draft, version, room.lastEventId ? [room.lastEventId] : [], [...authState.values()].map((e) => e.eventId), room.lastDepth + 1);
      const verdict = checkAuth(stored.pdu, authState, version);
      if (!verdict.allowed) throw new ForbiddenError(verdict.reason);

      const summary: RoomSummaryPatch = { ...summaryPatchFor(stored.pdu) };
      const redaction = draft.type === "m.room.redaction" ? await this.redactionFor(draft, version, summary) : null;
      const pushActions = this.push ? await this.push.actionsFor(stored, draft.roomId) : [];
      const pos = await this.storage.events.persist(
        {
          eventId: stored.eventId,
          roomId: draft.roomId,
          pdu: stored.pdu,
          newRoom: null,
          txn,
          redaction,
          relation: relationOf(stored.pdu),
          summary,
          bumps: bumpsRoom(stored.pdu),
          pushActions,
        },
        this.clock.now(),
      );
      this.push?.committed(stored, draft.roomId);
      return { eventId: stored.eventId, pos };
    });
  }

  private build(draft: EventDraft, version: RoomVersion, prevEvents: string[], authEvents: string[], depth: number): StoredPdu {
    return buildPdu(
      {
        room_id: draft.roomId,
        sender: draft.sender,
        type: draft.type,
        ...(draft.stateKey !== undefined ? { state_key: draft.stateKey } : {}),
        content: draft.content,
        prev_events: prevEvents,
        auth_events: authEvents,
        depth,
        origin_server_ts: this.clock.now(),
        ...(draft.redacts !== undefined ? { redacts: draft.redacts } : {}),
      },
      { version, serverName: this.signer.serverName, signingKey: this.signer.signingKey },
    );
  }

  /** The current state entries the auth rules need for this event (spec: auth events selection). */
  private async authStateFor(draft: EventDraft): Promise<Map<StateKey, StoredPdu>> {
    const state = new Map<StateKey, StoredPdu>();
    for (const [type, stateKey] of authEventsNeeded(draft.type, draft.stateKey, draft.sender, draft.content)) {
      const row = await this.storage.rooms.currentStateEvent(draft.roomId, type, stateKey);
      if (row) state.set(stateKeyOf(type, stateKey), { eventId: row.eventId, pdu: row.pdu });
    }
    return state;
  }

  /**
   * A redaction applies when its target is in the same room and the sender may redact it:
   * their own event, or anyone's with the room's `redact` power (spec: client-server
   * "Redactions"). It also clears summary fields when the target is current state.
   */
  private async redactionFor(draft: EventDraft, version: RoomVersion, summary: RoomSummaryPatch): Promise<{ targetEventId: string; prunedPdu: Pdu } | null> {
    const targetId = draft.redacts;
    const target: EventRow | null = targetId ? await this.storage.events.get(targetId) : null;
    if (!target || target.roomId !== draft.roomId) throw new NotFoundError("Event to redact not found");
    if (target.pdu.sender !== draft.sender) {
      const state = new Map<StateKey, StoredPdu>();
      const pl = await this.storage.rooms.currentStateEvent(draft.roomId, "m.room.power_levels", "");
      if (pl) state.set(stateKeyOf("m.room.power_levels", ""), { eventId: pl.eventId, pdu: pl.pdu });
      const create = await this.storage.rooms.currentStateEvent(draft.roomId, "m.room.create", "");
      if (create) state.set(stateKeyOf("m.room.create", ""), { eventId: create.eventId, pdu: create.pdu });
      if (powerLevelOf(draft.sender, state, version) < namedLevel("redact", state)) {
        throw new ForbiddenError("You may only redact your own events");
      }
    }
    if (target.redactedBy) return null; // already pruned; the redaction event is still recorded
    const prunedPdu = redact(target.pdu, version);
    if (typeof target.pdu.state_key === "string") {
      const current = await this.storage.rooms.currentStateEvent(draft.roomId, target.pdu.type, target.pdu.state_key);
      if (current?.eventId === target.eventId) Object.assign(summary, clearedSummary(target.pdu, prunedPdu));
    }
    return { targetEventId: target.eventId, prunedPdu };
  }
}

/** Summary fields that a redaction of current state removes. */
function clearedSummary(original: Pdu, pruned: Pdu): RoomSummaryPatch {
  const before = summaryPatchFor(original);
  const after = summaryPatchFor(pruned);
  const out: RoomSummaryPatch = {};
  for (const k of Object.keys(before) as (keyof RoomSummaryPatch)[]) out[k] = after[k] ?? null;
  return out;
}

/** `m.relates_to` of an event, indexed for /relations (annotations, edits, threads, replies). */
function relationOf(pdu: Pdu): { relType: string; relatesTo: string } | null {
  const rel = pdu.content["m.relates_to"];
  if (typeof rel !== "object" || rel === null) return null;
  const r = rel as Record<string, unknown>;
  if (typeof r.rel_type === "string" && typeof r.event_id === "string") return { relType: r.rel_type, relatesTo: r.event_id };
  return null;
}
