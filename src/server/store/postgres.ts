/*
 * The room store on PostgreSQL, for several server processes sharing one database (spec section 3).
 *
 * Order and isolation: every unit of work locks what it decides on with SELECT ... FOR NO KEY UPDATE
 * inside its transaction, so the reports of one session are checked and stored one after the other even
 * when they reach different processes. Locks are always taken in one order (a room, then sessions by id,
 * then running-total rows by key), so concurrent units of work never deadlock; should PostgreSQL still
 * report one (or a serialization failure), the unit is retried and `decide` runs again.
 *
 * Group commit: `updateSession` calls queue up while batches commit; the next batch takes them all,
 * locks their sessions in id order, runs each `decide` in arrival order against the rows as the earlier
 * calls left them, and writes everything in one transaction (three round trips whatever the batch size).
 * Two batches may be in flight, on sessions of their own: a session's next call waits for its batch.
 * A batch that fails for a reason other than an outage is redone call by call, each in its own
 * transaction, so one bad call does not undo the others.
 *
 * Outages (connection refused or lost, shutdown, disk full) reject with StoreUnavailableError; a
 * transaction either commits whole or not at all, so nothing is half-written.
 */
import type { Pool, PoolClient } from 'pg';
import {
  StoreUnavailableError,
  type ExportFilter,
  type HawkNonceClaim,
  type HawkSessionRecord,
  type JoinContext,
  type JoinDecision,
  type MetricsData,
  type Migration,
  type RoomRecord,
  type RoomStore,
  type SessionDecision,
  type SessionRecord,
  type Stats,
  type StatsQuery,
  type StoreOptions,
  type StoredReport,
} from './types';
import { createPool, describe, isRetryable, isUnavailable, loadPg, redactUrl, toStoreError } from './postgres/connection';
import { POSTGRES_MIGRATIONS } from './postgres/migrations';
import { SESSION_COLUMNS, sessionToRow } from './postgres/rows';
import { hawkFromRow, reportFromRow, roomFromRow, sessionFromRow, type Row } from './rows';
import { metricsDataQuery, statsQuery } from './postgres/stats';

/** Key of the advisory lock that makes concurrent `open()`s apply migrations one at a time. */
const MIGRATION_LOCK = 7_311_200_011;
const MAX_BATCH = 512;
/** Report batches a process has in flight at once, each on a connection of its own. */
const MAX_IN_FLIGHT = 2;
const MAX_ATTEMPTS = 5;
const TOTAL_SHARDS = 64;
/** How long a batch whose COMMIT lost its connection waits for PostgreSQL to say whether it committed. */
const IN_DOUBT_WAIT_MS = 5000;
// Prepared statements name their columns: a cached `SELECT *` fails once a later migration adds a column.
const ROOM_COLUMNS = 'token, name, owner, owner_hmac, max_size, created_at, expires_at, deleted_at';
const SESSION_LIST = SESSION_COLUMNS.join(', ');

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface PendingUpdate {
  id: string;
  decide: (session: SessionRecord) => SessionDecision<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export interface PostgresStoreOptions extends StoreOptions {
  /** Migrations to apply (default: the store's own); tests pass more to check upgrades. */
  migrations?: readonly Migration[];
}

export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresStore(url, options);
}

export class PostgresStore implements RoomStore {
  private pool: Pool | undefined;
  private batchPool: Pool | undefined;
  private readonly log: (line: string) => void;
  private readonly migrations: readonly Migration[];
  private readonly shard = Math.floor(Math.random() * TOTAL_SHARDS);
  private queue: PendingUpdate[] = [];
  /** Sessions with a call in a batch in flight: their next calls wait for it, so a session's calls stay in order. */
  private busy = new Set<string>();
  /** Which in-flight slots are taken; a slot has its own running-total shard. */
  private slots: boolean[] = Array.from({ length: MAX_IN_FLIGHT }, () => false);
  private closed = false;
  private commitTimes: number[] = [];
  /** When this process last deleted old Hawk nonce claims (at most once a second). */
  private noncesPurgedAt = 0;

