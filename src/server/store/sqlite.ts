// The embedded store: one SQLite file (better-sqlite3), WAL, synchronous=FULL. Writes wait for the next
// turn of the event loop and go to disk together (group commit): one transaction, a savepoint per call,
// nobody answered before the commit that holds their writes.
import type BetterSqlite3 from 'better-sqlite3';
import { ROOM_STATES, type RoomState } from '../../../machines/domain';
import { loadBetterSqlite3 } from '../peers';
import { percentile } from './percentile';
import { SQLITE_MIGRATIONS } from './sqliteMigrations';
import {
  StoreUnavailableError,
  type EndReason,
  type ExportFilter,
  type HawkNonceClaim,
  type HawkSessionRecord,
  type JoinContext,
  type JoinDecision,
  type MetricsData,
  type Migration,
  type ModelSnapshot,
  type NewReport,
  type RoomRecord,
  type RoomStore,
  type SessionDecision,
  type SessionRecord,
  type Stats,
  type StatsQuery,
  type StoreOptions,
  type StoredReport,
  type Verdict,
} from './types';
import { hawkFromRow, reportFromRow, roomFromRow, sessionFromRow, type Row } from './rows';

export interface SqliteStoreOptions extends StoreOptions {
  /** The database file. */
  path: string;
  /** How long a write waits for a lock held by another process before answering 'unavailable' (default 200 ms). */
  busyTimeoutMs?: number;
  migrations?: readonly Migration[];
}

type Db = BetterSqlite3.Database;

