/**
 * Numbered schema migrations for SQLite, applied in order at start-up inside one
 * transaction each; PRAGMA user_version records the newest applied. Never edit a
 * released migration: add the next number. docs/decisions/0002-storage-schema.md explains
 * the tables that are hard to change (stream_log, tokens).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "accounts, devices, tokens, filters, stream log",
    sql: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

      -- The global change log: one row per position, naming what changed (never the data).
      CREATE TABLE stream_log (
        pos     INTEGER PRIMARY KEY,
        kind    TEXT    NOT NULL,
        user_id TEXT,
        room_id TEXT,
        stamp   INTEGER NOT NULL,
        ts      INTEGER NOT NULL
      );

      CREATE TABLE users (
        user_id       TEXT PRIMARY KEY,
        password_hash TEXT,
        is_admin      INTEGER NOT NULL DEFAULT 0,
        deactivated   INTEGER NOT NULL DEFAULT 0,
        created_ts    INTEGER NOT NULL,
        displayname   TEXT,
        avatar_url    TEXT
      );

      CREATE TABLE devices (
        user_id      TEXT NOT NULL,
        device_id    TEXT NOT NULL,
        display_name TEXT,
        created_ts   INTEGER NOT NULL,
        last_seen_ts INTEGER,
        last_seen_ip TEXT,
        PRIMARY KEY (user_id, device_id)
      );

      CREATE TABLE refresh_tokens (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        token_hash TEXT    NOT NULL UNIQUE,
        user_id    TEXT    NOT NULL,
        device_id  TEXT    NOT NULL,
        created_ts INTEGER NOT NULL
      );
      CREATE INDEX refresh_tokens_device ON refresh_tokens (user_id, device_id);

      CREATE TABLE access_tokens (
        token_hash             TEXT PRIMARY KEY,
        user_id                TEXT    NOT NULL,
        device_id              TEXT    NOT NULL,
        created_ts             INTEGER NOT NULL,
        expires_ts             INTEGER,
        refresh_token_id       INTEGER,
        predecessor_refresh_id INTEGER
      );
      CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);
      CREATE INDEX access_tokens_refresh ON access_tokens (refresh_token_id);

      CREATE TABLE uia_sessions (
        session_id TEXT PRIMARY KEY,
        data       TEXT    NOT NULL,
        expires_ts INTEGER NOT NULL
      );

      CREATE TABLE filters (
        user_id   TEXT    NOT NULL,
        filter_id INTEGER NOT NULL,
        json      TEXT    NOT NULL,
        PRIMARY KEY (user_id, filter_id)
      );
    `,
  },
];
