/*
 * The room store on PostgreSQL, for several server processes sharing one database (spec section 3).
 *
 * Order and isolation: every unit of work locks what it decides on with SELECT ... FOR NO KEY UPDATE
 * inside its transaction, so the reports of one session are checked and stored one after the other even
 * when they reach different processes. Locks are always taken in one order (a room, then sessions by id,
 * then running-total rows by key), so concurrent units of work never deadlock; should PostgreSQL still
 * report one (or a serialization failure), the unit is retried and `decide` runs again (transaction.ts).
 * Reports are stored in batches (reportBatch.ts).
 *
 * Outages (connection refused or lost, shutdown, disk full) reject with StoreUnavailableError; a
 * transaction either commits whole or not at all, so nothing is half-written.
 */
import type { Pool, PoolClient } from 'pg';
import { CommitTimes, Throttle } from '../common/commitTimes';
import { METRICS_KINDS, metricsFromTotals, sessionReplay, statsFromRollups } from '../common/figures';
import { bucketRange, RollupDelta, type BucketRange } from '../common/rollups';
import { startedSession } from '../common/session';
import { SingleFlight } from '../common/singleFlight';
import { reportFromRow } from '../common/rows';
import { appliedLine, knownVersion, pendingMigrations, readableVersion, SCHEMA_TABLE } from '../common/migrate';
import { retainInSteps, retentionStepAsync, stepsUntilShort, type RetentionCounts, type RetentionTable } from '../common/retention';
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
  type SeenKey,
  type SessionDecision,
  type UpdateOptions,
  type SessionRecord,
  type SessionReplay,
  type Stats,
  type StatsQuery,
  type Store,
  type StoreOptions,
  type StoredReport,
} from '../contract';
import { createPool, describe, loadPg, redactUrl, toStoreError, type Queryable } from './connection';
import { cursorBatches } from './cursor';
import { POSTGRES_MIGRATIONS } from './migrations';
import { fencedTables, holdWriters, installFence, isFenced, isLockWait, MIGRATION_ATTEMPTS, MIGRATION_BACKOFF_MS } from './fence';
import { MAX_IN_FLIGHT, ReportBatches } from './reportBatch';
import { transaction, type TransactionOptions } from './transaction';
import * as figures from './sql/figures';
import * as hawk from './sql/hawk';
import * as reports from './sql/reports';
import * as rollups from './sql/rollups';
import * as rooms from './sql/rooms';
import * as sessions from './sql/sessions';

/** How often a process reads the fold's horizon again (well under FOLD_GRACE_MS). */
const FOLD_READ_MS = 10_000;

/** Key of the advisory lock that makes concurrent `open()`s apply migrations one at a time. */
const MIGRATION_LOCK = 7_311_200_011;
const TOTAL_SHARDS = 64;
/** Connections for reads of figures: few, so that a slow scrape cannot take the pool's. */
const FIGURE_CONNECTIONS = 2;
/** Rows an export fetches at a time (about 250 kB of output). */
const EXPORT_BATCH = 1000;

export interface PostgresStoreOptions extends StoreOptions {
  /** Migrations to apply (default: the store's own); tests pass more to check upgrades. */
  migrations?: readonly Migration[];
}

export function createPostgresStore(url: string, options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresStore(url, options);
}

/** Retention's delete of each table, at most `limit` rows (common/retention.ts runs them in order). */
const RETENTION_DELETES: Record<RetentionTable, (q: Queryable, before: number, limit: number) => Promise<number>> = {
  reports: reports.deleteOldReports,
  sessions: sessions.deleteEndedSessions,
  rooms: rooms.deleteGoneRooms,
  hawkSessions: hawk.deleteUnusedHawkSessions,
};

