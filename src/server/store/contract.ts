/*
 * The room server's store contract, in two parts:
 * - `RoomStore`: rooms, sessions and Hawk sessions, what the API's requests read and change;
 * - `Figures`: what the server reports about the stored data (stats, /metrics data, export, one session's
 *   reports), the only part metrics.ts and the traffic handler see.
 * A store implements both (`Store`), so that several stateless server processes can share one database
 * (SQLite for one process, PostgreSQL for many). What changed between versions: docs/server.md.
 *
 * Contract (keep stable; a change must stay compatible):
 * - Every method is async. A store that cannot do its job (file read-only, lock held, disk full,
 *   connection lost) rejects with `StoreUnavailableError`; nothing of that call may be half-written.
 *   Any other rejection is a programming error.
 * - A write resolves only once it is durable (committed and synced). Concurrent writes may share one
 *   commit (group commit); each call's writes must still be all-or-nothing on their own (a savepoint
 *   per call in SQLite, a transaction per call or savepoint in PostgreSQL).
 * - `updateSession` and `joinRoom` are units of work: the store reads the current rows, calls the
 *   caller's synchronous, pure `decide` function with them, and applies what it returns, all in one
 *   atomic step. Calls on the same session (updateSession) or room (joinRoom) are serialized: the second
 *   call's `decide` sees the first call's result (SQLite: one writer; PostgreSQL: SELECT ... FOR UPDATE on
 *   the session/room row). `decide` may be called again on a retry; it must not have side effects.
 * - Times are epoch milliseconds. Secrets are never stored in clear except the Hawk key (needed to verify
 *   MACs): Basic session tokens and Hawk ids are stored as HMACs computed by the server (`*Hmac` fields).
 * - Schema changes are versioned migrations (`Migration`), applied in order at `open()`, each once,
 *   recorded in a table of applied versions. A store refuses a database whose version is newer than it knows.
 * - `reportTotals` keys are label values already bounded by the server (known names or 'other').
 */
import type { RoomCounters, RoomState } from '../../../machines/domain';
import type { PathCount, StateFigures } from '../../traffic/wire';
import type { RetentionCounts } from './common/retention';

export type Verdict = 'conformant' | 'rejected-event' | 'wrong-state' | 'wrong-counters' | 'unknown-event' | 'unknown-state';
export const VERDICTS: readonly Verdict[] = ['conformant', 'rejected-event', 'wrong-state', 'wrong-counters', 'unknown-event', 'unknown-state'];

export type EndReason = 'left' | 'expired' | 'rejoined' | 'deleted';
export const END_REASONS: readonly EndReason[] = ['left', 'expired', 'rejoined', 'deleted'];

export type ParticipantKind = 'hawk' | 'basic';

export { NonceReplayedError, StoreUnavailableError } from './errors';

/** One schema version: statements run in one transaction, then `version` is recorded. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

export interface HawkSessionRecord {
  /** HMAC of the Hawk id (the id itself is derived from the session token, a secret). */
  idHmac: string;
  /** The Hawk key (hex), kept to verify MACs. */
  key: string;
  createdAt: number;
  /** Last authenticated request (at most the server's touch interval behind); createdAt until then. */
  lastUsedAt: number;
}

/** One Hawk request's replay key. `nonce` and `ts` are the client's, as sent (Hawk limits them to printable characters). */
export interface HawkNonceClaim {
  idHmac: string;
  nonce: string;
  ts: string;
}

export interface RoomRecord {
  token: string;
  name: string;
  owner: string;
  /** HMAC of the owner's Hawk id. */
  ownerHmac: string;
  maxSize: number;
  createdAt: number;
  expiresAt: number;
  /** Set once the owner deleted it; a deleted room answers as unknown. */
  deletedAt?: number;
}

export interface ModelSnapshot extends RoomCounters {
  state: RoomState;
}

