// The embedded store: one SQLite file (better-sqlite3), WAL, synchronous=FULL. Writes go through the group
// commit (groupCommit.ts); reads run on the connection at once. The SQL is in sql/, one file per table group.
import { loadBetterSqlite3 } from '../../peers';
import { CommitTimes, Throttle } from '../common/commitTimes';
import { claiming } from '../common/nonce';
import { exportPages, METRICS_KINDS, metricsFromTotals, sessionReplay, statsFromRollups, type ExportPage } from '../common/figures';
import { bucketRange, RollupDelta } from '../common/rollups';
import { appliedLine, knownVersion, pendingMigrations, readableVersion, schemaMovedOn, SCHEMA_TABLE } from '../common/migrate';
import { retainInSteps, retentionStep, stepsUntilShort, type RetentionCounts, type RetentionStep, type RetentionTable } from '../common/retention';
import type { Row } from '../common/rows';
import { appliedSession, startedSession } from '../common/session';
import {
  NonceReplayedError,
  StoreUnavailableError,
  seenKey,
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
  type UnitNonce,
} from '../contract';
import { classify, type Log } from './errors';
import { GroupCommit } from './groupCommit';
import { SQLITE_MIGRATIONS } from './migrations';
import { statementCache, type Db, type Sql } from './statements';
import * as figures from './sql/figures';
import * as hawk from './sql/hawk';
import * as reports from './sql/reports';
import * as rollups from './sql/rollups';
import * as rooms from './sql/rooms';
import * as sessions from './sql/sessions';

export interface SqliteStoreOptions extends StoreOptions {
  /** The database file. */
  path: string;
  /** How long a write waits for a lock held by another process before answering 'unavailable' (default 200 ms). */
  busyTimeoutMs?: number;
  migrations?: readonly Migration[];
}

/** What `updateSession`'s decide is given. */
export interface SessionContext {
  session: SessionRecord;
  seen: SeenKey;
}

/** How long opening waits for the write lock to migrate (an older process on the same file may be writing). */
const MIGRATION_BUSY_MS = 60_000;

/** Retention's delete of each table, at most `limit` rows (common/retention.ts runs them in order). */
const RETENTION_DELETES: Record<RetentionTable, (sql: Sql, before: number, limit: number) => number> = {
  reports: reports.deleteOldReports,
  sessions: sessions.deleteEndedSessions,
  rooms: rooms.deleteGoneRooms,
  hawkSessions: hawk.deleteUnusedHawkSessions,
};

export class SqliteStore implements Store {
  private db?: Db;
  private readonly log: Log;
  private readonly commitTimes = new CommitTimes();
  /** updateSession takes a Hawk nonce claim into the unit's savepoint (UpdateOptions.nonce). */
  readonly claimsNoncesInUnits = true;
  /** Old Hawk nonce claims are deleted at most once a second, inside a claim's write. */
  private readonly noncePurge = new Throttle(1000);
  /** Opened by openReadOnly (export): its export is one snapshot. */
  private readOnly = false;
  /** Said once: the schema fence refuses this process's writes. */
  private fenced = false;
  private readonly migrations: readonly Migration[];
  /** The newest schema version this code knows (the fence compares it in every commit). */
  private readonly known: number;
  private readonly statements = statementCache(() => this.conn());
  private readonly sql: Sql = this.statements.sql;
  private readonly group: GroupCommit;
  /** What the calls of the group transaction in progress add to the rollups: written once, just before its commit. */
  private readonly rolled = new RollupDelta();

  constructor(private readonly options: SqliteStoreOptions) {
    this.migrations = options.migrations ?? SQLITE_MIGRATIONS;
    this.known = knownVersion(this.migrations);
    const log = options.log ?? (() => {});
    this.log = Object.assign((line: string) => log(line), { where: { path: options.path, busyTimeoutMs: options.busyTimeoutMs ?? 200 } });
    this.group = new GroupCommit(() => this.conn(), this.sql, this.log, this.commitTimes, () => {
      try {
        rollups.addRollups(this.sql, this.rolled.rows());
      } finally {
        this.rolled.clear();
      }
    }, () => this.fence());
  }

