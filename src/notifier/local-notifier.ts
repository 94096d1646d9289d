/**
 * LocalNotifier: the in-process Notifier. Waiters are kept per user. A change reaches:
 *   - the users it names (`userIds`);
 *   - every member (join, invite, knock) of the room it names;
 *   - for device-list and presence changes, every user sharing a room with the named users.
 * The room → users map is loaded at start-up (setRoomMembers) and kept current from the
 * `membership` that membership changes carry. One process only; a Postgres fan-out will
 * wrap this later.
 */
import type { StreamChange, StreamPos } from "../streams/position.js";
import type { Interest, Notifier, Waiter, WakeReason } from "./notifier.js";

interface Parked {
  interest: Interest;
  after: StreamPos;
  wake(reason: WakeReason, change?: StreamChange): void;
}

const ACTIVE = new Set(["join", "invite", "knock"]);
/** Changes about a user that everyone sharing a room with them may care about. */
const SHARED_KINDS = new Set(["device_list", "presence"]);

export class LocalNotifier implements Notifier {
  private readonly byUser = new Map<string, Set<Parked>>();
  private readonly roomMembers = new Map<string, Set<string>>();
  private readonly userRooms = new Map<string, Set<string>>();
  private closed = false;

  publish(change: StreamChange): void {
    if (change.roomId && change.membership !== undefined) {
      for (const u of change.userIds ?? []) this.setMembership(change.roomId, u, ACTIVE.has(change.membership));
    }
    const users = new Set<string>(change.userIds ?? []);
    if (change.roomId) for (const u of this.roomMembers.get(change.roomId) ?? []) users.add(u);
    if (SHARED_KINDS.has(change.kind)) {
      for (const named of change.userIds ?? []) {
        for (const room of this.userRooms.get(named) ?? []) for (const u of this.roomMembers.get(room) ?? []) users.add(u);
      }
    }
    for (const u of users) {
      for (const p of [...(this.byUser.get(u) ?? [])]) {
        if (change.pos > p.after) p.wake("change", change);
      }
    }
  }

  setRoomMembers(roomId: string, userIds: Iterable<string>): void {
    for (const u of this.roomMembers.get(roomId) ?? []) this.userRooms.get(u)?.delete(roomId);
    this.roomMembers.delete(roomId);
    for (const u of userIds) this.setMembership(roomId, u, true);
  }

  private setMembership(roomId: string, userId: string, active: boolean): void {
    if (active) {
      let members = this.roomMembers.get(roomId);
      if (!members) this.roomMembers.set(roomId, (members = new Set()));
      members.add(userId);
      let rooms = this.userRooms.get(userId);
      if (!rooms) this.userRooms.set(userId, (rooms = new Set()));
      rooms.add(roomId);
      return;
    }
    const members = this.roomMembers.get(roomId);
    members?.delete(userId);
    if (members?.size === 0) this.roomMembers.delete(roomId);
    const rooms = this.userRooms.get(userId);
    rooms?.delete(roomId);
    if (rooms?.size === 0) this.userRooms.delete(userId);
  }

  waitForChange(interest: Interest, after: StreamPos, opts: { timeoutMs: number; signal?: AbortSignal }): Waiter {
    let resolve!: (v: { reason: WakeReason; change?: StreamChange }) => void;
    const done = new Promise<{ reason: WakeReason; change?: StreamChange }>((r) => (resolve = r));
    if (this.closed) {
      resolve({ reason: "shutdown" });
      return { done, cancel: () => {} };
    }
    if (opts.signal?.aborted) {
      resolve({ reason: "aborted" });
      return { done, cancel: () => {} };
    }
    let finished = false;
    const parked: Parked = {
      interest,
      after,
      wake: (reason, change) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
        const set = this.byUser.get(interest.userId);
        set?.delete(parked);
        if (set?.size === 0) this.byUser.delete(interest.userId);
        resolve(change ? { reason, change } : { reason });
      },
    };
    const onAbort = () => parked.wake("aborted");
    const timer = setTimeout(() => parked.wake("timeout"), Math.max(0, opts.timeoutMs));
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    let set = this.byUser.get(interest.userId);
    if (!set) this.byUser.set(interest.userId, (set = new Set()));
    set.add(parked);
    return { done, cancel: () => parked.wake("aborted") };
  }

  shutdown(): void {
    this.closed = true;
    for (const set of [...this.byUser.values()]) for (const p of [...set]) p.wake("shutdown");
  }

  waiting(): number {
    let n = 0;
    for (const s of this.byUser.values()) n += s.size;
    return n;
  }
}