export interface SessionRecord {
  /** Public id (also the roomConnectionId). */
  id: string;
  room: string;
  kind: ParticipantKind;
  /** Who the participant is: HMAC of the Hawk id, or of the session token for a standalone join. */
  participantHmac: string;
  /** HMAC of the sessionToken this join answered (Basic credentials of this session). */
  tokenHmac: string;
  /** Present while the session is open; removed when it ends. */
  displayName?: string;
  /**
   * The clientMaxSize the join announced: the most participants this client can show; it bounds the room while the
   * session is open (loop-server's rule). Absent for sessions stored before schema version 9: no bound.
   */
  clientMaxSize?: number;
  owner: boolean;
  joinedAt: number;
  /** Participation expiry (extended by every authenticated request of the participant). */
  expiresAt: number;
  endedAt?: number;
  endReason?: EndReason;
  /** State when it ended (set with endedAt). */
  endState?: RoomState;
  snapshot: ModelSnapshot;
  /** First time (ms) the session reached each state, by its reports. */
  firstReached: Partial<Record<RoomState, number>>;
  /** Reports stored so far (also the last report's seq). */
  reportCount: number;
  nonConformantCount: number;
  /** When the session entered its current state (`snapshot.state`): its join, then the report that changed the state. Kept by the store. */
  stateSince: number;
  /**
   * The states the session was in, in order from its first, a state repeated only when the session left it and came
   * back. Kept by the store, at most PATH_MAX_STATES + 1 long (a state past the cut only tells that the path went on).
   */
  path: RoomState[];
}

/** A session to create: the store adds what it keeps (in its first state since its join). */
export type NewSession = Omit<SessionRecord, 'stateSince' | 'path'>;

export interface StatusFields {
  event: string;
  state: string;
  connections: number;
  sendStreams: number;
  recvStreams: number;
}

export interface NewReport {
  receivedAt: number;
  /** The session's state before this report (metrics' `from`). */
  fromState: RoomState;
  fields: StatusFields;
  verdict: Verdict;
  /** The machine's answer, when it differs from the report. */
  expected?: ModelSnapshot;
  /** Bounded label values for the running totals. */
  labels: { from: string; event: string; state: string; verdict: Verdict };
}

export interface StoredReport {
  room: string;
  session: string;
  seq: number;
  receivedAt: number;
  fromState: RoomState;
  fields: StatusFields;
  verdict: Verdict;
  expected?: ModelSnapshot;
}

export interface UpdateOptions {
  /** The client's Idempotency-Key of the report this unit of work may append. */
  idempotencyKey?: string;
  /**
   * The session as the caller read it just before (e.g. to authenticate). A store that decides outside its write
   * transaction may decide the first round on it, with no key seen, instead of reading again: the decision is checked
   * against the rows it writes, as any round's, and a refusal is decided again on them.
   */
  known?: SessionRecord;
  /**
   * A Hawk request's nonce claim, for a store with `claimsNoncesInUnits` (others ignore it): claimed inside the
   * unit's transaction before anything else is written, as `claimHawkNonce` would. A claim made before fails the
   * unit with NonceReplayedError, nothing written. The store sets `claimed` once its claim is committed; a unit that
   * wrote nothing may leave it unset, and the caller claims it then.
   */
  nonce?: UnitNonce;
}

/** A nonce claim carried by a unit of work (see UpdateOptions.nonce). */
export interface UnitNonce {
  claim: HawkNonceClaim;
  at: number;
  windowMs: number;
  claimed?: boolean;
}

/**
 * What updateSession's `decide` learns of the idempotency key: whether a report with this key is stored for this
 * session already, and if so that report's fields (a repeat of the same report, or the key reused for another).
 */
export type SeenKey = { repeated: false } | { repeated: true; fields: StatusFields };

/** SeenKey from the stored report found under the key (a copy of its fields), or none. */
export const seenKey = (stored: StatusFields | undefined): SeenKey => (stored ? { repeated: true, fields: { ...stored } } : { repeated: false });

/** What `decide` asks of `updateSession`. */
export type SessionDecision<T> =
  | { kind: 'refuse'; value: T }
  | {
      kind: 'apply';
      value: T;
      /**
       * Fields to change on the session row. A new `snapshot.state` comes with the report that says so: the session
       * entered that state when the report was received.
       */
      changes?: Partial<Pick<SessionRecord, 'expiresAt' | 'snapshot' | 'firstReached' | 'nonConformantCount' | 'endedAt' | 'endReason' | 'endState'>>;
      /** A report to append (seq = reportCount + 1; reportCount grows by one). */
      report?: NewReport;
    };

export interface JoinContext {
  room: RoomRecord;
  /** Open sessions of the room, expired ones included (decide ends them). */
  open: SessionRecord[];
}

export type JoinDecision<T> =
  | { kind: 'refuse'; value: T }
  | { kind: 'apply'; value: T; end: Array<{ id: string; reason: EndReason; at: number }>; create: NewSession };

