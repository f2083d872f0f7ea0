/*
 * The SQLite store as `serve` runs it: writes and slow reads off the thread that answers requests (spec sections 3
 * and 6). Three connections to the one file:
 * - the writer, a worker thread (worker.ts): every write, in the group commit (a transaction per turn of its event
 *   loop, a savepoint per call, WAL, synchronous=FULL, the rollups in the same commit); a call is answered once the
 *   commit holding it is done, and the commit's fsync no longer stops this thread;
 * - the figures reader, a worker thread: stats, /metrics data, a session's reports and export pages, read-only, each
 *   read given read_timeout_ms (then StoreUnavailableError: 503 with Retry-After); identical reads in flight are one;
 * - the reader, on this thread, read-only: the small reads requests make (a session by its token, a room, a unit's
 *   rows), indexed lookups of some microseconds. Its busy timeout is 0: it never waits for a lock, it answers
 *   unavailable at once (WAL readers meet no lock but while a crashed process's log is recovered). A thread of their
 *   own cost these reads more than they cost here (D-132).
 * WAL readers never block the writer nor it them, so a slow read holds up no write, and a read made after a write's
 * answer sees that write (the answer leaves after the commit).
 *
 * Units of work (updateSession, joinRoom): `decide` is the caller's function and cannot cross threads. The unit's
 * rows are read, `decide` runs here, and the decision goes to the writer with the rows it was decided on; the
 * writer applies it only if those rows are unchanged inside the call's savepoint, else answers with the rows as
 * they are and `decide` runs again on them. unitOrder.ts keeps this process's units from changing each other's
 * rows meanwhile, so a second round means another process (or the sweep) wrote; that round is decided while the
 * writer holds the write lock (it asks for the decision from inside its transaction), so there is no third.
 */
import { existsSync } from 'node:fs';
import { CommitTimes } from '../common/commitTimes';
import { claiming } from '../common/nonce';
import { exportPages, sessionReplay } from '../common/figures';
import { SingleFlight } from '../common/singleFlight';
import { retainInSteps, stepsUntilShort, type RetentionCounts } from '../common/retention';
import {
  StoreUnavailableError,
  type ExportFilter,
  type HawkNonceClaim,
  type HawkSessionRecord,
  type JoinContext,
  type JoinDecision,
  type MetricsData,
  type RoomRecord,
  type SeenKey,
  type SessionDecision,
  type SessionRecord,
  type SessionReplay,
  type Stats,
  type StatsQuery,
  type Store,
  type StoreOptions,
  type StoredReport,
  type UpdateOptions,
} from '../contract';
import { SqliteStore, type SessionContext } from './store';
import { StoreThread } from './thread';
import { UnitOrder } from './unitOrder';
import type { Applied, Ops, SessionApply } from './worker';

const DEFAULT_READ_TIMEOUT_MS = 5000;

export interface ThreadedSqliteStoreOptions extends StoreOptions {
  /** The database file. */
  path: string;
  /** How long a write waits for a lock held by another process before answering 'unavailable' (default 200 ms). */
  busyTimeoutMs?: number;
  /** Longest a read of figures may take (default 5000 ms); then the store answers unavailable for it. */
  readTimeoutMs?: number;
}

interface Threads {
  /** Absent when opened read-only. */
  writer?: StoreThread;
  figures: StoreThread;
}

/** What every call answers once close() began (or before open()). */
const closed = () => new StoreUnavailableError('the store is closed');

export class ThreadedSqliteStore implements Store {
  private threads?: Threads;
  /** The requests' small reads, on this thread. */
  private reader?: SqliteStore;
  private closing = false;
  private readonly order = new UnitOrder();
  /** Units between their read and their answer: close() waits for them. */
  private readonly units = new Set<Promise<unknown>>();
  private readonly flights = new SingleFlight();
  private readonly commitTimes = new CommitTimes();
  private readonly log: (line: string) => void;
  private readonly readTimeoutMs: number;

  constructor(private readonly options: ThreadedSqliteStoreOptions) {
    this.log = options.log ?? (() => {});
    this.readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  }

  async open(): Promise<void> {
    // The writer first: it applies the migrations the readers then find done.
    await this.start(true);
  }