export class PostgresStore implements Store {
  private pool: Pool | undefined;
  private batchPool: Pool | undefined;
  /** Figures (stats, metrics, traffic, a session's reports) read on connections of their own, with a statement timeout. */
  private figuresPool: Pool | undefined;
  private readonly flights = new SingleFlight();
  private readonly log: (line: string) => void;
  private readonly migrations: readonly Migration[];
  /** This process's base running-total shard (spread so concurrent commits do not queue on one hot row). */
  private readonly shard = Math.floor(Math.random() * TOTAL_SHARDS);
  private closed = false;
  private readonly commitTimes = new CommitTimes();
  /** Old Hawk nonce claims are deleted by this process at most once a second. */
  private readonly noncePurge = new Throttle(1000);
  private readonly batches: ReportBatches;
  /** The fold's horizon as last read, and when (minutesFrom). */
  private fold = { at: -Infinity, from: 0 };

  constructor(private readonly url: string, options: PostgresStoreOptions = {}) {
    this.log = options.log ?? (() => {});
    this.migrations = options.migrations ?? POSTGRES_MIGRATIONS;
    this.batches = new ReportBatches({
      writers: () => this.writerPool(),
      readers: () => this.pgPool(),
      log: this.log,
      shardOf: (slot) => (this.shard + slot) % TOTAL_SHARDS,
      committed: (started) => this.commitTimes.record(started),
    });
  }

  /** Where it is, fit for a log line (no password). */
  get location(): string {
    return redactUrl(this.url);
  }

