// The PostgreSQL schema, one version at a time, the same versions as the SQLite store's. Never edit a
// released version: add the next one. No foreign keys: their KEY SHARE locks would cross the fixed
// lock order (room, then its sessions by id) that keeps concurrent units of work free of deadlocks.
import type { Migration } from '../contract';
import { backfillStatements, dayBackfillStatements, IDEMPOTENCY_KEY_STATEMENTS, openBackfillStatements, visitBackfillStatements } from '../common/rollups';
import { SWEEP_INDEX_STATEMENTS } from '../common/retention';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'rooms, sessions, reports',
    statements: [
      `CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      )`,
      `CREATE TABLE hawk_sessions (
        id_hmac TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      'CREATE INDEX hawk_sessions_created ON hawk_sessions (created_at)',
      `CREATE TABLE rooms (
        token TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        owner_hmac TEXT NOT NULL,
        max_size INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        deleted_at BIGINT
      )`,
      `CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        room TEXT NOT NULL,
        kind TEXT NOT NULL,
        participant_hmac TEXT NOT NULL,
        token_hmac TEXT NOT NULL UNIQUE,
        display_name TEXT,
        owner BOOLEAN NOT NULL,
        joined_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT,
        end_state TEXT,
        state TEXT NOT NULL,
        connections INTEGER NOT NULL,
        send_streams INTEGER NOT NULL,
        recv_streams INTEGER NOT NULL,
        first_reached JSONB NOT NULL,
        report_count INTEGER NOT NULL,
        non_conformant INTEGER NOT NULL
      )`,
      'CREATE INDEX sessions_open ON sessions (room, participant_hmac) WHERE ended_at IS NULL',
      'CREATE INDEX sessions_open_expiry ON sessions (expires_at) WHERE ended_at IS NULL',
      'CREATE INDEX sessions_joined ON sessions (joined_at)',
      'CREATE INDEX sessions_ended ON sessions (ended_at)',
      `CREATE TABLE reports (
        id BIGSERIAL PRIMARY KEY,
        session TEXT NOT NULL,
        seq INTEGER NOT NULL,
        room TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        from_state TEXT NOT NULL,
        event TEXT NOT NULL,
        state TEXT NOT NULL,
        connections INTEGER NOT NULL,
        send_streams INTEGER NOT NULL,
        recv_streams INTEGER NOT NULL,
        verdict TEXT NOT NULL,
        expected JSONB,
        UNIQUE (session, seq)
      )`,
      'CREATE INDEX reports_received ON reports (received_at)',
      'CREATE INDEX reports_room ON reports (room, id)',
      // Running totals, spread over shards (one per batch in flight, from a random base per process) so
      // that concurrent commits do not queue on the same hot row; readers sum the shards.
      `CREATE TABLE report_totals (
        shard SMALLINT NOT NULL,
        from_state TEXT NOT NULL,
        event TEXT NOT NULL,
        state TEXT NOT NULL,
        verdict TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (shard, from_state, event, state, verdict)
      )`,
    ],
  },  {
    version: 2,
    name: 'hawk nonces (replay protection across processes)',
    statements: [
      `CREATE TABLE hawk_nonces (
        id_hmac TEXT NOT NULL,
        nonce TEXT NOT NULL,
        ts TEXT NOT NULL,
        claimed_at BIGINT NOT NULL,
        PRIMARY KEY (id_hmac, nonce, ts)
      )`,
      'CREATE INDEX hawk_nonces_claimed ON hawk_nonces (claimed_at)',
    ],
  },
  {
    version: 3,
    name: 'hawk sessions: last use (retention counts from it)',
    statements: [
      'ALTER TABLE hawk_sessions ADD COLUMN last_used_at BIGINT',
      'UPDATE hawk_sessions SET last_used_at = created_at',
      'ALTER TABLE hawk_sessions ALTER COLUMN last_used_at SET NOT NULL',
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
      // See common/rollups.ts. Shards as report_totals's: concurrent batches add to rows of their own.
      `CREATE TABLE rollups (
        bucket BIGINT NOT NULL,
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        shard SMALLINT NOT NULL,
        count BIGINT NOT NULL,
        sum DOUBLE PRECISION NOT NULL,
        example TEXT,
        PRIMARY KEY (bucket, kind, key, shard)
      )`,
      ...backfillStatements('postgres'),
      ...IDEMPOTENCY_KEY_STATEMENTS,
    ],
  },
  {
    version: 5,
    name: 'sessions: state since and path; entries, time in state and paths (built from the rows stored)',
    statements: [
      'ALTER TABLE sessions ADD COLUMN state_since BIGINT',
      'ALTER TABLE sessions ADD COLUMN path JSONB',
      ...visitBackfillStatements('postgres'),
      'ALTER TABLE sessions ALTER COLUMN state_since SET NOT NULL',
      'ALTER TABLE sessions ALTER COLUMN path SET NOT NULL',
    ],
  },
  {
    version: 6,
    name: 'sessions open by state as running counts (built from the sessions stored)',
    statements: [...openBackfillStatements('postgres')],
  },
  {
    version: 7,
    name: 'rollups by day (added up from the hour rows stored)',
    statements: [...dayBackfillStatements('postgres')],
  },
  {
    version: 8,
    name: 'indexes for the sweep (retention and expiry look rows up instead of scanning)',
    statements: [...SWEEP_INDEX_STATEMENTS],
  },
  {
    version: 9,
    name: "sessions: the join's clientMaxSize (a room's capacity counts it, as loop-server's)",
    // NULL for the sessions stored before: their value is unknown, so they bound nothing. BIGINT: a join may
    // announce any safe integer. Nullable without a default: no table rewrite.
    statements: ['ALTER TABLE sessions ADD COLUMN client_max_size BIGINT'],
  },
];
