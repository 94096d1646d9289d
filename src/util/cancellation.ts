/**
 * Cancellation: "stop, nobody wants the answer any more", as cheap as a flag until someone
 * needs a real AbortSignal. Every /sync makes two (the request's, and its shared
 * computation's), but only one that waits (a long-poll) hands a signal on; creating an
 * AbortSignal cost more than the rest of this class together (bench/README.md, "Sync").
 */
export class Cancellation {
  private controller: AbortController | undefined;
  private listeners: (() => void)[] | undefined;
  private cancelled = false;

  get aborted(): boolean {
    return this.cancelled;
  }

  /** An AbortSignal that fires with this one (made on first use). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.cancelled) this.controller.abort();
    }
    return this.controller.signal;
  }

  /** Runs `fn` once when cancelled (at once if it already is). */
  onCancel(fn: () => void): void {
    if (this.cancelled) fn();
    else (this.listeners ??= []).push(fn);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.controller?.abort();
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const fn of listeners) fn();
  }
}
