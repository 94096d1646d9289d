/**
 * Prepared-statement cache for the SQLite backend: `db.prepare(sql)` returns the statement
 * compiled the first time that SQL text was seen, instead of compiling it again.
 *
 * Why: the stores call `this.db.prepare(...)` on every query, and better-sqlite3 compiles
 * the SQL each time. bench/sync.ts measured that compile as the largest single cost of an
 * initial sync (~20 statements per room): caching cut server CPU per room by ~40%
 * (0.52 → 0.31 ms/room at 1,000 rooms; bench/README.md, "Sync").
 *
 * Safe because a better-sqlite3 Statement is reusable: .run/.get/.all bind fresh
 * parameters each call; SQLite re-prepares a statement by itself after a schema change.
 * Two things would not be safe, and the stores do neither (check when adding queries):
 * changing a statement's mode (.pluck/.raw/.expand/.safeIntegers) — the mode would stick
 * to the shared statement — and running one SQL text again while an .iterate() over it
 * is still open (the statement is busy).
 * SQL built with a variable number of placeholders makes many texts; the cache is bounded
 * and simply starts over when full.
 */
import type { Database, Statement } from "better-sqlite3";

const MAX_STATEMENTS = 1000;

export function cacheStatements(db: Database): void {
  const compile = db.prepare.bind(db) as (sql: string) => Statement;
  const cache = new Map<string, Statement>();
  const cached = (sql: string): Statement => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = compile(sql); // throws on bad SQL: nothing is cached then
      if (cache.size >= MAX_STATEMENTS) cache.clear();
      cache.set(sql, statement);
    }
    return statement;
  };
  db.prepare = cached as Database["prepare"];
}