export interface ExportFilter {
  room?: string;
  /** Reports received at or after this time. */
  since?: number;
}

export interface StatsQuery {
  since?: number;
  until?: number;
}

export interface Stats {
  since: string | null;
  until: string | null;
  /**
   * The window is read in whole buckets of this many seconds: `since` rounded down, `until` rounded up. 60 (minutes),
   * or 3600 when an end is older than the minutes kept (`--minute-rollups-days`): that end rounds to its hour.
   */
  bucketSeconds: number;
  /** The window counted, after that rounding (null: open on that side). */
  counted: { since: string | null; until: string | null };
  sessions: { started: number; ended: number; open: number };
  /** Sessions (started in the window) that reached each state at least once. */
  funnel: Record<RoomState, number>;
  /**
   * `overflow`: the reports of the keys past the most a bucket keeps (GROUPS_MAX), from that state; their reported
   * state and event are not kept and read 'other'.
   */
  transitions: Array<{ from: string; to: string; event: string; count: number; overflow?: true }>;
  ended: Array<{ state: string; reason: EndReason; count: number }>;
  /** Reports received in the window by verdict. */
  verdicts: Array<{ verdict: Verdict; count: number }>;
  timeToMedia: {
    count: number;
    p50: number | null;
    p90: number | null;
    p99: number | null;
    /** How the percentiles are made: interpolated within the histogram's buckets (as Prometheus histogram_quantile). */
    percentiles: string;
    sumSeconds: number;
    /** Sessions per bucket (not cumulative), the last (le null) above every bound. */
    buckets: Array<{ le: number | null; count: number }>;
  };
  /**
   * `overflow`: the groups past the most a bucket keeps (GROUPS_MAX), by verdict and state before: their event, expected
   * and reported snapshots are not kept (event and reported state read 'other', counters 0, expected null).
   */
  nonConformance: Array<{ verdict: Verdict; from: string; event: string; expected: ModelSnapshot | null; reported: Omit<StatusFields, 'event'>; count: number; exampleSession: string; overflow?: true }>;
  /** The most frequent paths from init of the sessions that ended in the window (at most TOP_PATHS). */
  paths: PathCount[];
  /** Each state's entries, time spent (visits that ended in the window) and example sessions. */
  states: Record<RoomState, StateFigures>;
}

export interface MetricsData {
  /** Running totals of stored reports, by bounded labels (survive retention). */
  reportTotals: Array<{ from: string; event: string; state: string; verdict: Verdict; count: number }>;
  openSessions: Array<{ state: RoomState; count: number }>;
  endedSessions: Array<{ state: string; reason: EndReason; count: number }>;
  /** Join to first `sendrecv`, cumulative counts at each bound of `buckets` (seconds), plus +Inf as count. */
  timeToMedia: { buckets: Array<{ le: number; count: number }>; count: number; sum: number };
}

/** Rooms, sessions and Hawk sessions: what the API's requests read and change. */
export interface RoomStore {
  /** Apply pending migrations; open connections. */
  open(): Promise<void>;
  /**
   * Open to read only (export): nothing is migrated or written. A database at an older schema version is read as it
   * is (the reports' columns are version 1's); a newer one, or one that is not a loop-room-state database, is refused
   * with a message saying so.
   */
  openReadOnly(): Promise<void>;
  close(): Promise<void>;
  /** Schema version now in effect. */
  schemaVersion(): Promise<number>;
  /**
   * The server secret (HMAC key of tokens and ids) shared by every process on this database: the stored
   * one, or `candidate` stored first if there is none yet (first writer wins). Table `settings`, name 'secret'.
   */
  serverSecret(candidate: string): Promise<string>;
  /** The secret the store keeps, if any, without writing one (read-only use: export). */
  storedSecret(): Promise<string | undefined>;

  createHawkSession(record: HawkSessionRecord): Promise<void>;
  getHawkSession(idHmac: string): Promise<HawkSessionRecord | undefined>;
  /**
   * Records a use of the Hawk session: lastUsedAt becomes `at` unless it is already `at` or later (it never moves
   * back when processes race). One write each call: the caller throttles (the server writes at most once an hour
   * per session, not per request).
   */
  touchHawkSession(idHmac: string, at: number): Promise<void>;
  /**
   * Claims a Hawk request's (id HMAC, nonce, ts), atomically across every process on this database (schema
   * version 2). Resolves true when the claim is new, false when it was made before (a replay, whoever saw it
   * first). A claim lives `windowMs` from `at`; older claims are deleted (by this call or a later one) so the
   * table stays bounded. Keeping one a while longer is harmless: the same ts is by then outside Hawk's window.
   * Optional: without it, the server remembers nonces per process only.
   */
  claimHawkNonce?(claim: HawkNonceClaim, at: number, windowMs: number): Promise<boolean>;
  /**
   * True when `updateSession` takes `UpdateOptions.nonce`: the claim goes in the unit's own transaction instead of a
   * commit of its own (D-141).
   */
  readonly claimsNoncesInUnits?: boolean;