  async open(): Promise<void> {
    const Database = loadBetterSqlite3();
    try {
      const db = new Database(this.options.path, { timeout: this.options.busyTimeoutMs ?? 200 });
      this.db = db;
      this.readOnly = false;
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      this.migrate(this.migrations);
    } catch (err) {
      const e = classify(this.log, 'open', err);
      // better-sqlite3's own checks (a missing folder) and refusals name no file: say which one.
      throw e instanceof Error && !(e instanceof StoreUnavailableError) ? Object.assign(e, { message: `SQLite store ${this.options.path}: ${e.message}` }) : e;
    }
  }

  async openReadOnly(): Promise<void> {
    const Database = loadBetterSqlite3();
    const where = `the database ${this.options.path}`;
    try {
      // readonly: SQLite itself refuses every write (no journal mode change, no migration, nothing).
      this.db = new Database(this.options.path, { readonly: true, fileMustExist: true, timeout: this.options.busyTimeoutMs ?? 200 });
      this.readOnly = true;
      const table = this.sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
      readableVersion(table ? this.storedVersion() : undefined, this.migrations, where);
    } catch (err) {
      await this.close();
      throw classify(this.log, 'open', err);
    }
  }

  async close(): Promise<void> {
    this.group.drain();
    this.statements.clear();
    this.db?.close();
    this.db = undefined;
  }

  async schemaVersion(): Promise<number> {
    return this.read(() => this.version());
  }

  /** Run a PRAGMA on the store's own connection (tests simulate a full disk or a read-only file with it). */
  pragma(text: string): unknown {
    return this.conn().pragma(text);
  }

  takeCommitTimes(): number[] {
    return this.commitTimes.take();
  }

  async storedSecret(): Promise<string | undefined> {
    return this.read(() => (this.sql("SELECT value FROM settings WHERE name = 'secret'").get() as Row | undefined)?.value as string | undefined);
  }

  async serverSecret(candidate: string): Promise<string> {
    return this.write(() => {
      this.sql("INSERT INTO settings (name, value) VALUES ('secret', ?) ON CONFLICT (name) DO NOTHING").run(candidate);
      return String((this.sql("SELECT value FROM settings WHERE name = 'secret'").get() as Row).value);
    });
  }

  // ---- writes -------------------------------------------------------------------------------------

  createHawkSession(r: HawkSessionRecord): Promise<void> {
    return this.write(() => hawk.insertHawkSession(this.sql, r));
  }

  touchHawkSession(idHmac: string, at: number): Promise<void> {
    return this.write(() => hawk.touchHawkSession(this.sql, idHmac, at));
  }

  /** Inside the group commit: the claim is on disk before the request it lets through is answered. */
  claimHawkNonce(c: HawkNonceClaim, at: number, windowMs: number): Promise<boolean> {
    return this.write(() => this.claimNonce({ claim: c, at, windowMs }));
  }

  private claimNonce(n: UnitNonce): boolean {
    if (this.noncePurge.due(n.at)) hawk.purgeNonces(this.sql, n.at - n.windowMs);
    return hawk.claimNonce(this.sql, n.claim, n.at);
  }

  createRoom(r: RoomRecord): Promise<void> {
    return this.write(() => rooms.insertRoom(this.sql, r));
  }

  deleteRoom(token: string, at: number): Promise<void> {
    return this.write((delta) => {
      rooms.markRoomDeleted(this.sql, token, at);
      for (const e of sessions.endRoomSessions(this.sql, token, at)) delta.ended({ ...e, reason: 'deleted' });
    });
  }

  joinRoom<T>(room: string, decide: (ctx: JoinContext) => JoinDecision<T>): Promise<T | undefined> {
    return this.write((delta) => {
      const ctx = this.joinCtx(room);
      if (!ctx) return undefined;
      const d = decide(ctx);
      if (d.kind === 'refuse') return d.value;
      for (const e of d.end) {
        const ended = sessions.endSession(this.sql, e.id, e.reason, e.at);
        if (ended) delta.ended({ ...ended, reason: e.reason });
      }
      const created = startedSession(d.create);
      sessions.insertSession(this.sql, created);
      delta.session(undefined, created);
      return d.value;
    });
  }

