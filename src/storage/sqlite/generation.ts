/**
 * A counter that writes bump, so callers can keep what they read until it moves (see
 * TokenStore.accessGeneration). Shared by every SQLite store that writes the tables
 * behind the answer; a bump inside a transaction is visible only to code running after
 * it, which in SQLite (synchronous transactions) is after the commit or the rollback.
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