  async openReadOnly(): Promise<void> {
    await this.start(false);
  }

  async close(): Promise<void> {
    const threads = this.threads;
    if (!threads) return;
    // From here new calls are refused; units already started finish (their own calls still go through).
    this.closing = true;
    try {
      while (this.units.size > 0) await Promise.allSettled([...this.units]);
      // The readers close first and the writer last: the last connection to close checkpoints the WAL into the
      // database file and removes it, so a stopped store is one file (a thread ended with its connection open
      // would leave every report in the -wal). The writer commits what it was sent before closing.
      if (threads.figures.alive) await threads.figures.call('close', []).catch(() => {});
      await this.reader?.close();
      if (threads.writer?.alive) await threads.writer.call('close', []).catch(() => {});
      await Promise.all([threads.writer?.end(), threads.figures.end()]);
      // The last close could not fold the WAL in (a full disk, most often): nothing is lost, but say so.
      if (existsSync(`${this.options.path}-wal`)) {
        this.log(`store: SQLite ${this.options.path}: stopped with its -wal file kept (another process has the database open, or the last close could not fold it into the database file: a full disk?); every report is in it, and the next start reads it`);
      }
    } finally {
      this.threads = undefined;
      this.reader = undefined;
      this.closing = false;
    }
  }

  /** Runs a PRAGMA on the writer's connection (tests simulate a full disk or a read-only file with it). */
  pragma(text: string): Promise<unknown> {
    return this.write('pragma', [text]);
  }

  takeCommitTimes(): number[] {
    return this.commitTimes.take();
  }

  async schemaVersion(): Promise<number> {
    // Ready means every thread answers: a stopped writer makes the store unavailable, reads or not.
    const stopped = this.threads && Object.entries(this.threads).find(([, t]) => t && !t.alive);
    if (stopped) throw new StoreUnavailableError(`the SQLite store's ${stopped[0]} thread stopped`);
    return this.read((r) => r.schemaVersion());
  }

  storedSecret(): Promise<string | undefined> {
    return this.read((r) => r.storedSecret());
  }

  serverSecret(candidate: string): Promise<string> {
    return this.write('serverSecret', [candidate]);
  }

  // ---- writes -------------------------------------------------------------------------------------

  createHawkSession(r: HawkSessionRecord): Promise<void> {
    return this.write('createHawkSession', [r]);
  }

  touchHawkSession(idHmac: string, at: number): Promise<void> {
    return this.write('touchHawkSession', [idHmac, at]);
  }

  claimHawkNonce(c: HawkNonceClaim, at: number, windowMs: number): Promise<boolean> {
    return this.write('claimHawkNonce', [c, at, windowMs]);
  }

  /** The writer claims a unit's Hawk nonce in the unit's savepoint (see `claiming`). */
  readonly claimsNoncesInUnits = true;

  createRoom(r: RoomRecord): Promise<void> {
    return this.write('createRoom', [r]);
  }

  deleteRoom(token: string, at: number): Promise<void> {
    return this.write('deleteRoom', [token, at]);
  }

  /** Each step a write of its own, as retention's. */
  async expireSessions(now: number, stepRows?: number): Promise<number> {
    return stepsUntilShort(stepRows, (limit) => this.write('expireStep', [now, limit]));
  }

  /** Each step a write of its own: the writer takes other calls between them. */
  async retain(before: number, stepRows?: number): Promise<RetentionCounts> {
    return retainInSteps(stepRows, (limit) => this.write('retainStep', [before, limit]));
  }

  foldRollups(before: number, now: number): Promise<boolean> {
    return this.write('foldRollups', [before, now]);
  }

  // ---- units of work ------------------------------------------------------------------------------

  joinRoom<T>(room: string, decide: (ctx: JoinContext) => JoinDecision<T>): Promise<T | undefined> {
    return this.unit(() =>
      this.order.join(room, async () => {
        const ctx = await this.reading((r) => r.joinContext(room));
        return (
          ctx &&
          this.rounds(
            ctx,
            true,
            decide,
            (c, d) => this.call('writer', 'applyJoin', [room, c, { kind: 'apply', end: d.end, create: d.create }]),
            (token) => this.call('writer', 'askJoin', [room, token]),
            (d) => ({ kind: 'apply', end: d.end, create: d.create }),
          )
        );
      }),
    );
  }

