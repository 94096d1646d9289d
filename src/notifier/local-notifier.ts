/**
 * LocalNotifier: the in-process Notifier. Waiters are kept per user; a change reaches a
 * user when it names the user or a room the user is in (room → users map kept by callers
 * via setRoomMembers). One process only; a Postgres fan-out will wrap this later.
 */
import type { StreamChange, StreamPos } from "../streams/position.js";
import type { Interest, Notifier, Waiter, WakeReason } from "./notifier.js";

interface Parked {
  interest: Interest;
  after: StreamPos;
  wake(reason: WakeReason, change?: StreamChange): void;
}

export class LocalNotifier implements Notifier {
  private readonly byUser = new Map<string, Set<Parked>>();
  private readonly roomMembers = new Map<string, Set<string>>();
  private closed = false;

  publish(change: StreamChange): void {
    const users = new Set<string>(change.userIds ?? []);
    if (change.roomId) for (const u of this.roomMembers.get(change.roomId) ?? []) users.add(u);
    for (const u of users) {
      for (const p of [...(this.byUser.get(u) ?? [])]) {
        if (change.pos > p.after) p.wake("change", change);
      }
    }
  }

  setRoomMembers(roomId: string, userIds: Iterable<string>): void {
    const set = new Set(userIds);
    if (set.size === 0) this.roomMembers.delete(roomId);
    else this.roomMembers.set(roomId, set);
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
