/**
 * Typing notifications (PUT /rooms/{roomId}/typing/{userId}), kept in memory only.
 * In:  the requester, who may only set their own state (403 M_FORBIDDEN; Synapse answers
 *      400 with M_FORBIDDEN) and must be joined to the room (403); `typing`; a timeout in
 *      ms (default 30 s, capped at 120 s like Synapse).
 * Out: per room, who is typing until when. Every visible change takes a position through
 *      storage.streams.recordEphemeral({kind: "typing", roomId}) so sync and the notifier see
 *      it: a user starting (a repeat only extends the deadline, as in Synapse), stopping, or
 *      expiring (one position per room whose set shrank). `currentTyping(roomId)` is what sync
 *      reports: never anyone past their deadline, even before the expiry timer has run.
 * Expiry: one unref'd timer armed for the earliest deadline; `expireDue()` is what it runs
 * (tests call it after moving a ManualClock); close() disarms it for good.
 */
import { ForbiddenError } from "../errors/matrix-error.js";
import { parseRoomId, type UserId } from "../events/ids.js";
import type { Requester } from "../accounts/requester.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../util/clock.js";

export interface TypingOptions {
  defaultTimeoutMs: number;
  maxTimeoutMs: number;
  /** Where a failed expiry write is reported (the timer has no caller to throw to). */
  onError?: (err: unknown) => void;
}

export const TYPING_DEFAULTS: TypingOptions = { defaultTimeoutMs: 30_000, maxTimeoutMs: 120_000 };

export class Typing {
  /** roomId → userId → deadline (ms since epoch). */
  private readonly rooms = new Map<string, Map<UserId, number>>();
  /** roomId → position of its last typing change (this process; sync's long gaps ask it). */
  private readonly lastChange = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private closed = false;

  constructor(private readonly storage: Storage, private readonly clock: Clock, private readonly opts: TypingOptions = TYPING_DEFAULTS) {}

  /** PUT /rooms/{roomId}/typing/{userId}. */
  async set(requester: Requester, pathRoomId: string, pathUserId: string, typing: boolean, timeoutMs?: number): Promise<void> {
    const roomId = parseRoomId(pathRoomId);
    if (pathUserId !== requester.userId) throw new ForbiddenError("Cannot set another user's typing state");
    const member = await this.storage.rooms.membership(roomId, requester.userId);
    if (member?.membership !== "join") throw new ForbiddenError(`${requester.userId} is not joined to room ${roomId}`);
    if (typing) await this.start(requester.userId, roomId, timeoutMs ?? this.opts.defaultTimeoutMs);
    else await this.stop(requester.userId, roomId);
  }

  /** Marks the user typing until now + timeout (capped); a position only if they were not typing. */
  async start(userId: UserId, roomId: string, timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + Math.max(0, Math.min(timeoutMs, this.opts.maxTimeoutMs));
    let typers = this.rooms.get(roomId);
    if (!typers) this.rooms.set(roomId, (typers = new Map()));
    const wasTyping = this.isTyping(typers, userId);
    typers.set(userId, deadline);
    this.arm();
    if (!wasTyping) await this.recordChange(roomId);
  }

  /**
   * Stops the user typing; a position only if they had an entry (one past its deadline that
   * the timer has not dropped yet counts: its disappearance has not been recorded). Also for
   * a user who left the room.
   */
  async stop(userId: UserId, roomId: string): Promise<void> {
    const typers = this.rooms.get(roomId);
    if (!typers?.delete(userId)) return;
    if (typers.size === 0) this.rooms.delete(roomId);
    await this.recordChange(roomId);
  }

  /** The users typing in the room now, in the order they started. */
  currentTyping(roomId: string): UserId[] {
    const typers = this.rooms.get(roomId);
    if (!typers) return [];
    const now = this.clock.now();
    return [...typers].filter(([, deadline]) => deadline > now).map(([userId]) => userId);
  }

  /**
   * Did the room's typers change after position `pos`? (sync, over a long gap: the same
   * answer as the typing rows of the log would give). Typers lost in a restart are not
   * reported, as in Synapse: nothing records their end.
   */
  changedAfter(roomId: string, pos: number): boolean {
    return (this.lastChange.get(roomId) ?? 0) > pos;
  }

  /** Same as currentTyping: the name sync's TypingSource asks for. */
  typingUsers(roomId: string): readonly string[] {
    return this.currentTyping(roomId);
  }

  /** Drops everyone past their deadline; one position per room that changed. */
  async expireDue(): Promise<void> {
    const now = this.clock.now();
    const changed: string[] = [];
    for (const [roomId, typers] of this.rooms) {
      let removed = false;
      for (const [userId, deadline] of typers) {
        if (deadline <= now) {
          typers.delete(userId);
          removed = true;
        }
      }
      if (typers.size === 0) this.rooms.delete(roomId);
      if (removed) changed.push(roomId);
    }
    this.arm();
    for (const roomId of changed) await this.recordChange(roomId);
  }

  /** Stops the expiry timer; later changes are still tracked but no timer is armed again. */
  close(): void {
    this.closed = true;
    this.disarm();
  }

  private isTyping(typers: Map<UserId, number>, userId: UserId): boolean {
    const deadline = typers.get(userId);
    return deadline !== undefined && deadline > this.clock.now();
  }

  private async recordChange(roomId: string): Promise<void> {
    const pos = await this.storage.streams.recordEphemeral({ kind: "typing", roomId });
    this.lastChange.set(roomId, Math.max(pos, this.lastChange.get(roomId) ?? 0));
  }

  /** (Re)arms the timer for the earliest deadline, unless one is already set at or before it. */
  private arm(): void {
    if (this.closed) return;
    let next = Infinity;
    for (const typers of this.rooms.values()) for (const deadline of typers.values()) next = Math.min(next, deadline);
    if (next === Infinity) return this.disarm();
    if (this.timer && this.timerAt <= next) return;
    this.disarm();
    this.timerAt = next;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.expireDue().catch((err: unknown) => this.opts.onError?.(err));
    }, Math.max(0, next - this.clock.now()));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