  updateSession<T>(id: string, decide: (session: SessionRecord, seen: SeenKey) => SessionDecision<T>, options: UpdateOptions = {}): Promise<T | undefined> {
    const key = options.idempotencyKey;
    return this.unit(() =>
      this.order.session(id, async () => {
        const epoch = this.order.epoch;
        // The caller's own read of the session, if it has one, saves reading it again (the writer checks the decision).
        const known: SessionContext | undefined = options.known?.id === id ? { session: options.known, seen: { repeated: false } } : undefined;
        let ctx = known ?? (await this.reading((r) => r.sessionContext(id, key)));
        if (!ctx) return undefined;
        const room = ctx.session.room;
        await this.order.enter(room);
        try {
          // A join of the room ran while the rows were read (it may have ended this session): read them again.
          if (this.order.epoch !== epoch) ctx = await this.reading((r) => r.sessionContext(id, key));
          return (
            ctx &&
            (await this.rounds(
              ctx,
              ctx !== known,
              (c: SessionContext) => decide(c.session, c.seen),
              (c, d) => claiming(options.nonce, (nonce) => this.call('writer', 'applySession', [id, c, sessionApply(d), { idempotencyKey: key, nonce }])),
              (token) => claiming(options.nonce, (nonce) => this.call('writer', 'askSession', [id, token, { idempotencyKey: key, nonce }])),
              sessionApply,
            ))
          );
        } finally {
          this.order.leave(room);
        }
      }),
    );
  }

  // ---- reads --------------------------------------------------------------------------------------

  getHawkSession(idHmac: string): Promise<HawkSessionRecord | undefined> {
    return this.read((r) => r.getHawkSession(idHmac));
  }

  getRoom(token: string): Promise<RoomRecord | undefined> {
    return this.read((r) => r.getRoom(token));
  }

  countLiveRooms(ownerHmac: string, now: number): Promise<number> {
    return this.read((r) => r.countLiveRooms(ownerHmac, now));
  }

  openSessions(room: string): Promise<SessionRecord[]> {
    return this.read((r) => r.openSessions(room));
  }

  getSession(id: string): Promise<SessionRecord | undefined> {
    return this.read((r) => r.getSession(id));
  }

  sessionByToken(tokenHmac: string): Promise<SessionRecord | undefined> {
    return this.read((r) => r.sessionByToken(tokenHmac));
  }

  openSessionOf(room: string, participantHmac: string): Promise<SessionRecord | undefined> {
    return this.read((r) => r.openSessionOf(room, participantHmac));
  }

  // ---- figures: the figures reader, with read_timeout_ms ------------------------------------------

  sessionReports(id: string): Promise<StoredReport[]> {
    return this.figure('sessionReports', [id]);
  }

  sessionReplay(id: string): Promise<SessionReplay | undefined> {
    return sessionReplay(this, id);
  }

  exportReports(filter: ExportFilter): AsyncIterable<StoredReport> {
    return exportPages((after) => this.figure('exportPage', [filter, after]));
  }

  stats(q: StatsQuery): Promise<Stats> {
    return this.flights.run(`stats ${q.since} ${q.until}`, () => this.figure('stats', [q]));
  }

  metricsData(buckets: readonly number[]): Promise<MetricsData> {
    return this.flights.run(`metrics ${buckets.join(' ')}`, () => this.figure('metricsData', [[...buckets]]));
  }

  // ---- machinery ----------------------------------------------------------------------------------

  private async start(writable: boolean): Promise<void> {
    if (this.threads) return;
    const setup = { path: this.options.path, ...(this.options.busyTimeoutMs !== undefined ? { busyTimeoutMs: this.options.busyTimeoutMs } : {}) };
    const hooks = { log: this.log, commits: (seconds: number[]) => this.commitTimes.add(seconds) };
    const started: StoreThread[] = [];
    const thread = (name: string) => {
      const t = new StoreThread(name, setup, hooks);
      started.push(t);
      return t;
    };
    const reader = new SqliteStore({ path: this.options.path, busyTimeoutMs: 0, log: this.log });
    try {
      const writer = writable ? thread('writer') : undefined;
      await writer?.call('open', []);
      const figures = thread('figures reader');
      await Promise.all([reader.openReadOnly(), figures.call('openReadOnly', [])]);
      this.threads = { writer, figures };
      this.reader = reader;
    } catch (err) {
      await Promise.all([...started.map((t) => t.end()), reader.close()]);
      throw err;
    }
  }