/** SQLite result codes that mean "cannot serve now" rather than a bug. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOTADB|CORRUPT|PERM|AUTH)/;

interface Pending {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class SqliteStore implements RoomStore {
  private db?: Db;
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly log: (line: string) => void;
  /** Commit durations (seconds) since the last call of takeCommitTimes, for the metrics. */
  private commitTimes: number[] = [];
  /** When old Hawk nonce claims were last deleted (at most once a second, inside a claim's write). */
  private noncesPurgedAt = 0;

  constructor(private readonly options: SqliteStoreOptions) {
    this.log = options.log ?? (() => {});
  }

  async open(): Promise<void> {
    const Database = loadBetterSqlite3();
    try {
      const db = new Database(this.options.path, { timeout: this.options.busyTimeoutMs ?? 200 });
      this.db = db;
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      this.migrate(this.options.migrations ?? SQLITE_MIGRATIONS);
    } catch (err) {
      const e = this.classify('open', err);
      // better-sqlite3's own checks (a missing folder) and refusals name no file: say which one.
      throw e instanceof Error && !(e instanceof StoreUnavailableError) ? Object.assign(e, { message: `SQLite store ${this.options.path}: ${e.message}` }) : e;
    }
  }

  async close(): Promise<void> {
    if (this.queue.length > 0) this.flush();
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

  /** Commit durations (seconds) since the last call. */
  takeCommitTimes(): number[] {
    const t = this.commitTimes;
    this.commitTimes = [];
    return t;
  }

  async serverSecret(candidate: string): Promise<string> {
    return this.write(() => {
      this.stmt("INSERT INTO settings (name, value) VALUES ('secret', ?) ON CONFLICT (name) DO NOTHING").run(candidate);
      return String((this.stmt("SELECT value FROM settings WHERE name = 'secret'").get() as Row).value);
    });
  }

  // ---- writes -------------------------------------------------------------------------------------

  createHawkSession(r: HawkSessionRecord): Promise<void> {
    return this.write(() => {
      this.stmt('INSERT INTO hawk_sessions (id_hmac, key, created_at, last_used_at) VALUES (?, ?, ?, ?)').run(r.idHmac, r.key, r.createdAt, r.lastUsedAt);
    });
  }

  touchHawkSession(idHmac: string, at: number): Promise<void> {
    return this.write(() => {
      this.stmt('UPDATE hawk_sessions SET last_used_at = ? WHERE id_hmac = ? AND last_used_at < ?').run(at, idHmac, at);
    });
  }

  /** Inside the group commit: the claim is on disk before the request it lets through is answered. */
  claimHawkNonce(c: HawkNonceClaim, at: number, windowMs: number): Promise<boolean> {
    return this.write(() => {
      if (at - this.noncesPurgedAt >= 1000) {
        this.stmt('DELETE FROM hawk_nonces WHERE claimed_at < ?').run(at - windowMs);
        this.noncesPurgedAt = at;
      }
      return this.stmt('INSERT INTO hawk_nonces (id_hmac, nonce, ts, claimed_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(c.idHmac, c.nonce, c.ts, at).changes === 1;
    });
  }

  createRoom(r: RoomRecord): Promise<void> {
    return this.write(() => {
      this.stmt('INSERT INTO rooms (token, name, owner, owner_hmac, max_size, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.token, r.name, r.owner, r.ownerHmac, r.maxSize, r.createdAt, r.expiresAt);
    });
  }

  deleteRoom(token: string, at: number): Promise<void> {
    return this.write(() => {
      this.stmt('UPDATE rooms SET deleted_at = ? WHERE token = ? AND deleted_at IS NULL').run(at, token);
      this.stmt(
        "UPDATE sessions SET ended_at = ?, end_reason = 'deleted', end_state = state, display_name = NULL WHERE room = ? AND ended_at IS NULL",
      ).run(at, token);
    });
  }

  joinRoom<T>(room: string, decide: (ctx: JoinContext) => JoinDecision<T>): Promise<T | undefined> {
    return this.write(() => {
      const roomRow = this.stmt('SELECT * FROM rooms WHERE token = ?').get(room) as Row | undefined;
      if (!roomRow) return undefined;
      const open = (this.stmt('SELECT * FROM sessions WHERE room = ? AND ended_at IS NULL ORDER BY joined_at, id').all(room) as Row[]).map(sessionFromRow);
      const d = decide({ room: roomFromRow(roomRow), open });
      if (d.kind === 'refuse') return d.value;
      for (const e of d.end) this.endSession(e.id, e.reason, e.at);
      this.insertSession(d.create);
      return d.value;
    });
  }

  updateSession<T>(id: string, decide: (session: SessionRecord) => SessionDecision<T>): Promise<T | undefined> {
    return this.write(() => {
      const row = this.stmt('SELECT * FROM sessions WHERE id = ?').get(id) as Row | undefined;
      if (!row) return undefined;
      const session = sessionFromRow(row);
      const d = decide(session);
      if (d.kind === 'refuse') return d.value;
      const c = d.changes ?? {};
      const next: SessionRecord = { ...session, ...c };
      if (d.report) {
        next.reportCount = session.reportCount + 1;
        this.insertReport(session, next.reportCount, d.report);
      }
      const ended = next.endedAt !== undefined;
      this.stmt(
        `UPDATE sessions SET expires_at = ?, state = ?, connections = ?, send_streams = ?, recv_streams = ?, first_reached = ?,
           report_count = ?, non_conformant = ?, ended_at = ?, end_reason = ?, end_state = ?, display_name = ? WHERE id = ?`,
      ).run(
        next.expiresAt,
        next.snapshot.state,
        next.snapshot.connections,
        next.snapshot.sendStreams,
        next.snapshot.recvStreams,
        JSON.stringify(next.firstReached),
        next.reportCount,
        next.nonConformantCount,
        next.endedAt ?? null,
        next.endReason ?? null,
        ended ? (next.endState ?? next.snapshot.state) : null,
        ended ? null : (next.displayName ?? null),
        id,
      );
      return d.value;
    });
  }

  expireSessions(now: number): Promise<number> {
    return this.write(
      () =>
        this.stmt("UPDATE sessions SET ended_at = expires_at, end_reason = 'expired', end_state = state, display_name = NULL WHERE ended_at IS NULL AND expires_at <= ?")
          .run(now).changes,
    );
  }

  retain(before: number): Promise<{ reports: number; sessions: number }> {
    return this.write(() => {
      const reports = this.stmt('DELETE FROM reports WHERE received_at < ?').run(before).changes;
      const sessions = this.stmt('DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?').run(before).changes;
      this.stmt('DELETE FROM rooms WHERE (expires_at < ? OR deleted_at < ?) AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.room = rooms.token)').run(before, before);
      // After the rooms: a Hawk session whose last room just went goes in the same run.
      this.stmt(
        `DELETE FROM hawk_sessions WHERE last_used_at < ?
           AND NOT EXISTS (SELECT 1 FROM rooms r WHERE r.owner_hmac = hawk_sessions.id_hmac)
           AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.participant_hmac = hawk_sessions.id_hmac AND s.ended_at IS NULL)`,
      ).run(before);
      return { reports, sessions };
    });
  }

  // ---- reads --------------------------------------------------------------------------------------

  getHawkSession(idHmac: string): Promise<HawkSessionRecord | undefined> {
    return this.read(() => {
      const r = this.stmt('SELECT * FROM hawk_sessions WHERE id_hmac = ?').get(idHmac) as Row | undefined;
      return r ? hawkFromRow(r) : undefined;
    });
  }

  getRoom(token: string): Promise<RoomRecord | undefined> {
    return this.read(() => {
      const r = this.stmt('SELECT * FROM rooms WHERE token = ?').get(token) as Row | undefined;
      return r ? roomFromRow(r) : undefined;
    });
  }

  openSessions(room: string): Promise<SessionRecord[]> {
    return this.read(() => (this.stmt('SELECT * FROM sessions WHERE room = ? AND ended_at IS NULL ORDER BY joined_at, id').all(room) as Row[]).map(sessionFromRow));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.read(() => {
      const r = this.stmt('SELECT * FROM sessions WHERE id = ?').get(id) as Row | undefined;
      return r ? sessionFromRow(r) : undefined;
    });
  }

  sessionByToken(tokenHmac: string): Promise<SessionRecord | undefined> {
    return this.read(() => {
      const r = this.stmt('SELECT * FROM sessions WHERE token_hmac = ?').get(tokenHmac) as Row | undefined;
      return r ? sessionFromRow(r) : undefined;
    });
  }

  openSessionOf(room: string, participantHmac: string): Promise<SessionRecord | undefined> {
    return this.read(() => {
      const r = this.stmt('SELECT * FROM sessions WHERE room = ? AND participant_hmac = ? AND ended_at IS NULL').get(room, participantHmac) as Row | undefined;
      return r ? sessionFromRow(r) : undefined;
    });
  }

  sessionReports(id: string): Promise<StoredReport[]> {
    return this.read(() => (this.stmt('SELECT * FROM reports WHERE session = ? ORDER BY seq').all(id) as Row[]).map(reportFromRow));
  }

  async *exportReports(filter: ExportFilter): AsyncIterable<StoredReport> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.room !== undefined) {
      where.push('room = ?');
      params.push(filter.room);
    }
    if (filter.since !== undefined) {
      where.push('received_at >= ?');
      params.push(filter.since);
    }
    // Pages by id so a long export never holds a read transaction open across awaits.
    let after = 0;
    for (;;) {
      const page = await this.read(
        () =>
          this.conn()
            .prepare(`SELECT * FROM reports WHERE id > ?${where.length ? ` AND ${where.join(' AND ')}` : ''} ORDER BY id LIMIT 1000`)
            .all(after, ...params) as Row[],
      );
      if (page.length === 0) return;
      for (const r of page) yield reportFromRow(r);
      after = Number(page[page.length - 1].id);
    }
  }

  stats(q: StatsQuery): Promise<Stats> {
    return this.read(() => {
      const db = this.conn();
      const since = q.since ?? 0;
      const until = q.until ?? Number.MAX_SAFE_INTEGER;
      const one = (sql: string, ...p: unknown[]) => Number((this.stmt(sql).get(...p) as Row).n);
      const started = one('SELECT COUNT(*) AS n FROM sessions WHERE joined_at >= ? AND joined_at < ?', since, until);
      const ended = one('SELECT COUNT(*) AS n FROM sessions WHERE ended_at >= ? AND ended_at < ?', since, until);
      const open = one('SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL');
      const funnel = Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as Record<RoomState, number>;
      const media: number[] = [];
      for (const r of this.stmt('SELECT joined_at, first_reached FROM sessions WHERE joined_at >= ? AND joined_at < ?').iterate(since, until) as Iterable<Row>) {
        const first = JSON.parse(String(r.first_reached)) as Partial<Record<RoomState, number>>;
        for (const s of ROOM_STATES) if (first[s] !== undefined) funnel[s]++;
        if (first.sendrecv !== undefined) media.push((first.sendrecv - Number(r.joined_at)) / 1000);
      }
      media.sort((a, b) => a - b);
      const transitions = (
        db
          .prepare(
            `SELECT from_state AS "from", state AS "to", event, COUNT(*) AS count FROM reports
             WHERE received_at >= ? AND received_at < ? GROUP BY from_state, state, event ORDER BY count DESC, 1, 2, 3`,
          )
          .all(since, until) as Row[]
      ).map((r) => ({ from: String(r.from), to: String(r.to), event: String(r.event), count: Number(r.count) }));
      const endedBy = (
        db
          .prepare('SELECT end_state AS state, end_reason AS reason, COUNT(*) AS count FROM sessions WHERE ended_at >= ? AND ended_at < ? GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2')
          .all(since, until) as Row[]
      ).map((r) => ({ state: String(r.state), reason: r.reason as EndReason, count: Number(r.count) }));
      const nonConformance = (
        db
          .prepare(
            `SELECT verdict, from_state, event, expected, state, connections, send_streams, recv_streams, COUNT(*) AS count, MIN(session) AS example
             FROM reports WHERE verdict <> 'conformant' AND received_at >= ? AND received_at < ?
             GROUP BY verdict, from_state, event, expected, state, connections, send_streams, recv_streams ORDER BY count DESC, verdict`,
          )
          .all(since, until) as Row[]
      ).map((r) => ({
        verdict: r.verdict as Verdict,
        from: String(r.from_state),
        event: String(r.event),
        expected: r.expected === null ? null : (JSON.parse(String(r.expected)) as ModelSnapshot),
        reported: { state: String(r.state), connections: Number(r.connections), sendStreams: Number(r.send_streams), recvStreams: Number(r.recv_streams) },
        count: Number(r.count),
        exampleSession: String(r.example),
      }));
      return {
        since: q.since === undefined ? null : new Date(q.since).toISOString(),
        until: q.until === undefined ? null : new Date(q.until).toISOString(),
        sessions: { started, ended, open },
        funnel,
        transitions,
        ended: endedBy,
        timeToMedia: { count: media.length, p50: percentile(media, 0.5), p90: percentile(media, 0.9), p99: percentile(media, 0.99) },
        nonConformance,
      };
    });
  }

  metricsData(buckets: readonly number[]): Promise<MetricsData> {
    return this.read(() => {
      const reportTotals = (this.stmt('SELECT from_state, event, state, verdict, count FROM report_totals').all() as Row[]).map((r) => ({
        from: String(r.from_state),
        event: String(r.event),
        state: String(r.state),
        verdict: r.verdict as Verdict,
        count: Number(r.count),
      }));
      const openSessions = (this.stmt('SELECT state, COUNT(*) AS count FROM sessions WHERE ended_at IS NULL GROUP BY state').all() as Row[]).map((r) => ({
        state: r.state as RoomState,
        count: Number(r.count),
      }));
      const endedSessions = (this.stmt('SELECT end_state, end_reason, COUNT(*) AS count FROM sessions WHERE ended_at IS NOT NULL GROUP BY 1, 2').all() as Row[]).map((r) => ({
        state: String(r.end_state),
        reason: r.end_reason as EndReason,
        count: Number(r.count),
      }));
      const counts = buckets.map(() => 0);
      let count = 0;
      let sum = 0;
      for (const r of this.stmt("SELECT joined_at, json_extract(first_reached, '$.sendrecv') AS media FROM sessions WHERE json_extract(first_reached, '$.sendrecv') IS NOT NULL").iterate() as Iterable<Row>) {
        const seconds = (Number(r.media) - Number(r.joined_at)) / 1000;
        count++;
        sum += seconds;
        buckets.forEach((le, i) => {
          if (seconds <= le) counts[i]++;
        });
      }
      return { reportTotals, openSessions, endedSessions, timeToMedia: { buckets: buckets.map((le, i) => ({ le, count: counts[i] })), count, sum } };
    });
  }

  // ---- machinery ----------------------------------------------------------------------------------

  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  /** A prepared statement, prepared once per text (preparing costs more than running most of these). */
  private stmt(sql: string): BetterSqlite3.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.conn().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private conn(): Db {
    if (!this.db) throw new StoreUnavailableError('the store is closed');
    return this.db;
  }

  private version(): number {
    const db = this.conn();
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    return Number((this.stmt('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as Row).v);
  }

  private migrate(migrations: readonly Migration[]): void {
    const db = this.conn();
    const current = this.version();
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (current > known) throw new Error(`the database's schema version ${current} is newer than this server knows (${known}): upgrade loop-room-state`);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (m.version <= current) continue;
      db.transaction(() => {
        for (const s of m.statements) db.exec(s);
        this.stmt('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }).immediate();
      this.log(`store: applied migration ${m.version} (${m.name})`);
    }
  }

  private insertSession(s: SessionRecord): void {
    this.stmt(
        `INSERT INTO sessions (id, room, kind, participant_hmac, token_hmac, display_name, owner, joined_at, expires_at, state,
           connections, send_streams, recv_streams, first_reached, report_count, non_conformant)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        s.id,
        s.room,
        s.kind,
        s.participantHmac,
        s.tokenHmac,
        s.displayName ?? null,
        s.owner ? 1 : 0,
        s.joinedAt,
        s.expiresAt,
        s.snapshot.state,
        s.snapshot.connections,
        s.snapshot.sendStreams,
        s.snapshot.recvStreams,
        JSON.stringify(s.firstReached),
        s.reportCount,
        s.nonConformantCount,
      );
  }

  private endSession(id: string, reason: EndReason, at: number): void {
    this.stmt('UPDATE sessions SET ended_at = ?, end_reason = ?, end_state = state, display_name = NULL WHERE id = ? AND ended_at IS NULL')
      .run(at, reason, id);
  }

  private insertReport(session: SessionRecord, seq: number, r: NewReport): void {
    const f = r.fields;
    this.stmt(
      `INSERT INTO reports (session, seq, room, received_at, from_state, event, state, connections, send_streams, recv_streams, verdict, expected)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(session.id, seq, session.room, r.receivedAt, r.fromState, f.event, f.state, f.connections, f.sendStreams, f.recvStreams, r.verdict, r.expected ? JSON.stringify(r.expected) : null);
    this.stmt(
      `INSERT INTO report_totals (from_state, event, state, verdict, count) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (from_state, event, state, verdict) DO UPDATE SET count = count + 1`,
    ).run(r.labels.from, r.labels.event, r.labels.state, r.labels.verdict);
  }

  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(this.classify('read', err));
    }
  }

  private write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** One transaction for everything queued: a savepoint per call, one commit, then the answers. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    const started = process.hrtime.bigint();
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let db: Db;
    try {
      db = this.conn();
      this.stmt('BEGIN IMMEDIATE').run();
    } catch (err) {
      const e = this.unavailable('begin', err);
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) {
      try {
        this.stmt('SAVEPOINT call').run();
      } catch (err) {
        outcomes.push({ ok: false, error: this.classify('savepoint', err) });
        continue;
      }
      try {
        outcomes.push({ ok: true, value: p.run() });
        this.stmt('RELEASE call').run();
      } catch (err) {
        outcomes.push({ ok: false, error: this.classify('write', err) });
        try {
          db.exec('ROLLBACK TO call');
          db.exec('RELEASE call');
        } catch {
          // The transaction is gone; the commit below fails and everybody gets 'unavailable'.
        }
      }
    }
    try {
      this.stmt('COMMIT').run();
    } catch (err) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // nothing more to undo
      }
      const e = this.unavailable('commit', err);
      for (const p of batch) p.reject(e);
      return;
    }
    this.commitTimes.push(Number(process.hrtime.bigint() - started) / 1e9);
    if (this.commitTimes.length > 10_000) this.commitTimes.splice(0, 5_000);
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }

  private classify(what: string, err: unknown): unknown {
    if (err instanceof StoreUnavailableError) return err;
    const code = String((err as { code?: unknown }).code ?? '');
    return UNAVAILABLE.test(code) ? this.unavailable(what, err) : err;
  }

  private unavailable(what: string, err: unknown): StoreUnavailableError {
    if (err instanceof StoreUnavailableError) return err;
    const code = String((err as { code?: unknown }).code ?? (err as Error)?.name ?? 'error');
    // Name the file, and for a lock the wait it gave up after: the operator's first two questions.
    const busy = /^SQLITE_(BUSY|LOCKED)/.test(code) ? `, after the busy timeout of ${this.options.busyTimeoutMs ?? 200} ms` : '';
    this.log(`store: SQLite ${this.options.path}: ${what} failed (${code}${busy})`);
    return new StoreUnavailableError(`the SQLite store ${this.options.path} is unavailable (${code}${busy})`, err);
  }
}
