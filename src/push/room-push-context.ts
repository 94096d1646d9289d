/**
 * RoomPushContext: what push evaluation needs to know about a room, kept between events:
 * its joined members with their display names (recipients, contains_display_name,
 * room_member_count) and its power levels (sender_notification_permission).
 * In:  the room's current state once (fromState), then every persisted event (apply).
 * Out: members, memberCount, senderPowerLevel(sender), notificationLevels.
 * Invariant: equals what fromState would build from the current state, provided apply()
 *      sees every event persisted in the room (the EventWriter is the only write path).
 */
import { stateKeyOf, type StateKey, type StoredPdu } from "../events/pdu.js";
import { parseLevel, powerLevelOf } from "../rooms/auth/power-levels.js";

const MEMBER = "m.room.member";
const POWER_LEVELS = "m.room.power_levels";
const CREATE = "m.room.create";

export class RoomPushContext {
  /** Joined user id → display name in this room (null when none is set). */
  readonly members = new Map<string, string | null>();
  /** Only the entries powerLevelOf reads: m.room.power_levels and m.room.create. */
  private readonly powerState = new Map<StateKey, StoredPdu>();
  private levels: Record<string, number> = {};

  static fromState(state: readonly StoredPdu[]): RoomPushContext {
    const ctx = new RoomPushContext();
    for (const ev of state) ctx.apply(ev);
    return ctx;
  }

  get memberCount(): number {
    return this.members.size;
  }

  /** The room's `notifications` power levels (integers only). */
  get notificationLevels(): Readonly<Record<string, number>> {
    return this.levels;
  }

  senderPowerLevel(sender: string): number {
    return powerLevelOf(sender, this.powerState);
  }

  /** Takes a state event into account (other events change nothing here). */
  apply(event: StoredPdu): void {
    const { pdu } = event;
    if (typeof pdu.state_key !== "string") return;
    if (pdu.type === MEMBER) {
      if (pdu.content.membership === "join") {
        const name = pdu.content.displayname;
        this.members.set(pdu.state_key, typeof name === "string" ? name : null);
      } else {
        this.members.delete(pdu.state_key);
      }
    } else if ((pdu.type === POWER_LEVELS || pdu.type === CREATE) && pdu.state_key === "") {
      this.powerState.set(stateKeyOf(pdu.type, ""), event);
      if (pdu.type === POWER_LEVELS) this.levels = notificationLevelsOf(pdu.content);
    }
  }
}

function notificationLevelsOf(content: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const n = content.notifications;
  if (typeof n !== "object" || n === null || Array.isArray(n)) return out;
  for (const [key, value] of Object.entries(n)) {
    const level = parseLevel(value);
    if (level !== undefined) out[key] = level;
  }
  return out;
}