  updateSession<T>(id: string, decide: (session: SessionRecord, seen: SeenKey) => SessionDecision<T>, options: UpdateOptions = {}): Promise<T | undefined> {
    const key = options.idempotencyKey;
    return claiming(options.nonce, (nonce) => this.write((delta) => {
      // First: a replay writes nothing (the savepoint is rolled back), and any other outcome keeps the claim.
      if (nonce && !this.claimNonce(nonce)) throw new NonceReplayedError();
      const ctx = this.sessionCtx(id, key);
      if (!ctx) return undefined;
      const { session } = ctx;
      const d = decide(session, ctx.seen);
      if (d.kind === 'refuse') return d.value;
      const next = appliedSession(session, d.changes, d.report);
      if (d.report) {
        reports.insertReport(this.sql, session, next.reportCount, d.report, key);
        reports.addReportTotals(this.sql, d.report.labels);
        delta.report(session, d.report);
      }
      sessions.updateSessionRow(this.sql, session, next);
      delta.session(session, next);
      return d.value;
    }));
  }

  async expireSessions(now: number, stepRows?: number): Promise<number> {
    return stepsUntilShort(stepRows, (limit) => this.expireStep(now, limit));
  }

  /** One step of expiry, in a write of its own. */
  expireStep(now: number, limit: number): Promise<number> {
    return this.write((delta) => {
      const ended = sessions.expireSessions(this.sql, now, limit);
      for (const e of ended) delta.ended({ ...e, reason: 'expired' });
      return ended.length;
    });
  }

  async retain(before: number, stepRows?: number): Promise<RetentionCounts> {
    return retainInSteps(stepRows, (limit) => this.retainStep(before, limit));
  }

  /** One step of retention (common/retention.ts), in a write of its own. */
  retainStep(before: number, limit: number): Promise<RetentionStep> {
    return this.write(() => retentionStep(limit, (table) => RETENTION_DELETES[table](this.sql, before, limit)));
  }

  foldRollups(before: number, now: number): Promise<boolean> {
    return this.write(() => rollups.foldMinutes(this.sql, before, now));
  }

  // ---- reads --------------------------------------------------------------------------------------

  getHawkSession(idHmac: string): Promise<HawkSessionRecord | undefined> {
    return this.read(() => hawk.selectHawkSession(this.sql, idHmac));
  }

  getRoom(token: string): Promise<RoomRecord | undefined> {
    return this.read(() => rooms.selectRoom(this.sql, token));
  }

  countLiveRooms(ownerHmac: string, now: number): Promise<number> {
    return this.read(() => rooms.countLiveRooms(this.sql, ownerHmac, now));
  }

  openSessions(room: string): Promise<SessionRecord[]> {
    return this.read(() => sessions.selectOpenSessions(this.sql, room));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.read(() => sessions.selectSession(this.sql, id));
  }

  sessionByToken(tokenHmac: string): Promise<SessionRecord | undefined> {
    return this.read(() => sessions.selectSessionByToken(this.sql, tokenHmac));
  }

  openSessionOf(room: string, participantHmac: string): Promise<SessionRecord | undefined> {
    return this.read(() => sessions.selectOpenSessionOf(this.sql, room, participantHmac));
  }

  sessionReports(id: string): Promise<StoredReport[]> {
    return this.read(() => reports.selectSessionReports(this.sql, id));
  }

  sessionReplay(id: string): Promise<SessionReplay | undefined> {
    return sessionReplay(this, id);
  }

  exportReports(filter: ExportFilter): AsyncIterable<StoredReport> {
    const pages = exportPages((after) => this.exportPage(filter, after));
    return this.readOnly ? this.inSnapshot(pages) : pages;
  }

  /**
   * `export`'s read-only store reads its pages in one read transaction, one snapshot as on PostgreSQL: reports stored
   * or deleted while it runs are not in it (in WAL mode writers go on; checkpoints wait for it, the WAL grows).
   * A writable store cannot: its group commit begins transactions of its own on the same connection.
   */
  private async *inSnapshot(pages: AsyncIterable<StoredReport>): AsyncIterable<StoredReport> {
    const db = this.conn();
    db.exec('BEGIN');
    try {
      yield* pages;
    } finally {
      if (this.db === db && db.inTransaction) db.exec('COMMIT');
    }
  }

  /** One page of the export: reports after row id `after`, with the row id to continue from. */
  exportPage(filter: ExportFilter, after: number): Promise<ExportPage> {
    return this.read(() => reports.exportPage(this.sql, filter, after));
  }

