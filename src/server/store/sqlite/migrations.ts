// The SQLite schema, one version at a time. Never edit a released version: add the next one.
import type { Migration } from '../contract';
import { backfillStatements, dayBackfillStatements, IDEMPOTENCY_KEY_STATEMENTS, openBackfillStatements, visitBackfillStatements } from '../common/rollups';
import { SWEEP_INDEX_STATEMENTS } from '../common/retention';

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rooms, sessions, reports',
    statements: [
      'CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)',
      `CREATE TABLE hawk_sessions (
        id_hmac TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        created_at INTEGER NOT NULL
      )`,
      `CREATE TABLE rooms (
        token TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        owner_hmac TEXT NOT NULL,
        max_size INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        deleted_at INTEGER
      )`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        room TEXT NOT NULL,
        kind TEXT NOT NULL,
        participant_hmac TEXT NOT NULL,
        token_hmac TEXT NOT NULL UNIQUE,
        display_name TEXT,
        owner INTEGER NOT NULL,
        joined_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        ended_at INTEGER,
        end_reason TEXT,
        end_state TEXT,
        state TEXT NOT NULL,
        connections INTEGER NOT NULL,
        send_streams INTEGER NOT NULL,
        recv_streams INTEGER NOT NULL,
        first_reached TEXT NOT NULL,
        report_count INTEGER NOT NULL,
        non_conformant INTEGER NOT NULL
      )`,
      'CREATE INDEX sessions_open ON sessions (room, participant_hmac) WHERE ended_at IS NULL',
      'CREATE INDEX sessions_joined ON sessions (joined_at)',
      'CREATE INDEX sessions_ended ON sessions (ended_at)',
      `CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        session TEXT NOT NULL,
        seq INTEGER NOT NULL,
        room TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        from_state TEXT NOT NULL,
        event TEXT NOT NULL,
        state TEXT NOT NULL,
        connections INTEGER NOT NULL,
        send_streams INTEGER NOT NULL,
        recv_streams INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        expected TEXT,
        UNIQUE (session, seq)
      )`,
      'CREATE INDEX reports_received ON reports (received_at)',
      'CREATE INDEX reports_room ON reports (room, id)',
      `CREATE TABLE report_totals (
        from_state TEXT NOT NULL,
        event TEXT NOT NULL,
        state TEXT NOT NULL,
        verdict TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (from_state, event, state, verdict)
      ) WITHOUT ROWID`,
    ],
  },  {
    version: 2,
    name: 'hawk nonces (replay protection across processes)',
    statements: [
      `CREATE TABLE hawk_nonces (
        id_hmac TEXT NOT NULL,
        nonce TEXT NOT NULL,
        ts TEXT NOT NULL,
        claimed_at INTEGER NOT NULL,
        PRIMARY KEY (id_hmac, nonce, ts)
      ) WITHOUT ROWID`,
      'CREATE INDEX hawk_nonces_claimed ON hawk_nonces (claimed_at)',
    ],
  },
  {
    version: 3,
    name: 'hawk sessions: last use (retention counts from it)',
    statements: [
      // SQLite adds a NOT NULL column only with a default; every row gets its real value next.
      'ALTER TABLE hawk_sessions ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0',
      'UPDATE hawk_sessions SET last_used_at = created_at',
      'CREATE INDEX hawk_sessions_last_used ON hawk_sessions (last_used_at)',
      // What retention asks of each Hawk session it would delete: does it own a room, is it in an open session.
      'CREATE INDEX rooms_owner ON rooms (owner_hmac)',
      'CREATE INDEX sessions_open_participant ON sessions (participant_hmac) WHERE ended_at IS NULL',
    ],
  },
  {
    version: 4,
    name: 'rollups (built from the rows stored) and report idempotency keys',
    statements: [
      // See common/rollups.ts. The shard is always 0 here (one writer); the column keeps both schemas alike.
      `CREATE TABLE rollups (
        bucket INTEGER NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        shard INTEGER NOT NULL,
        count INTEGER NOT NULL,
        sum REAL NOT NULL,
        example TEXT,
        PRIMARY KEY (bucket, kind, key, shard)
      ) WITHOUT ROWID`,
      ...backfillStatements('sqlite'),
      ...IDEMPOTENCY_KEY_STATEMENTS,
    ],
  },
  {
    version: 5,
    name: 'sessions: state since and path; entries, time in state and paths (built from the rows stored)',
    statements: [
      // SQLite adds a NOT NULL column only with a default; every row gets its real value next.
      'ALTER TABLE sessions ADD COLUMN state_since INTEGER NOT NULL DEFAULT 0',
      "ALTER TABLE sessions ADD COLUMN path TEXT NOT NULL DEFAULT '[]'",
      ...visitBackfillStatements('sqlite'),
    ],
  },
  {
    version: 6,
    name: 'sessions open by state as running counts (built from the sessions stored)',
    statements: [...openBackfillStatements('sqlite')],
  },
  {
    version: 7,
    name: 'rollups by day (added up from the hour rows stored)',
    statements: [...dayBackfillStatements('sqlite')],
  },
  {
    version: 8,
    name: 'indexes for the sweep (retention and expiry look rows up instead of scanning)',
    statements: [
      ...SWEEP_INDEX_STATEMENTS,
      // The open sessions whose expiry passed (PostgreSQL has had it since version 1).
      'CREATE INDEX sessions_open_expiry ON sessions (expires_at) WHERE ended_at IS NULL',
    ],
  },
  {
    version: 9,
    name: "sessions: the join's clientMaxSize (a room's capacity counts it, as loop-server's)",
    // NULL for the sessions stored before: their value is unknown, so they bound nothing.
    statements: ['ALTER TABLE sessions ADD COLUMN client_max_size INTEGER'],
  },
];