  constructor(private readonly url: string, options: PostgresStoreOptions = {}) {
    this.log = options.log ?? (() => {});
    this.migrations = [...(options.migrations ?? POSTGRES_MIGRATIONS)].sort((a, b) => a.version - b.version);
  }

  /** Where it is, fit for a log line (no password). */
  get location(): string {
    return redactUrl(this.url);
  }

  async open(): Promise<void> {
    if (!this.pool) {
      const pg = loadPg();
      this.pool = createPool(pg, this.url, this.log);
      // The report batches get a connection of their own: behind a queue of reads they would wait, and
      // every report waiting on them with them.
      this.batchPool = createPool(pg, this.url, this.log, MAX_IN_FLIGHT);
    }
    await this.transaction('migrate', async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const current = Number((await c.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
      const known = this.migrations.at(-1)?.version ?? 0;
      if (current > known) throw new Error(`the database ${this.location} has schema version ${current}, newer than this loop-room-state knows (${known}): upgrade loop-room-state`);
      for (const m of this.migrations) {
        if (m.version <= current) continue;
        for (const sql of m.statements) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
        this.log(`postgres: applied schema migration ${m.version} (${m.name})`);
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.slots.some(Boolean) || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    const pools = [this.pool, this.batchPool];
    this.pool = this.batchPool = undefined;
    for (const pool of pools) await pool?.end();
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.rows('schema version', 'SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    return Number(rows[0].v);
  }

  /** The server's HMAC secret, shared by every process: the first process's candidate wins. */
  async serverSecret(candidate: string): Promise<string> {
    return this.transaction('server secret', async (c) => {
      await c.query(`INSERT INTO settings (name, value) VALUES ('secret', $1) ON CONFLICT (name) DO NOTHING`, [candidate]);
      return String((await c.query(`SELECT value FROM settings WHERE name = 'secret'`)).rows[0].value);
    });
  }

  /** Durations (seconds) of the report-storing transactions since the last call, for the metrics. */
  takeCommitTimes(): number[] {
    const t = this.commitTimes;
    this.commitTimes = [];
    return t;
  }

  // --- plain reads and writes ---

  async createHawkSession(record: HawkSessionRecord): Promise<void> {
    await this.rows(
      'create hawk session',
      'INSERT INTO hawk_sessions (id_hmac, key, created_at, last_used_at) VALUES ($1, $2, $3, $4)',
      [record.idHmac, record.key, record.createdAt, record.lastUsedAt],
    );
  }

  async getHawkSession(idHmac: string): Promise<HawkSessionRecord | undefined> {
    const rows = await this.rows('get hawk session', 'SELECT id_hmac, key, created_at, last_used_at FROM hawk_sessions WHERE id_hmac = $1', [idHmac], 'lrs_hawk_session');
    return rows[0] ? hawkFromRow(rows[0]) : undefined;
  }

  async touchHawkSession(idHmac: string, at: number): Promise<void> {
    await this.rows('touch hawk session', 'UPDATE hawk_sessions SET last_used_at = $2 WHERE id_hmac = $1 AND last_used_at < $2', [idHmac, Math.trunc(at)], 'lrs_hawk_touch');
  }

  /** One INSERT on the primary key, committed before the request it lets through goes on. */
  async claimHawkNonce(c: HawkNonceClaim, at: number, windowMs: number): Promise<boolean> {
    if (at - this.noncesPurgedAt >= 1000) {
      this.noncesPurgedAt = at;
      // Never the claim's failure: a purge that loses a race with another process's is harmless.
      await this.pgPool()
        .query({ name: 'lrs_nonce_purge', text: 'DELETE FROM hawk_nonces WHERE claimed_at < $1', values: [at - windowMs] })
        .catch((err) => this.log(`postgres: deleting old Hawk nonces failed (${describe(err)})`));
    }
    // One parameterized statement (its own implicit transaction), and no wait for the WAL flush: set_config
    // with is_local=true turns synchronous_commit off for this statement's transaction only. The claim is
    // visible to every process once committed; only a crash of PostgreSQL within a fraction of a second
    // could forget it (the request's own writes stay durable).
    let claimed: boolean;
    try {
      const result = await this.pgPool().query({
        name: 'lrs_nonce_claim',
        text:
          'INSERT INTO hawk_nonces (id_hmac, nonce, ts, claimed_at) ' +
          "SELECT $1, $2, $3, $4 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit " +
          'ON CONFLICT DO NOTHING RETURNING 1 AS claimed',
        values: [c.idHmac, c.nonce, c.ts, Math.trunc(at)],
      });
      claimed = result.rows.length === 1;
    } catch (err) {
      throw toStoreError(err, 'claim hawk nonce');
    }
    return claimed;
  }

  async createRoom(room: RoomRecord): Promise<void> {
    await this.rows(
      'create room',
      'INSERT INTO rooms (token, name, owner, owner_hmac, max_size, created_at, expires_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [room.token, room.name, room.owner, room.ownerHmac, room.maxSize, room.createdAt, room.expiresAt, room.deletedAt ?? null],
    );
  }

  async getRoom(token: string): Promise<RoomRecord | undefined> {
    const rows = await this.rows('get room', `SELECT ${ROOM_COLUMNS} FROM rooms WHERE token = $1`, [token], 'lrs_room');
    return rows[0] ? roomFromRow(rows[0]) : undefined;
  }

  async deleteRoom(token: string, at: number): Promise<void> {
    await this.transaction('delete room', async (c) => {
      const room = await c.query('SELECT token FROM rooms WHERE token = $1 FOR NO KEY UPDATE', [token]);
      if (room.rowCount === 0) return;
      await c.query('UPDATE rooms SET deleted_at = coalesce(deleted_at, $2) WHERE token = $1', [token, at]);
      await c.query(
        `WITH locked AS (SELECT id FROM sessions WHERE room = $1 AND ended_at IS NULL ORDER BY id FOR NO KEY UPDATE)
         UPDATE sessions s SET ended_at = $2, end_reason = 'deleted', end_state = s.state, display_name = NULL
         FROM locked WHERE s.id = locked.id AND s.ended_at IS NULL`,
        [token, at],
      );
    });
  }

  async openSessions(room: string): Promise<SessionRecord[]> {
    const rows = await this.rows('open sessions', 'SELECT * FROM sessions WHERE room = $1 AND ended_at IS NULL ORDER BY joined_at, id', [room]);
    return rows.map(sessionFromRow);
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const rows = await this.rows('get session', `SELECT ${SESSION_LIST} FROM sessions WHERE id = $1`, [id], 'lrs_session');
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async sessionByToken(tokenHmac: string): Promise<SessionRecord | undefined> {
    const rows = await this.rows('session by token', `SELECT ${SESSION_LIST} FROM sessions WHERE token_hmac = $1`, [tokenHmac], 'lrs_session_by_token');
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async openSessionOf(room: string, participantHmac: string): Promise<SessionRecord | undefined> {
    const rows = await this.rows(
      'open session of',
      `SELECT ${SESSION_LIST} FROM sessions WHERE room = $1 AND participant_hmac = $2 AND ended_at IS NULL ORDER BY joined_at DESC LIMIT 1`,
      [room, participantHmac],
      'lrs_open_session_of',
    );
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  // --- units of work ---

  async joinRoom<T>(room: string, decide: (ctx: JoinContext) => JoinDecision<T>): Promise<T | undefined> {
    return this.transaction('join room', async (c) => {
      const roomRows = await c.query('SELECT * FROM rooms WHERE token = $1 FOR NO KEY UPDATE', [room]);
      if (roomRows.rowCount === 0) return undefined;
      const open = await c.query('SELECT * FROM sessions WHERE room = $1 AND ended_at IS NULL ORDER BY id FOR NO KEY UPDATE', [room]);
      // Locked in id order (the fixed order); decided on in join order, as the SQLite store gives them.
      const sessions = open.rows.map(sessionFromRow).sort((a, b) => a.joinedAt - b.joinedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const decision = decide({ room: roomFromRow(roomRows.rows[0]), open: sessions });
      if (decision.kind === 'refuse') return decision.value;
      for (const end of [...decision.end].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        await c.query(
          'UPDATE sessions SET ended_at = $2, end_reason = $3, end_state = state, display_name = NULL WHERE id = $1 AND ended_at IS NULL',
          [end.id, end.at, end.reason],
        );
      }
      await c.query(`INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES (${SESSION_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, sessionToRow(decision.create));
      return decision.value;
    });
  }

  updateSession<T>(id: string, decide: (session: SessionRecord) => SessionDecision<T>): Promise<T | undefined> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    return new Promise<T | undefined>((resolve, reject) => {
      this.queue.push({ id, decide, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  async expireSessions(now: number): Promise<number> {
    // Ended at their expiry, not at the sweep, as the SQLite store does.
    return this.transaction('expire sessions', async (c) => {
      const r = await c.query(
        `WITH locked AS (SELECT id FROM sessions WHERE ended_at IS NULL AND expires_at <= $1 ORDER BY id FOR NO KEY UPDATE)
         UPDATE sessions s SET ended_at = s.expires_at, end_reason = 'expired', end_state = s.state, display_name = NULL
         FROM locked WHERE s.id = locked.id AND s.ended_at IS NULL AND s.expires_at <= $1`,
        [now],
      );
      return r.rowCount ?? 0;
    });
  }

  // --- reading reports and figures ---

  async sessionReports(id: string): Promise<StoredReport[]> {
    const rows = await this.rows('session reports', 'SELECT * FROM reports WHERE session = $1 ORDER BY seq', [id]);
    return rows.map(reportFromRow);
  }

  async *exportReports(filter: ExportFilter): AsyncIterable<StoredReport> {
    // Keyset pages in insertion order (a session's reports are inserted in seq order), so a long
    // export holds no transaction open and never loads everything at once.
    let after = 0;
    for (;;) {
      const where = ['id > $1'];
      const params: unknown[] = [after];
      if (filter.room !== undefined) {
        params.push(filter.room);
        where.push(`room = $${params.length}`);
      }
      if (filter.since !== undefined) {
        params.push(filter.since);
        where.push(`received_at >= $${params.length}`);
      }
      const rows = await this.rows('export', `SELECT * FROM reports WHERE ${where.join(' AND ')} ORDER BY id LIMIT 1000`, params);
      for (const r of rows) yield reportFromRow(r);
      if (rows.length < 1000) return;
      after = Number(rows[rows.length - 1].id);
    }
  }

  async stats(query: StatsQuery): Promise<Stats> {
    try {
      return await statsQuery((sql, params) => this.pgPool().query(sql, params).then((r) => r.rows as Row[]), query);
    } catch (err) {
      throw toStoreError(err, 'stats');
    }
  }

  async metricsData(timeToMediaBuckets: readonly number[]): Promise<MetricsData> {
    try {
      return await metricsDataQuery((sql, params) => this.pgPool().query(sql, params).then((r) => r.rows as Row[]), timeToMediaBuckets);
    } catch (err) {
      throw toStoreError(err, 'metrics');
    }
  }

  async retain(before: number): Promise<{ reports: number; sessions: number }> {
    return this.transaction('retention', async (c) => {
      const reports = await c.query('DELETE FROM reports WHERE received_at < $1', [before]);
      // Locked in id order first, like every other unit of work that takes session rows.
      const sessions = await c.query(
        'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE ended_at IS NOT NULL AND ended_at < $1 ORDER BY id FOR UPDATE)',
        [before],
      );
      await c.query('DELETE FROM rooms WHERE (expires_at < $1 OR deleted_at < $1) AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.room = rooms.token)', [before]);
      // After the rooms: a Hawk session whose last room just went goes in the same run.
      await c.query(
        `DELETE FROM hawk_sessions h WHERE h.last_used_at < $1
           AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.owner_hmac = h.id_hmac)
           AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.participant_hmac = h.id_hmac AND s.ended_at IS NULL)`,
        [before],
      );
      return { reports: reports.rowCount ?? 0, sessions: sessions.rowCount ?? 0 };
    });
  }

  // --- machinery ---

  private pgPool(): Pool {
    if (!this.pool) throw new StoreUnavailableError('the PostgreSQL store is not open');
    return this.pool;
  }

  /** One statement on any pooled connection; a `name` makes it a prepared statement (parsed and planned once per connection). */
  private writerPool(): Pool {
    if (!this.batchPool) throw new StoreUnavailableError('the PostgreSQL store is not open');
    return this.batchPool;
  }

  private async rows(what: string, sql: string, params: unknown[] = [], name?: string): Promise<Row[]> {
    try {
      return (await this.pgPool().query(name ? { name, text: sql, values: params } : { text: sql, values: params })).rows as Row[];
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /**
   * Runs `work` in a transaction; retried on deadlock or serialization failure; outages become
   * StoreUnavailableError. `begin: false`: the work begins the transaction itself. `inDoubt`: asked when the
   * connection is lost during COMMIT (committed or not, nobody can tell from here): true means it committed.
   */
  private async transaction<T>(
    what: string,
    work: (c: PoolClient) => Promise<T>,
    options: { pool?: () => Pool; begin?: boolean; inDoubt?: () => Promise<boolean> } = {},
  ): Promise<T> {
    const pool = options.pool ?? (() => this.pgPool());
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await pool().connect();
      } catch (err) {
        throw toStoreError(err, what);
      }
      let broken: Error | undefined;
      // A checked-out connection that dies between two queries (PostgreSQL shutting down) emits 'error' on
      // the client; unheard, that would end the process. The next query then fails and says so.
      const onError = (err: Error) => {
        broken = err;
        this.log(`postgres: connection lost during ${what} (${describe(err)})`);
      };
      client.on('error', onError);
      let committing = false;
      let result: T | undefined;
      try {
        if (options.begin !== false) await client.query('BEGIN');
        result = await work(client);
        committing = true;
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (committing && options.inDoubt && isUnavailable(err)) {
          broken = err as Error;
          if (await options.inDoubt()) return result as T;
          throw toStoreError(err, what);
        }
        if (isUnavailable(err)) broken = err as Error; // the connection may be dead: do not put it back
        else await client.query('ROLLBACK').catch((e) => (broken = e as Error));
        if (isRetryable(err) && attempt < MAX_ATTEMPTS) {
          this.log(`postgres: ${what} retried (${describe(err)})`);
          continue;
        }
        if (broken && isUnavailable(err)) this.log(`postgres: ${what} failed (${describe(err)})`);
        throw toStoreError(err, what);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }
  }

  /**
   * Starts batches while a slot is free: each takes the queued calls, in order, except those of a session
   * that has a call in flight or held back (they wait for the next batch).
   */
  private pump(): void {
    for (;;) {
      const slot = this.slots.indexOf(false);
      if (slot < 0 || this.queue.length === 0) return;
      const batch: PendingUpdate[] = [];
      const rest: PendingUpdate[] = [];
      const held = new Set<string>();
      for (const call of this.queue) {
        if (batch.length < MAX_BATCH && !this.busy.has(call.id) && !held.has(call.id)) batch.push(call);
        else {
          rest.push(call);
          held.add(call.id);
        }
      }
      if (batch.length === 0) return;
      this.queue = rest;
      this.slots[slot] = true;
      for (const call of batch) this.busy.add(call.id);
      void this.runBatch(batch, slot).finally(() => {
        for (const call of batch) this.busy.delete(call.id);
        this.slots[slot] = false;
        this.pump();
      });
    }
  }

  /** One batch, answered: each call resolves or rejects. */
  private async runBatch(batch: PendingUpdate[], slot: number): Promise<void> {
    try {
      const started = process.hrtime.bigint();
      const outcomes = await this.storeBatch(batch, slot);
      this.commitTimes.push(Number(process.hrtime.bigint() - started) / 1e9);
      if (this.commitTimes.length > 10_000) this.commitTimes.splice(0, 5_000);
      outcomes.forEach((o, i) => (o.ok ? batch[i].resolve(o.value) : batch[i].reject(o.error)));
    } catch (err) {
      if (err instanceof StoreUnavailableError || batch.length === 1) {
        for (const call of batch) call.reject(err);
        return;
      }
      // Something in one call's data broke the shared transaction: redo each call on its own.
      for (const call of batch) {
        try {
          const [o] = await this.storeBatch([call], slot);
          if (o.ok) call.resolve(o.value);
          else call.reject(o.error);
        } catch (e) {
          call.reject(e);
        }
      }
    }
  }

  /**
   * One batch in one transaction on the writers' connection. A connection lost during COMMIT leaves the
   * outcome unknown; rather than answer 503 for reports that may be stored (the client would send them
   * again: stored twice), the transaction's id is looked up once PostgreSQL answers again.
   */
  private storeBatch(batch: PendingUpdate[], slot: number): Promise<Outcome[]> {
    let txid: number | undefined;
    return this.transaction(
      'store report',
      async (c) => {
        const r = await this.applyBatch(c, batch, (this.shard + slot) % TOTAL_SHARDS);
        txid = r.txid;
        return r.outcomes;
      },
      { pool: () => this.writerPool(), begin: false, inDoubt: () => (txid === undefined ? Promise.resolve(false) : this.committed(txid)) },
    );
  }

  /** Whether transaction `txid` committed, asked until PostgreSQL answers (at most IN_DOUBT_WAIT_MS). */
  private async committed(txid: number): Promise<boolean> {
    const deadline = Date.now() + IN_DOUBT_WAIT_MS;
    this.log(`postgres: connection lost during a commit; waiting for PostgreSQL to tell its outcome`);
    for (;;) {
      try {
        const status = (await this.pgPool().query('SELECT txid_status($1::bigint) AS s', [txid])).rows[0]?.s;
        if (status === 'committed') return true;
        if (status === 'aborted') return false;
      } catch {
        // not back yet
      }
      if (Date.now() >= deadline) {
        this.log(`postgres: the outcome of a commit is unknown (PostgreSQL did not answer within ${IN_DOUBT_WAIT_MS} ms); answered as unavailable`);
        return false;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** One batch in the transaction it begins: lock, decide in arrival order, write; the caller commits. */
  private async applyBatch(c: PoolClient, batch: PendingUpdate[], shard: number): Promise<{ outcomes: Outcome[]; txid: number }> {
    const ids = [...new Set(batch.map((b) => b.id))].sort();
    // BEGIN, the transaction's id and the locks in one round trip: the simple query protocol takes several
    // statements but no parameters, so the ids are quoted by node-postgres's escapeLiteral.
    const begun = (await c.query(
      `BEGIN; SELECT txid_current() AS txid; SELECT ${SESSION_LIST} FROM sessions WHERE id = ANY(ARRAY[${ids.map((id) => c.escapeLiteral(id)).join(', ')}]::text[]) ORDER BY id FOR NO KEY UPDATE`,
    )) as unknown as Array<{ rows: Row[] }>;
    const txid = Number(begun[1].rows[0].txid);
    const current = new Map<string, SessionRecord>(begun[2].rows.map((r: Row) => [String(r.id), sessionFromRow(r)]));
    const changed = new Set<string>();
    const reports: unknown[][] = [];
    const totals = new Map<string, number>();
    const outcomes = batch.map((call): Outcome => {
      const session = current.get(call.id);
      if (!session) return { ok: true, value: undefined };
      let decision: SessionDecision<unknown>;
      try {
        decision = call.decide(structuredClone(session));
      } catch (error) {
        return { ok: false, error };
      }
      if (decision.kind === 'refuse') return { ok: true, value: decision.value };
      const next: SessionRecord = { ...session, ...decision.changes };
      if (decision.report) {
        const r = decision.report;
        next.reportCount = session.reportCount + 1;
        reports.push([
          session.id, next.reportCount, session.room, r.receivedAt, r.fromState, r.fields.event, r.fields.state,
          r.fields.connections, r.fields.sendStreams, r.fields.recvStreams, r.verdict, r.expected ? JSON.stringify(r.expected) : null,
        ]);
        const key = JSON.stringify([r.labels.from, r.labels.event, r.labels.state, r.labels.verdict]);
        totals.set(key, (totals.get(key) ?? 0) + 1);
      }
      current.set(call.id, next);
      changed.add(call.id);
      return { ok: true, value: decision.value };
    });
    if (changed.size === 0) return { outcomes, txid };
    // All of the batch's writes in one statement (one round trip): session rows (already locked), reports,
    // then the running totals in key order, after the sessions: the fixed order.
    const rows = [...changed].sort().map((id) => sessionToRow(current.get(id)!));
    const sessionCol = (i: number) => rows.map((r) => r[i]);
    const reportCol = (i: number) => reports.map((r) => r[i]);
    const keys = [...totals.keys()].sort();
    const parts = keys.map((k) => JSON.parse(k) as string[]);
    await c.query(
      `WITH updated AS (
         UPDATE sessions s SET display_name = u.display_name, expires_at = u.expires_at, ended_at = u.ended_at, end_reason = u.end_reason,
           end_state = u.end_state, state = u.state, connections = u.connections, send_streams = u.send_streams, recv_streams = u.recv_streams,
           first_reached = u.first_reached, report_count = u.report_count, non_conformant = u.non_conformant
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[], $10::int[], $11::jsonb[], $12::int[], $13::int[])
           AS u(id, display_name, expires_at, ended_at, end_reason, end_state, state, connections, send_streams, recv_streams, first_reached, report_count, non_conformant)
         WHERE s.id = u.id
       ), inserted AS (
         INSERT INTO reports (session, seq, room, received_at, from_state, event, state, connections, send_streams, recv_streams, verdict, expected)
         SELECT * FROM unnest($14::text[], $15::int[], $16::text[], $17::bigint[], $18::text[], $19::text[], $20::text[], $21::int[], $22::int[], $23::int[], $24::text[], $25::jsonb[])
       )
       INSERT INTO report_totals (shard, from_state, event, state, verdict, count)
       SELECT $26, * FROM unnest($27::text[], $28::text[], $29::text[], $30::text[], $31::bigint[])
       ON CONFLICT (shard, from_state, event, state, verdict) DO UPDATE SET count = report_totals.count + EXCLUDED.count`,
      [
        ...[0, 5, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18].map(sessionCol),
        ...Array.from({ length: 12 }, (_, i) => reportCol(i)),
        shard,
        parts.map((p) => p[0]),
        parts.map((p) => p[1]),
        parts.map((p) => p[2]),
        parts.map((p) => p[3]),
        keys.map((k) => totals.get(k)),
      ],
    );
    return { outcomes, txid };
  }

  // ---- per-client limits (security, issue 17) ----------------------------------------------------------

  async countLiveRooms(ownerHmac: string, now: number): Promise<number> {
    const rows = await this.rows('count live rooms', 'SELECT count(*) AS n FROM rooms WHERE owner_hmac = $1 AND deleted_at IS NULL AND expires_at > $2', [ownerHmac, now], 'lrs_live_rooms');
    return Number(rows[0].n);
  }
}