  /** What `updateSession`'s decide is given, read as it stands now (the threaded store decides on it). */
  sessionContext(id: string, idempotencyKey?: string): Promise<SessionContext | undefined> {
    return this.read(() => this.sessionCtx(id, idempotencyKey));
  }

  /** What `joinRoom`'s decide is given, read as it stands now. */
  joinContext(room: string): Promise<JoinContext | undefined> {
    return this.read(() => this.joinCtx(room));
  }

  stats(q: StatsQuery): Promise<Stats> {
    return this.read(() => {
      const open = figures.openSessionsByState(this.sql).reduce((n, o) => n + o.count, 0);
      // Only a window's ends need it (a window older than the minutes kept is read by the hour).
      const minutesFrom = q.since === undefined && q.until === undefined ? 0 : rollups.foldState(this.sql).from;
      const range = bucketRange(q.since, q.until, minutesFrom);
      return statsFromRollups(q, rollups.rollupSums(this.sql, range), open, rollups.enteredExamples(this.sql, range), minutesFrom);
    });
  }

  metricsData(buckets: readonly number[]): Promise<MetricsData> {
    return this.read(() =>
      metricsFromTotals(buckets, figures.reportTotals(this.sql), rollups.rollupSums(this.sql, { all: true }, METRICS_KINDS), figures.openSessionsByState(this.sql)),
    );
  }

  // ---- machinery ----------------------------------------------------------------------------------

  private conn(): Db {
    if (!this.db) throw new StoreUnavailableError('the store is closed');
    return this.db;
  }

  private sessionCtx(id: string, key: string | undefined): SessionContext | undefined {
    const [session] = sessions.selectSessionsForUpdate(this.sql, [id]);
    if (!session) return undefined;
    // The same object whichever thread reads it: the threaded store's writer compares it with what was decided on.
    const stored = key === undefined ? undefined : reports.reportKeySeen(this.sql, id, key);
    return { session, seen: seenKey(stored) };
  }

  private joinCtx(room: string): JoinContext | undefined {
    const current = rooms.selectRoomForUpdate(this.sql, room);
    return current && { room: current, open: sessions.selectOpenSessionsForUpdate(this.sql, room) };
  }

  /**
   * The schema fence (D-145), in every write transaction: a newer process sharing the file migrated it past what this
   * one knows, so its writes would not keep what the new schema keeps; they are refused (503) until it is stopped.
   */
  private fence(): void {
    const current = this.storedVersion();
    if (current <= this.known) return;
    const message = schemaMovedOn(current, this.known);
    if (!this.fenced) this.log(`store: ${message}`);
    this.fenced = true;
    throw new StoreUnavailableError(message);
  }

  private storedVersion(): number {
    return Number((this.sql('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as Row).v);
  }

  private version(): number {
    this.conn().exec(SCHEMA_TABLE);
    return this.storedVersion();
  }

  private migrate(migrations: readonly Migration[]): void {
    const db = this.conn();
    const where = `the database ${this.options.path}`;
    // Nothing to apply (every start but an upgrade's, and a threaded store's readers): no write lock taken.
    if (pendingMigrations(this.version(), migrations, where).length === 0) return;
    // The version is read again holding the write lock: a process that migrated meanwhile leaves nothing to apply.
    // That lock may take a while to get from an older process writing on: requests' busy timeout is not a migration's.
    db.pragma(`busy_timeout = ${MIGRATION_BUSY_MS}`);
    let applied: Migration[];
    try {
      applied = db
        .transaction(() => {
          const pending = pendingMigrations(this.storedVersion(), migrations, where);
          for (const m of pending) {
            for (const s of m.statements) db.exec(s);
            this.sql('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
          }
          return pending;
        })
        .immediate();
    } finally {
      db.pragma(`busy_timeout = ${this.options.busyTimeoutMs ?? 200}`);
    }
    for (const m of applied) this.log(appliedLine('store', m));
  }

  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(classify(this.log, 'read', err));
    }
  }

  /** A call in the next group transaction; what it adds to the rollups counts once its savepoint is released. */
  private write<T>(run: (delta: RollupDelta) => T): Promise<T> {
    return this.group.write(() => {
      const delta = new RollupDelta();
      const value = run(delta);
      this.rolled.merge(delta);
      return value;
    });
  }
}