  createRoom(room: RoomRecord): Promise<void>;
  /** The room, whatever its expiry or deletion (the server decides what those mean). */
  getRoom(token: string): Promise<RoomRecord | undefined>;
  /** Mark deleted and end every open session with reason 'deleted'. */
  deleteRoom(token: string, at: number): Promise<void>;

  /** Open sessions of a room (expired ones included), in join order. */
  openSessions(room: string): Promise<SessionRecord[]>;
  getSession(id: string): Promise<SessionRecord | undefined>;
  /** The session (open or ended, until retention) whose sessionToken has this HMAC. */
  sessionByToken(tokenHmac: string): Promise<SessionRecord | undefined>;
  /** The open session of this participant in this room, if any (the latest joined, should there be several). */
  openSessionOf(room: string, participantHmac: string): Promise<SessionRecord | undefined>;

  /** Unit of work on one room's participants (serialized per room). */
  joinRoom<T>(room: string, decide: (ctx: JoinContext) => JoinDecision<T>): Promise<T | undefined>;
  /**
   * Unit of work on one session (serialized per session). Resolves undefined for an unknown session. With an
   * `idempotencyKey`, `decide` is told whether a report with that key is already stored for this session, and its
   * fields (schema version 4: the store keeps (session, key) unique, across processes); a report it appends carries
   * the key.
   */
  updateSession<T>(id: string, decide: (session: SessionRecord, seen: SeenKey) => SessionDecision<T>, options?: UpdateOptions): Promise<T | undefined>;
  /**
   * End open sessions whose expiry passed (reason 'expired'), in steps of at most `stepRows` sessions (default
   * RETAIN_STEP_ROWS), each its own transaction; resolves how many.
   */
  expireSessions(now: number, stepRows?: number): Promise<number>;

  /**
   * Delete reports received before `before`, sessions ended before it, rooms that expired or were deleted before
   * it (once none of their sessions is left), then Hawk sessions last used before it that own no remaining room
   * and are not the participant of an open session: in steps of at most `stepRows` rows (default RETAIN_STEP_ROWS),
   * each its own transaction, so that other writes go between them (common/retention.ts).
   */
  retain(before: number, stepRows?: number): Promise<RetentionCounts>;
  /**
   * One step of folding the rollups' minute rows older than `before` into the hour rows that already hold their counts
   * (common/fold.ts): no count is lost, old windows are read by the hour. Whether the step did anything (call again).
   */
  foldRollups(before: number, now: number): Promise<boolean>;

  // ---- per-client limits (security, issue 17) ----------------------------------------------------------
  /** Rooms of this owner (Hawk id HMAC) neither deleted nor expired at `now`: the rooms-per-Hawk-session limit. */
  countLiveRooms(ownerHmac: string, now: number): Promise<number>;
}

/** What the server reports about the stored data: the port metrics.ts and the traffic handler depend on. */
export interface Figures {
  sessionReports(id: string): Promise<StoredReport[]>;
  /** One session's reports with the session's id and room, for replaying it; undefined for an unknown session. */
  sessionReplay(id: string): Promise<SessionReplay | undefined>;
  exportReports(filter: ExportFilter): AsyncIterable<StoredReport>;
  stats(query: StatsQuery): Promise<Stats>;
  metricsData(timeToMediaBuckets: readonly number[]): Promise<MetricsData>;
  /** Durations (seconds) of the write transactions committed since the last call, for loop_room_store_commit_seconds. */
  takeCommitTimes?(): number[];
}

export interface SessionReplay {
  session: string;
  room: string;
  reports: StoredReport[];
}

/** A whole store: what the server is given. */
export interface Store extends RoomStore, Figures {}

/** Options every store factory takes. */
export interface StoreOptions {
  /** Told about store failures (never their data). */
  log?: (line: string) => void;
}
