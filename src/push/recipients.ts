/**
 * PushRecipients: write-time push rule evaluation (the EventWriter's PushHook).
 * In:  an event about to be persisted, under the room's lock.
 * Out: one PushActionRow per recipient whose rules say "notify" (stored with the event, so
 *      the counts sync reports move at the event's own position). Recipients: every joined
 *      member except the sender, plus the invitee of an invite (`.m.rule.invite_for_me`).
 *      Evaluated against the state before the event: display name from the member event,
 *      joined member count, power levels; thread id "main" or the thread root.
 *      A recipient who ignores the sender (`m.ignored_user_list`) gets no row for a non-state
 *      event, so it counts nowhere (unread counts, /notifications): as Synapse, whose
 *      `_action_for_event_by_user` drops them through `filter_event_for_clients_with_state`
 *      (bulk_push_rule_evaluator.py, visibility.py). State events (invites, …) still notify.
 *      The list at write time decides: changing it later changes no stored row.
 * Cost: each member's rules come from PushRules' cache, the ignore lists (read only for
 *      recipients the rules notify) from IgnoreLists' cache; the room's members and power levels
 *      from a per-room cache (LRU) that committed() keeps current, so a message costs no
 *      state reads. A redaction drops the room's entry (it may prune cached state).
 * Scope: one process (the cache trusts that every event passes through this hook).
 */
import type { UserId } from "../events/ids.js";
import type { StoredPdu } from "../events/pdu.js";
import type { PushHook } from "../rooms/push-hook.js";
import type { NewEvent } from "../storage/rows.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";
import { LruCache } from "../util/lru-cache.js";
import { evaluatePushRules } from "./evaluator.js";
import type { IgnoreLists } from "./ignore-lists.js";
import type { PushRules } from "./push-rules.js";
import { RoomPushContext } from "./room-push-context.js";
import { threadIdOf } from "./thread-of.js";

type ActionRows = NonNullable<NewEvent["pushActions"]>;

const DEFAULT_ROOMS_CACHED = 2_000;

export class PushRecipients implements PushHook {
  private readonly rooms: LruCache<string, RoomPushContext>;

  constructor(
    private readonly storage: Storage,
    private readonly rules: PushRules,
    private readonly ignoreLists: IgnoreLists,
    private readonly clock: Clock,
    opts: { roomsCached?: number } = {},
  ) {
    this.rooms = new LruCache(opts.roomsCached ?? DEFAULT_ROOMS_CACHED);
  }

  async actionsFor(event: StoredPdu, roomId: string): Promise<ActionRows> {
    const { pdu } = event;
    const room = await this.contextOf(roomId);
    const invitee = invitedUser(event);
    const recipients: Iterable<[string, string | null]> =
      invitee !== null && !room.members.has(invitee) ? [...room.members, [invitee, null]] : room.members;

    const senderPowerLevel = room.senderPowerLevel(pdu.sender);
    const ts = this.clock.now();
    const rows: ActionRows = [];
    let threadId: string | null = null;
    for (const [userId, displayName] of recipients) {
      if (userId === pdu.sender) continue; // never notify anyone of their own events (spec)
      const ruleset = this.rules.cached(userId) ?? (await this.rules.rulesetFor(userId as UserId));
      const outcome = evaluatePushRules(ruleset, pdu, {
        userId,
        displayName,
        memberCount: room.memberCount,
        senderPowerLevel,
        notificationLevels: room.notificationLevels,
      });
      if (!outcome.notify) continue;
      // After the rules, as Synapse: most members' rules do not notify, so their lists are never read.
      const ignored = this.ignoreLists.cached(userId) ?? (await this.ignoreLists.of(userId as UserId));
      if (ignored.hides(pdu)) continue; // a non-state event from someone they ignore
      threadId ??= await threadIdOf(pdu.content, async (id) => (await this.storage.events.get(id))?.pdu ?? null);
      rows.push({ userId: userId as UserId, roomId, eventId: event.eventId, threadId, notify: true, highlight: outcome.highlight, actions: outcome.actions, ts });
    }
    return rows;
  }

  committed(event: StoredPdu, roomId: string): void {
    if (event.pdu.type === "m.room.redaction") {
      this.rooms.delete(roomId);
      return;
    }
    this.rooms.get(roomId)?.apply(event);
  }

  private async contextOf(roomId: string): Promise<RoomPushContext> {
    let ctx = this.rooms.get(roomId);
    if (!ctx) {
      ctx = RoomPushContext.fromState(await this.storage.rooms.currentState(roomId));
      this.rooms.set(roomId, ctx);
    }
    return ctx;
  }
}

/** The target of an `m.room.member` invite event, else null. */
function invitedUser(event: StoredPdu): string | null {
  const { pdu } = event;
  return pdu.type === "m.room.member" && typeof pdu.state_key === "string" && pdu.content.membership === "invite" ? pdu.state_key : null;
}
