/**
 * A counter that writes bump, so readers can keep what they read until it moves (decision
 * 0006). Shared by every SQLite store that writes the tables behind the answer; a bump
 * inside a transaction is visible only to code running after it, which in SQLite
 * (synchronous transactions) is after the commit or the rollback.
 */
export class Generation {
  private n = 0;

  get value(): number {
    return this.n;
  }

  bump(): void {
    this.n++;
  }
}

/** The counters the SQLite stores share (index.ts makes one set per database). */
export interface Generations {
  /** Moves when a TokenStore.lookupAccess answer may change (revocations, deactivation, admin flag). */
  readonly access: Generation;
  /** Moves when a device's one-time or fallback keys change (upload, claim, removed device). */
  readonly deviceKeys: Generation;
}