  /** A call to one of the threads (a unit's own calls: also while closing); a figure gets read_timeout_ms. */
  private call<K extends keyof Ops>(thread: keyof Threads, op: K, args: Parameters<Ops[K]>): Promise<Awaited<ReturnType<Ops[K]>>> {
    try {
      if (!this.threads) throw closed();
      const t = this.threads[thread];
      if (!t) throw new StoreUnavailableError('the store is open read-only');
      return t.call(op, args, thread === 'figures' ? this.readTimeoutMs : undefined);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A call of one of the store's methods: refused once close() began. */
  private refusedWhileClosing<K extends keyof Ops>(thread: keyof Threads, op: K, args: Parameters<Ops[K]>) {
    return this.closing ? Promise.reject(closed()) : this.call(thread, op, args);
  }

  private write<K extends keyof Ops>(op: K, args: Parameters<Ops[K]>) {
    return this.refusedWhileClosing('writer', op, args);
  }

  /** A small read on this thread's connection: refused once close() began. */
  private read<T>(run: (reader: SqliteStore) => Promise<T>): Promise<T> {
    return this.closing ? Promise.reject(closed()) : this.reading(run);
  }

  /** A small read on this thread's connection (a unit's own: also while closing). */
  private reading<T>(run: (reader: SqliteStore) => Promise<T>): Promise<T> {
    return this.reader ? run(this.reader) : Promise.reject(closed());
  }

  private figure<K extends keyof Ops>(op: K, args: Parameters<Ops[K]>) {
    return this.refusedWhileClosing('figures', op, args);
  }

  /** A unit in flight, for close() to wait on. */
  private unit<T>(run: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(closed());
    const p = run();
    this.units.add(p);
    const done = () => this.units.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Decides on `ctx` and asks the writer to apply it. If the rows changed meanwhile (another process wrote), the
   * second and last round is decided while the writer holds the write lock: the writer reads the rows and asks for
   * the decision inside its transaction (`ask`), so nothing can change them in between (D-135). `read`: whether
   * `ctx` was read from the store (else it is what the caller knew, and a refusal on it goes to that second round).
   */
  private async rounds<C, T, D extends { kind: 'refuse'; value: T } | { kind: 'apply'; value: T }>(
    ctx: C,
    read: boolean,
    decide: (ctx: C) => D,
    apply: (ctx: C, d: Extract<D, { kind: 'apply' }>) => Promise<Applied<C>>,
    ask: (token: number) => Promise<'applied' | 'refused' | undefined>,
    toWire: (d: Extract<D, { kind: 'apply' }>) => Record<string, unknown>,
  ): Promise<T | undefined> {
    const d = decide(ctx);
    // A refusal writes nothing: it stands as read. On what the caller knew (`read` false) it is decided again below.
    if (d.kind === 'refuse' && read) return d.value;
    if (d.kind === 'apply') {
      const outcome = await apply(ctx, d as Extract<D, { kind: 'apply' }>);
      if (outcome === 'applied') return d.value;
      if (outcome === undefined) return undefined;
    }
    let last: D | undefined;
    const asked = await this.threads!.writer!.asking(
      (rows) => {
        last = decide(rows as C);
        return last.kind === 'refuse' ? { kind: 'refuse' } : { ...toWire(last as Extract<D, { kind: 'apply' }>), kind: 'apply' };
      },
      ask,
    );
    return asked === undefined ? undefined : last!.value;
  }
}

function sessionApply(d: Extract<SessionDecision<unknown>, { kind: 'apply' }>): SessionApply {
  return { kind: 'apply', ...(d.changes ? { changes: d.changes } : {}), ...(d.report ? { report: d.report } : {}) };
}