  async open(): Promise<void> {
    if (!this.pool) {
      const pg = loadPg();
      // Every connection names the newest schema this process knows (the schema fence, fence.ts).
      const schemaVersion = knownVersion(this.migrations);
      this.pool = createPool(pg, this.url, this.log, { schemaVersion });
      // The report batches get a connection of their own: behind a queue of reads they would wait, and
      // every report waiting on them with them.
      this.batchPool = createPool(pg, this.url, this.log, { size: MAX_IN_FLIGHT, schemaVersion });
      // Reads of figures never take the connections requests need, and stop at read_timeout_ms (503 Retry-After).
      this.figuresPool = createPool(pg, this.url, this.log, { size: FIGURE_CONNECTIONS, reads: true, schemaVersion });
    }
    let applied: readonly Migration[] = [];
    await this.ending(this.transaction('migrate', async (c) => {
      applied = [];
      // A migration takes as long as the rows it rebuilds need, and a process started beside the one migrating
      // waits for it here: the pool's limits are for requests.
      await c.query('SET LOCAL statement_timeout = 0');
      await c.query('SET LOCAL lock_timeout = 0');
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query(SCHEMA_TABLE);
      const current = Number((await c.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
      const pending = pendingMigrations(current, this.migrations, `the database ${this.location}`);
      if (pending.length === 0) return;
      const tables = fencedTables(this.migrations);
      await holdWriters(c, tables);
      for (const m of pending) {
        for (const sql of m.statements) await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
      await installFence(c, tables, pending.at(-1)!.version);
      applied = pending;
    }, { retry: { attempts: MIGRATION_ATTEMPTS, backoffMs: MIGRATION_BACKOFF_MS, also: isLockWait } }));
    // Said once it is committed (a deadlock with an older process's writes retries the whole transaction).
    for (const m of applied) this.log(appliedLine('postgres', m));
  }

  async openReadOnly(): Promise<void> {
    if (!this.pool) {
      this.pool = createPool(loadPg(), this.url, this.log, { readOnly: true });
    }
    await this.ending(
      this.read('open', async (q) => {
        const table = (await q.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")).rows[0].present as boolean;
        return table ? Number((await q.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v) : undefined;
      }).then((version) => readableVersion(version, this.migrations, `the database ${this.location}`)),
    );
  }

  /** `opening`, and if it fails, the pools ended: a refused start must not keep connections (and the process) alive. */
  private async ending<T>(opening: Promise<T>): Promise<T> {
    try {
      return await opening;
    } catch (err) {
      await this.endPools();
      throw err;
    }
  }

  private async endPools(): Promise<void> {
    const pools = [this.pool, this.batchPool, this.figuresPool];
    this.pool = this.batchPool = this.figuresPool = undefined;
    for (const pool of pools) await pool?.end();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.batches.idle();
    await this.endPools();
  }

  async schemaVersion(): Promise<number> {
    return this.read('schema version', async (q) => Number((await q.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v));
  }

  async storedSecret(): Promise<string | undefined> {
    return this.read('server secret', async (q) => (await q.query(`SELECT value FROM settings WHERE name = 'secret'`)).rows[0]?.value as string | undefined);
  }

  /** The server's HMAC secret, shared by every process: the first process's candidate wins. */
  async serverSecret(candidate: string): Promise<string> {
    return this.transaction('server secret', async (c) => {
      await c.query(`INSERT INTO settings (name, value) VALUES ('secret', $1) ON CONFLICT (name) DO NOTHING`, [candidate]);
      return String((await c.query(`SELECT value FROM settings WHERE name = 'secret'`)).rows[0].value);
    });
  }

  takeCommitTimes(): number[] {
    return this.commitTimes.take();
  }

  // --- Hawk sessions, rooms, sessions ---

  createHawkSession(record: HawkSessionRecord): Promise<void> {
    return this.write('create hawk session', (q) => hawk.insertHawkSession(q, record));
  }

  getHawkSession(idHmac: string): Promise<HawkSessionRecord | undefined> {
    return this.read('get hawk session', (q) => hawk.selectHawkSession(q, idHmac));
  }

  touchHawkSession(idHmac: string, at: number): Promise<void> {
    return this.write('touch hawk session', (q) => hawk.touchHawkSession(q, idHmac, at));
  }

  /** One INSERT on the primary key, committed before the request it lets through goes on. */
  async claimHawkNonce(c: HawkNonceClaim, at: number, windowMs: number): Promise<boolean> {
    await this.purgeNoncesIfDue(at, windowMs);
    return this.read('claim hawk nonce', (q) => hawk.claimNonce(q, c, at));
  }

  /** updateSession claims a unit's Hawk nonce in its report batch's first round trip. */
  readonly claimsNoncesInUnits = true;

  /** Deletes claims a window old, at most once a second; never the claim's failure (losing a race with another process's purge is harmless). */
  private async purgeNoncesIfDue(at: number, windowMs: number): Promise<void> {
    if (!this.noncePurge.due(at)) return;
    try {
      await hawk.purgeNonces(this.pgPool(), at - windowMs);
    } catch (err) {
      this.log(`postgres: deleting old Hawk nonces failed (${describe(err)})`);
    }
  }

  createRoom(room: RoomRecord): Promise<void> {
    return this.write('create room', (q) => rooms.insertRoom(q, room));
  }

  getRoom(token: string): Promise<RoomRecord | undefined> {
    return this.read('get room', (q) => rooms.selectRoom(q, token));
  }

  countLiveRooms(ownerHmac: string, now: number): Promise<number> {
    return this.read('count live rooms', (q) => rooms.countLiveRooms(q, ownerHmac, now));
  }

  async deleteRoom(token: string, at: number): Promise<void> {
    await this.transaction('delete room', async (c) => {
      if (!(await rooms.selectRoomForUpdate(c, token))) return;
      await rooms.markRoomDeleted(c, token, at);
      const delta = new RollupDelta();
      for (const e of await sessions.endRoomSessions(c, token, at)) delta.ended({ ...e, reason: 'deleted' });
      await rollups.addRollups(c, delta.rows(), this.shard);
    });
  }

  openSessions(room: string): Promise<SessionRecord[]> {
    return this.read('open sessions', (q) => sessions.selectOpenSessions(q, room));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.read('get session', (q) => sessions.selectSession(q, id));
  }

  sessionByToken(tokenHmac: string): Promise<SessionRecord | undefined> {
    return this.read('session by token', (q) => sessions.selectSessionByToken(q, tokenHmac));
  }

  openSessionOf(room: string, participantHmac: string): Promise<SessionRecord | undefined> {
    return this.read('open session of', (q) => sessions.selectOpenSessionOf(q, room, participantHmac));
  }

  // --- units of work ---

  async joinRoom<T>(room: string, decide: (ctx: JoinContext) => JoinDecision<T>): Promise<T | undefined> {
    return this.transaction('join room', async (c) => {
      const current = await rooms.selectRoomForUpdate(c, room);
      if (!current) return undefined;
      const decision = decide({ room: current, open: await sessions.selectOpenSessionsForUpdate(c, room) });
      if (decision.kind === 'refuse') return decision.value;
      const delta = new RollupDelta();
      for (const end of [...decision.end].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
        const ended = await sessions.endSession(c, end.id, end.reason, end.at);
        if (ended) delta.ended({ ...ended, reason: end.reason });
      }
      const created = startedSession(decision.create);
      await sessions.insertSession(c, created);
      delta.session(undefined, created);
      await rollups.addRollups(c, delta.rows(), this.shard);
      return decision.value;
    });
  }

  updateSession<T>(id: string, decide: (session: SessionRecord, seen: SeenKey) => SessionDecision<T>, options: UpdateOptions = {}): Promise<T | undefined> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    if (options.nonce) void this.purgeNoncesIfDue(options.nonce.at, options.nonce.windowMs);
    return this.batches.add(id, decide, options.idempotencyKey, options.nonce);
  }

  async expireSessions(now: number, stepRows?: number): Promise<number> {
    // Ended at their expiry, not at the sweep, as the SQLite store does; each step a transaction of its own.
    return stepsUntilShort(stepRows, (limit) => this.transaction('expire sessions', async (c) => {
      const ended = await sessions.expireSessions(c, now, limit);
      const delta = new RollupDelta();
      for (const e of ended) delta.ended({ ...e, reason: 'expired' });
      await rollups.addRollups(c, delta.rows(), this.shard);
      return ended.length;
    }));
  }

  async retain(before: number, stepRows?: number): Promise<RetentionCounts> {
    // Each step a transaction of its own (common/retention.ts).
    return retainInSteps(stepRows, (limit) => this.transaction('retention', (c) => retentionStepAsync(limit, (table) => RETENTION_DELETES[table](c, before, limit))));
  }

  async foldRollups(before: number, now: number): Promise<boolean> {
    const did = await this.transaction('fold rollups', (c) => rollups.foldMinutes(c, before, now));
    // This process reads the horizon it just moved at once (others within FOLD_READ_MS).
    if (did) this.fold.at = -Infinity;
    return did;
  }

  // --- figures ---

  sessionReports(id: string): Promise<StoredReport[]> {
    return this.figure('session reports', (q) => reports.selectSessionReports(q, id));
  }

  sessionReplay(id: string): Promise<SessionReplay | undefined> {
    return sessionReplay(this, id);
  }

  /**
   * One REPEATABLE READ, read-only transaction on a connection of its own: the export is one snapshot (reports stored
   * or deleted after it started are not in it, none twice or missed), read through a cursor a batch at a time as the
   * consumer asks (cursor.ts). Between batches the transaction waits for the reader: the database's
   * idle_in_transaction_session_timeout, if it has one, ends an export whose reader stalls longer (D-129).
   */
  async *exportReports(filter: ExportFilter): AsyncIterable<StoredReport> {
    const client = await this.read('export', () => this.pgPool().connect());
    // Checked out, the connection has no listener for a failure between batches (it would end the process).
    let lost: Error | undefined;
    const onError = (err: Error) => (lost ??= err);
    client.on('error', onError);
    let broken = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { sql, params } = reports.exportQuery(filter);
      for await (const rows of cursorBatches(client, 'lrs_export', sql, params, EXPORT_BATCH)) yield* rows.map(reportFromRow);
    } catch (err) {
      broken = true;
      throw exportError(lost ?? err);
    } finally {
      // Read-only: ending it either way changes nothing; a broken connection is not put back.
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      client.off('error', onError);
      client.release(broken);
    }
  }

  async stats(query: StatsQuery): Promise<Stats> {
    // Only a window's ends need it (a window older than the minutes kept is read by the hour).
    const minutesFrom = query.since === undefined && query.until === undefined ? 0 : await this.minutesFrom();
    const range = bucketRange(query.since, query.until, minutesFrom);
    const [sums, open, examples] = await Promise.all([
      this.rollupSums(range),
      this.openSessionsByState(),
      this.flights.run(`examples ${JSON.stringify(range)}`, () => this.figure('stats', (q) => rollups.enteredExamples(q, range))),
    ]);
    return statsFromRollups(query, sums, open.reduce((n, o) => n + o.count, 0), examples, minutesFrom);
  }

  async metricsData(buckets: readonly number[]): Promise<MetricsData> {
    const [totals, allTime, open] = await Promise.all([
      this.flights.run('report totals', () => this.figure('metrics', (q) => figures.reportTotals(q))),
      this.flights.run('metrics rollups', () => this.figure('metrics', (q) => rollups.rollupSums(q, { all: true }, METRICS_KINDS))),
      this.openSessionsByState(),
    ]);
    return metricsFromTotals(buckets, totals, allTime, open);
  }

  /** One query per window's buckets at a time, whoever asks (a window is whole minutes, so callers share it). */
  private rollupSums(range: BucketRange) {
    return this.flights.run(`rollups ${JSON.stringify(range)}`, () => this.figure('stats', (q) => rollups.rollupSums(q, range)));
  }

  /**
   * The oldest minute rows reads may use (common/fold.ts), read at most every FOLD_READ_MS: a value that old is still
   * safe, since minutes are deleted FOLD_GRACE_MS (minutes) after reads stop using them.
   */
  private async minutesFrom(): Promise<number> {
    if (Date.now() - this.fold.at >= FOLD_READ_MS) {
      const at = Date.now();
      this.fold = { at, from: (await this.flights.run('fold', () => this.figure('stats', (q) => rollups.foldState(q)))).from };
    }
    return this.fold.from;
  }

  private openSessionsByState() {
    return this.flights.run('open sessions', () => this.figure('open sessions', (q) => figures.openSessionsByState(q)));
  }

  // --- machinery ---

  private pgPool(): Pool {
    if (!this.pool) throw new StoreUnavailableError('the PostgreSQL store is not open');
    return this.pool;
  }

  /** A read of figures on their own pool (statement timeout: a read that takes too long is StoreUnavailableError). */
  private async figure<T>(what: string, work: (q: Queryable) => Promise<T>): Promise<T> {
    try {
      // Opened read-only (export), the store has the main pool only.
      const pool = this.figuresPool ?? this.pool;
      if (!pool) throw new StoreUnavailableError('the PostgreSQL store is not open');
      return await work(pool);
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  private writerPool(): Pool {
    if (!this.batchPool) throw new StoreUnavailableError('the PostgreSQL store is not open');
    return this.batchPool;
  }

  /** Statements on any pooled connection, outside a transaction. */
  private async read<T>(what: string, work: (q: Queryable) => Promise<T>): Promise<T> {
    try {
      return await work(this.pgPool());
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  /**
   * One write statement (its own transaction), timed for the metrics like every other commit; a refusal by the
   * schema fence is logged as transaction() logs it.
   */
  private async write<T>(what: string, work: (q: Queryable) => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      const result = await work(this.pgPool());
      this.commitTimes.record(started);
      return result;
    } catch (err) {
      if (isFenced(err)) this.log(`postgres: ${what} refused: ${describe(err)}`);
      throw toStoreError(err, what);
    }
  }

  private transaction<T>(what: string, work: (c: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return transaction(() => this.pgPool(), this.log, what, work, { committed: (started) => this.commitTimes.record(started), ...options });
  }
}

/** An export's failure; the database ending it because the reader stalled says so. */
function exportError(err: unknown): Error {
  if ((err as { code?: unknown })?.code === '25P03') {
    return new StoreUnavailableError(
      'PostgreSQL ended the export: its reader read nothing for longer than the idle_in_transaction_session_timeout the database sets (read faster, or raise it for this connection: options=-c idle_in_transaction_session_timeout=0 in the store URL)',
      err,
    );
  }
  return toStoreError(err, 'export');
}
