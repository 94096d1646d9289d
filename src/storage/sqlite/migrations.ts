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
  {
    version: 2,
    name: "rooms, events, state, memberships, summaries, aliases",
    sql: `
      CREATE TABLE rooms (
        room_id       TEXT PRIMARY KEY,
        room_version  TEXT    NOT NULL,
        creator       TEXT    NOT NULL,
        created_ts    INTEGER NOT NULL,
        visibility    TEXT    NOT NULL DEFAULT 'private',
        last_event_id TEXT,
        last_depth    INTEGER NOT NULL DEFAULT 0
      );

      -- Every event at its position in the global sequence (pos = stream_log.pos).
      CREATE TABLE events (
        pos              INTEGER PRIMARY KEY,
        event_id         TEXT    NOT NULL UNIQUE,
        room_id          TEXT    NOT NULL,
        type             TEXT    NOT NULL,
        state_key        TEXT,
        sender           TEXT    NOT NULL,
        origin_server_ts INTEGER NOT NULL,
        json             TEXT    NOT NULL,
        redacted_by      TEXT,
        rel_type         TEXT,
        relates_to       TEXT
      );
      CREATE INDEX events_room ON events (room_id, pos);
      CREATE INDEX events_state ON events (room_id, type, state_key, pos) WHERE state_key IS NOT NULL;
      CREATE INDEX events_relations ON events (relates_to, rel_type, pos) WHERE relates_to IS NOT NULL;
      CREATE INDEX events_room_ts ON events (room_id, origin_server_ts);

      CREATE TABLE current_state (
        room_id   TEXT    NOT NULL,
        type      TEXT    NOT NULL,
        state_key TEXT    NOT NULL,
        event_id  TEXT    NOT NULL,
        pos       INTEGER NOT NULL,
        PRIMARY KEY (room_id, type, state_key)
      );

      CREATE TABLE room_memberships (
        user_id    TEXT    NOT NULL,
        room_id    TEXT    NOT NULL,
        membership TEXT    NOT NULL,
        event_id   TEXT    NOT NULL,
        pos        INTEGER NOT NULL,
        PRIMARY KEY (user_id, room_id)
      );
      CREATE INDEX room_memberships_room ON room_memberships (room_id, membership, pos);

      CREATE TABLE forgotten_rooms (
        user_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        PRIMARY KEY (user_id, room_id)
      );

      CREATE TABLE room_summaries (
        room_id            TEXT PRIMARY KEY,
        bump_pos           INTEGER NOT NULL DEFAULT 0,
        name               TEXT,
        canonical_alias    TEXT,
        avatar_url         TEXT,
        topic              TEXT,
        encryption         TEXT,
        room_type          TEXT,
        join_rule          TEXT,
        history_visibility TEXT,
        guest_access       TEXT,
        joined_count       INTEGER NOT NULL DEFAULT 0,
        invited_count      INTEGER NOT NULL DEFAULT 0,
        heroes             TEXT    NOT NULL DEFAULT '[]'
      );

      CREATE TABLE txn_ids (
        user_id    TEXT    NOT NULL,
        device_id  TEXT    NOT NULL,
        txn_id     TEXT    NOT NULL,
        event_id   TEXT    NOT NULL,
        created_ts INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id, txn_id)
      );

      CREATE TABLE room_aliases (
        alias      TEXT PRIMARY KEY,
        room_id    TEXT    NOT NULL,
        creator    TEXT    NOT NULL,
        created_ts INTEGER NOT NULL
      );
      CREATE INDEX room_aliases_room ON room_aliases (room_id);
    `,
  },
  {
    version: 3,
    name: "account data, receipts, presence, to-device, push rules and counts, device keys",
    sql: `
      -- Account data: global (room_id = '') and per room; pos = position of the last change.
      CREATE TABLE account_data (
        user_id TEXT    NOT NULL,
        room_id TEXT    NOT NULL DEFAULT '',
        type    TEXT    NOT NULL,
        content TEXT    NOT NULL,
        pos     INTEGER NOT NULL,
        PRIMARY KEY (user_id, room_id, type)
      );
      CREATE INDEX account_data_pos ON account_data (user_id, pos);

      -- The newest receipt of each kind per user, room and thread ('' = unthreaded).
      CREATE TABLE receipts (
        room_id      TEXT    NOT NULL,
        user_id      TEXT    NOT NULL,
        receipt_type TEXT    NOT NULL,
        thread_id    TEXT    NOT NULL DEFAULT '',
        event_id     TEXT    NOT NULL,
        event_pos    INTEGER NOT NULL,
        ts           INTEGER NOT NULL,
        pos          INTEGER NOT NULL,
        PRIMARY KEY (room_id, user_id, receipt_type, thread_id)
      );
      CREATE INDEX receipts_room_pos ON receipts (room_id, pos);

      CREATE TABLE presence (
        user_id          TEXT PRIMARY KEY,
        state            TEXT    NOT NULL,
        status_msg       TEXT,
        last_active_ts   INTEGER NOT NULL,
        currently_active INTEGER NOT NULL DEFAULT 0,
        pos              INTEGER NOT NULL
      );

      -- To-device messages waiting for their device's next sync to acknowledge them.
      CREATE TABLE device_inbox (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        pos       INTEGER NOT NULL,
        user_id   TEXT    NOT NULL,
        device_id TEXT    NOT NULL,
        sender    TEXT    NOT NULL,
        type      TEXT    NOT NULL,
        content   TEXT    NOT NULL
      );
      CREATE INDEX device_inbox_device ON device_inbox (user_id, device_id, pos);

      CREATE TABLE to_device_txns (
        user_id    TEXT    NOT NULL,
        device_id  TEXT    NOT NULL,
        txn_id     TEXT    NOT NULL,
        created_ts INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id, txn_id)
      );

      -- A user's push rules as one document: their custom rules and their changes to the
      -- defaults (enabled, actions). The defaults themselves live in code.
      CREATE TABLE push_rules (
        user_id TEXT PRIMARY KEY,
        rules   TEXT    NOT NULL,
        pos     INTEGER NOT NULL
      );

      -- What the push rules said about an event for one recipient (written with the event).
      CREATE TABLE event_push_actions (
        user_id   TEXT    NOT NULL,
        room_id   TEXT    NOT NULL,
        event_pos INTEGER NOT NULL,
        event_id  TEXT    NOT NULL,
        thread_id TEXT    NOT NULL DEFAULT 'main',
        notify    INTEGER NOT NULL,
        highlight INTEGER NOT NULL,
        actions   TEXT    NOT NULL,
        ts        INTEGER NOT NULL,
        PRIMARY KEY (user_id, event_pos)
      );
      CREATE INDEX event_push_actions_room ON event_push_actions (user_id, room_id, event_pos);

      CREATE TABLE pushers (
        user_id             TEXT NOT NULL,
        app_id              TEXT NOT NULL,
        pushkey             TEXT NOT NULL,
        kind                TEXT NOT NULL,
        app_display_name    TEXT NOT NULL,
        device_display_name TEXT NOT NULL,
        profile_tag         TEXT,
        lang                TEXT NOT NULL,
        data                TEXT NOT NULL,
        PRIMARY KEY (app_id, pushkey, user_id)
      );

      CREATE TABLE e2e_device_keys (
        user_id   TEXT NOT NULL,
        device_id TEXT NOT NULL,
        json      TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id)
      );

      CREATE TABLE e2e_one_time_keys (
        user_id   TEXT NOT NULL,
        device_id TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        key_id    TEXT NOT NULL,
        json      TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id, algorithm, key_id)
      );

      CREATE TABLE e2e_fallback_keys (
        user_id   TEXT    NOT NULL,
        device_id TEXT    NOT NULL,
        algorithm TEXT    NOT NULL,
        key_id    TEXT    NOT NULL,
        json      TEXT    NOT NULL,
        used      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, device_id, algorithm)
      );
    `,
  },
  {
    version: 4,
    name: "DM rooms from m.direct, idle presence index",
    sql: `
      -- The rooms a user's global m.direct account data lists: the per-room DM flag sliding
      -- sync filters on. Rewritten in the same transaction as every change of m.direct.
      CREATE TABLE dm_rooms (
        user_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        PRIMARY KEY (user_id, room_id)
      );
      INSERT OR IGNORE INTO dm_rooms (user_id, room_id)
        SELECT a.user_id, r.value
        FROM account_data AS a, json_each(a.content) AS u, json_each(u.value) AS r
        WHERE a.room_id = '' AND a.type = 'm.direct' AND u.type = 'array' AND r.type = 'text' AND r.value LIKE '!%';

      -- Finding online users who went idle (presence sweep).
      CREATE INDEX presence_online_idle ON presence (state, last_active_ts);
    `,
  },
  {
    version: 5,
    name: "operator-forced sync resets, stream_log by kind",
    sql: `
      -- An operator's "resync": every sync token issued before position pos, for this scope,
      -- is stale. scope: 'all' (user_id and device_id ''), 'user' (device_id ''), 'device'.
      CREATE TABLE sync_resets (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        scope     TEXT    NOT NULL,
        user_id   TEXT    NOT NULL DEFAULT '',
        device_id TEXT    NOT NULL DEFAULT '',
        pos       INTEGER NOT NULL,
        reason    TEXT,
        ts        INTEGER NOT NULL
      );
      CREATE INDEX sync_resets_scope ON sync_resets (scope, user_id, device_id, pos);

      -- Items that read one kind of change over a large range (device lists) use this.
      CREATE INDEX stream_log_kind ON stream_log (kind, pos);
    `,
  },
  {
    version: 6,
    name: "unread counts from the index alone",
    sql: `
      -- Every joined room of every /sync counts the user's unread notifications; with the
      -- counted columns in the index, SQLite never visits the table rows to do it.
      DROP INDEX event_push_actions_room;
      CREATE INDEX event_push_actions_room ON event_push_actions (user_id, room_id, event_pos, notify, thread_id, highlight);
    `,
  },
  {
    version: 7,
    name: "membership changes of a room by position",
    sql: `
      -- An incremental sync's device_lists asks each room the range touched which members
      -- changed after \`since\`: by position, not by reading every member (a room may have
      -- thousands).
      CREATE INDEX room_memberships_room_pos ON room_memberships (room_id, pos);
    `,
  },
  {
    version: 8,
    name: "member events name their target in the log",
    sql: `
      -- An incremental sync's device_lists learns whose membership changed in which room from
      -- its log slice (user_id of a member event's row), without reading room_memberships.
      -- Rows written before this version get their target here.
      UPDATE stream_log SET user_id = (SELECT e.state_key FROM events e WHERE e.pos = stream_log.pos)
       WHERE kind = 'event' AND user_id IS NULL
         AND pos IN (SELECT pos FROM events WHERE type = 'm.room.member' AND state_key IS NOT NULL);
    `,
  },
];
