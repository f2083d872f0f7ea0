/*
 * Rollups: the counts /v1/stats, /v1/traffic* and /metrics read, kept as reports are stored, in the same
 * transaction (so they never disagree with the rows, survive restarts and add up across processes).
 *
 * One table, `rollups (bucket, kind, key, shard, count, sum, example)`:
 * - bucket: the minute (epoch ms of its start) the count belongs to; the same counts again by hour (the hour's start
 *   + 1, so that no hour row is a minute's) and by day (UTC; the day's start + 2): a window reads its whole days, the
 *   whole hours at its ends and the minutes at its ends; and ALL (-1), the running total over all time, which
 *   retention never lowers (/metrics's counters, /v1/stats without a window). Old minutes are deleted (common/fold.ts);
 *   hour and day rows stay;
 * - kind and key (a JSON array of strings, null where a value is absent):
 *     started        []                                    sessions joined, by join minute
 *     ended          [state, reason]                       sessions ended, by end minute
 *     funnel         [state]                               sessions that reached the state, by join minute
 *     media          [bucket index]                        join to first sendrecv, by join minute; `sum` in seconds
 *     transition     [from, to, event]                     reports, by receipt minute
 *     verdict        [verdict]                             reports, by receipt minute
 *     nonconformance [verdict, from, event, expected state, connections, sendStreams, recvStreams,
 *                     reported state, connections, sendStreams, recvStreams]   with one example session (the least id)
 *     entered        [state]                               a session entered the state (its join enters its first),
 *                                                          by entry minute, with one example session (the least id)
 *     dwell          [state, bucket index]                 a visit of the state ended (the session went to another
 *                                                          state, or ended), by that minute; `sum` in seconds
 *     path           [state x PATH_MAX_STATES, truncated]  sessions ended along the path (null past its end), by end
 *                                                          minute, with one example session (the least id)
 *     open           [state]                               sessions open now in the state, a running count (all time
 *                                                          only; +1 as a session enters the state, -1 as it leaves it or ends)
 * - shard: rows several writers add to at once are spread over shards (PostgreSQL); readers add them up.
 * Three kinds take names, counters or state sequences from the clients (transition, nonconformance, path): a bucket
 * keeps at most GROUPS_MAX keys of each; a new key past that is counted under its overflow key (overflowKeyOf), so
 * that no client can make a read grow with what it sends (D-136).
 * Pure: the stores write `RollupDelta.rows()` with their own SQL (sql/rollups.ts) and read the sums back.
 */
import { ROOM_STATES } from '../../../../machines/domain';
import { DWELL_BOUNDS, PATH_MAX_STATES } from '../../../traffic/wire';
import type { EndReason, NewReport, SessionRecord } from '../contract';

export const BUCKET_MS = 60_000;
/** The bucket of the running totals over all time. */
export const ALL = -1;
export const HOUR_MS = 3_600_000;
/** The hour rows' bucket: the hour's start + 1. */
export const hourBucketOf = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS + 1;
export const DAY_MS = 86_400_000;
/** The day rows' bucket: the day's start (UTC) + 2. */
export const dayBucketOf = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS + 2;

/**
 * Upper bounds (seconds) of the time-to-media buckets the store keeps; one more bucket holds everything above.
 * Every histogram the server shows (/metrics's, the traffic view's) takes a subset of these bounds.
 */
export const MEDIA_BOUNDS: readonly number[] = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600];

export type RollupKind = 'started' | 'ended' | 'funnel' | 'media' | 'transition' | 'verdict' | 'nonconformance' | 'entered' | 'dwell' | 'path' | 'open';

export interface RollupRow {
  bucket: number;
  kind: RollupKind;
  /** JSON array of strings and nulls. */
  key: string;
  count: number;
  sum: number;
  example: string | null;
}

/**
 * The most keys a bucket keeps of a kind whose keys the clients choose (their names and counters); a new key past
 * them adds to its overflow key instead. Concurrent writers (PostgreSQL) can each add one past it.
 */
export const GROUPS_MAX = 500;

/**
 * Where a key of `kind` is counted once its bucket holds GROUPS_MAX keys of the kind: the parts the server knows
 * (the state before the report, the verdict) and null for the rest, which no report or path makes null. Null: the
 * kind's keys are bounded by the server (known states, reasons, bucket indexes) and never overflow.
 */
export function overflowKeyOf(kind: RollupKind, key: string): string | null {
  const nulls = (n: number) => Array.from({ length: n }, () => null);
  if (kind === 'path') return rollupKey(nulls(PATH_MAX_STATES + 1));
  if (kind !== 'transition' && kind !== 'nonconformance') return null;
  const k = JSON.parse(key) as Array<string | null>;
  return kind === 'transition' ? rollupKey([k[0], null, null]) : rollupKey([k[0], k[1], ...nulls(9)]);
}

/**
 * A parsed key of a kind that can overflow is its overflow key: a path's first state is null (every path starts in
 * init), a transition's or group's event (third in both) is null.
 */
export const isOverflowKey = (kind: 'transition' | 'nonconformance' | 'path', k: ReadonlyArray<string | null>) => k[kind === 'path' ? 0 : 2] === null;

export const bucketOf = (ms: number) => Math.floor(ms / BUCKET_MS) * BUCKET_MS;

/** The histogram bucket of `seconds`: the first of `bounds` it is at most, or bounds.length (above them all). */
export function boundIndex(bounds: readonly number[], seconds: number): number {
  const i = bounds.findIndex((le) => seconds <= le);
  return i < 0 ? bounds.length : i;
}

/** A key as both dialects' backfill SQL writes it: a JSON array of strings (numbers as text) and nulls. */
export const rollupKey = (values: ReadonlyArray<string | number | null | undefined>) => JSON.stringify(values.map((v) => (v === null || v === undefined ? null : String(v))));

/** A path's key: its first PATH_MAX_STATES states (null past its end), then whether it went on past them. */
export const pathKey = (path: readonly string[]) => rollupKey([...Array.from({ length: PATH_MAX_STATES }, (_, i) => path[i] ?? null), String(path.length > PATH_MAX_STATES)]);

/** An ended session, as the stores learn of it. */
export interface SessionEnd {
  id: string;
  endedAt: number;
  /** The state it ended in (the one it held). */
  state: string;
  reason: EndReason;
  /** When it entered that state, and its path (SessionRecord's). */
  stateSince: number;
  path: readonly string[];
}

/** What one unit of work (or a batch of them) adds to the rollups. */
export class RollupDelta {
  private readonly rowsByKey = new Map<string, RollupRow>();

  /** Adds to the bucket of `at` and to the running total. */
  add(at: number, kind: RollupKind, key: string, count = 1, sum = 0, example: string | null = null): void {
    for (const bucket of [bucketOf(at), hourBucketOf(at), dayBucketOf(at), ALL]) this.addTo(bucket, kind, key, count, sum, example);
  }

  private addTo(bucket: number, kind: RollupKind, key: string, count: number, sum: number, example: string | null): void {
    const id = `${bucket}\u0000${kind}\u0000${key}`;
    const row = this.rowsByKey.get(id);
    if (!row) this.rowsByKey.set(id, { bucket, kind, key, count, sum, example });
    else {
      row.count += count;
      row.sum += sum;
      if (example !== null && (row.example === null || example < row.example)) row.example = example;
    }
  }

  /** The sessions open now in `state` went up or down by one (a running count: all time only). */
  private open(state: string, by: 1 | -1): void {
    this.addTo(ALL, 'open', rollupKey([state]), by, 0, null);
  }

  /**
   * A session's row went from `before` (undefined: it was just created) to `after`: a start, a state left for another,
   * the states it reached for the first time, its first sendrecv, its end.
   */
  session(before: SessionRecord | undefined, after: SessionRecord): void {
    const entered = before?.snapshot.state !== after.snapshot.state;
    const wasOpen = before !== undefined && before.endedAt === undefined;
    const isOpen = after.endedAt === undefined;
    if (wasOpen && (entered || !isOpen)) this.open(before.snapshot.state, -1);
    if (isOpen && (entered || !wasOpen)) this.open(after.snapshot.state, 1);
    if (!before) this.add(after.joinedAt, 'started', '[]');
    else if (entered) this.visit(before.snapshot.state, before.stateSince, after.stateSince);
    if (entered) this.add(after.stateSince, 'entered', rollupKey([after.snapshot.state]), 1, 0, after.id);
    for (const [state, at] of Object.entries(after.firstReached)) {
      if (at === undefined || before?.firstReached[state as keyof SessionRecord['firstReached']] !== undefined) continue;
      this.add(after.joinedAt, 'funnel', rollupKey([state]));
      if (state === 'sendrecv') {
        const seconds = (at - after.joinedAt) / 1000;
        this.add(after.joinedAt, 'media', rollupKey([boundIndex(MEDIA_BOUNDS, seconds)]), 1, seconds);
      }
    }
    if (after.endedAt !== undefined && before?.endedAt === undefined) {
      const state = after.endState ?? after.snapshot.state;
      this.end({ id: after.id, endedAt: after.endedAt, state, reason: after.endReason ?? 'left', stateSince: after.stateSince, path: after.path });
    }
  }

  /** An open session was ended (expired, its room deleted, a rejoin): it is no longer open, and it ended. */
  ended(e: SessionEnd): void {
    this.open(e.state, -1);
    this.end(e);
  }

  /** A session's end, its last visit and its path. */
  private end(e: SessionEnd): void {
    this.add(e.endedAt, 'ended', rollupKey([e.state, e.reason]));
    this.visit(e.state, e.stateSince, e.endedAt);
    this.add(e.endedAt, 'path', pathKey(e.path), 1, 0, e.id);
  }

  /** A visit of `state` from `since` ended at `at` (no less than nothing, should clocks of two processes disagree). */
  private visit(state: string, since: number, at: number): void {
    const seconds = Math.max(0, (at - since) / 1000);
    this.add(at, 'dwell', rollupKey([state, boundIndex(DWELL_BOUNDS, seconds)]), 1, seconds);
  }

  report(session: SessionRecord, r: NewReport): void {
    const f = r.fields;
    this.add(r.receivedAt, 'transition', rollupKey([r.fromState, f.state, f.event]));
    this.add(r.receivedAt, 'verdict', rollupKey([r.verdict]));
    if (r.verdict !== 'conformant') {
      const e = r.expected;
      const key = rollupKey([r.verdict, r.fromState, f.event, e?.state, e?.connections, e?.sendStreams, e?.recvStreams, f.state, f.connections, f.sendStreams, f.recvStreams]);
      this.add(r.receivedAt, 'nonconformance', key, 1, 0, session.id);
    }
  }

  merge(other: RollupDelta): void {
    for (const r of other.rowsByKey.values()) {
      const id = `${r.bucket}\u0000${r.kind}\u0000${r.key}`;
      const row = this.rowsByKey.get(id);
      if (!row) this.rowsByKey.set(id, { ...r });
      else {
        row.count += r.count;
        row.sum += r.sum;
        if (r.example !== null && (row.example === null || r.example < row.example)) row.example = r.example;
      }
    }
  }

  get size(): number {
    return this.rowsByKey.size;
  }

  /** The rows to add, in one fixed order (bucket, kind, key): writers lock them in that order, so never in a cycle. */
  rows(): RollupRow[] {
    return [...this.rowsByKey.values()].sort((a, b) => a.bucket - b.bucket || cmp(a.kind, b.kind) || cmp(a.key, b.key));
  }

  clear(): void {
    this.rowsByKey.clear();
  }
}

/** Byte order on ASCII, like PostgreSQL's "C" collation and SQLite's BINARY. */
export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The rows a stats window reads (countedWindow's [from, to)); ALL without a window. Each part is ranges [start, end) of
 * bucket starts: the whole days inside come from day rows (`days`), the whole hours around them from hour rows (`hours`:
 * up to two ranges, less than two days of hours in all), the rest from minute rows (`minutes`: up to two ranges).
 */
export type BucketRange = { all: true } | { all: false; minutes: Array<[number, number]>; hours: Array<[number, number]>; days: [number, number] | null };
/**
 * The window a read counts: `since` down to its minute and `until` up to its minute; an end before `minutesFrom` (the
 * oldest minute rows kept, always an hour's start: common/fold.ts) to its hour instead, from the hour rows.
 */
export function countedWindow(since: number | undefined, until: number | undefined, minutesFrom = 0): { from: number; to: number; hourly: boolean } {
  const up = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
  const from = since === undefined ? 0 : since < minutesFrom ? Math.floor(since / HOUR_MS) * HOUR_MS : bucketOf(since);
  const to = until === undefined ? Number.MAX_SAFE_INTEGER : until < minutesFrom ? up(until, HOUR_MS) : up(until, BUCKET_MS);
  return { from, to, hourly: (since !== undefined && since < minutesFrom) || (until !== undefined && until < minutesFrom) };
}

/** A BucketRange of a window (not all time). */
export type WindowRange = Extract<BucketRange, { all: false }>;

export function bucketRange(since: number | undefined, until: number | undefined, minutesFrom = 0): BucketRange {
  if (since === undefined && until === undefined) return { all: true };
  const { from, to } = countedWindow(since, until, minutesFrom);
  const [h0, h1] = [Math.ceil(from / HOUR_MS) * HOUR_MS, Math.floor(to / HOUR_MS) * HOUR_MS];
  if (h0 >= h1) return { all: false, minutes: [[from, to]], hours: [], days: null };
  const [d0, d1] = [Math.ceil(h0 / DAY_MS) * DAY_MS, Math.floor(h1 / DAY_MS) * DAY_MS];
  const minutes: Array<[number, number]> = [[from, h0], [h1, to]];
  if (d0 >= d1) return { all: false, minutes, hours: [[h0, h1]], days: null };
  return { all: false, minutes, hours: [[h0, d0], [d1, h1]], days: [d0, d1] };
}

/** The hour rows' buckets of a range's hours (at most 94: less than two days). */
export const hourBuckets = (range: WindowRange) => range.hours.flatMap(([a, b]) => Array.from({ length: Math.max(0, (b - a) / HOUR_MS) }, (_, i) => a + i * HOUR_MS + 1));

/**
 * Without a window, example sessions come from the hour rows of the newest EXAMPLE_HOURS hours of traffic stored (not
 * from the all-time row, whose example may be a session retention deleted long ago).
 */
export const EXAMPLE_HOURS = 24;

/** The rows those examples come from, given the newest bucket of any row (undefined: nothing stored yet). */
export function newestHours(newestBucket: number | undefined): WindowRange {
  if (newestBucket === undefined || newestBucket < 0) return { all: false, minutes: [[0, 0]], hours: [], days: null };
  const hour = Math.floor(newestBucket / HOUR_MS) * HOUR_MS;
  return { all: false, minutes: [[0, 0]], hours: [[hour - (EXAMPLE_HOURS - 1) * HOUR_MS, hour + HOUR_MS]], days: null };
}

/** Schema version 4's report idempotency keys, the same in both dialects: unique per session where present. */
export const IDEMPOTENCY_KEY_STATEMENTS: readonly string[] = [
  'ALTER TABLE reports ADD COLUMN idempotency_key TEXT',
  'CREATE UNIQUE INDEX reports_idempotency ON reports (session, idempotency_key) WHERE idempotency_key IS NOT NULL',
];

// ---- the backfill: the same rollups built from the rows a database already holds (schema migration 4) ----------

export type Dialect = 'sqlite' | 'postgres';

/** A JSON array of text values as each dialect writes it (the same text rollupKey makes). */
function keySql(d: Dialect, parts: string[]): string {
  if (parts.length === 0) return "'[]'";
  return d === 'sqlite' ? `json_array(${parts.map((p) => `CAST(${p} AS TEXT)`).join(', ')})` : `array_to_json(ARRAY[${parts.map((p) => `(${p})::text`).join(', ')}])::text`;
}

/** Integer division of a non-negative integer floors in both dialects. */
const bucketSql = (ms: string) => `((${ms}) / ${BUCKET_MS}) * ${BUCKET_MS}`;

/** boundIndex in SQL. */
function boundIndexSql(bounds: readonly number[], seconds: string): string {
  return `CASE ${bounds.map((le, i) => `WHEN ${seconds} <= ${le} THEN ${i}`).join(' ')} ELSE ${bounds.length} END`;
}

/** INSERT of one kind's minute rows: `from` gives each counted thing's bucket `b`, key `k`, sum `s` and example `e`. */
function insertSql(d: Dialect, kind: RollupKind, bucket: string, key: string, from: string, sum = '0', example = 'NULL'): string {
  return `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example)
     SELECT b, '${kind}', k, 0, COUNT(*), SUM(s), ${d === 'sqlite' ? 'MIN(e)' : 'MIN(e COLLATE "C")'} FROM (SELECT ${bucket} AS b, ${key} AS k, ${sum} AS s, ${example} AS e ${from}) AS t GROUP BY b, k`;
}

/** The hour rows and running totals as the sums of the minute rows (of `kinds` only, when given). */
function totalsSql(d: Dialect, kinds?: readonly RollupKind[]): string[] {
  const only = kinds ? ` AND kind IN (${kinds.map((k) => `'${k}'`).join(', ')})` : '';
  return [`((bucket / ${HOUR_MS}) * ${HOUR_MS} + 1)`, `${ALL}`].map(
    (bucket) => `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example)
     SELECT ${bucket}, kind, key, 0, SUM(count), SUM(sum), ${d === 'sqlite' ? 'MIN(example)' : 'MIN(example COLLATE "C")'} FROM rollups
     WHERE bucket >= 0 AND bucket % ${BUCKET_MS} = 0${only} GROUP BY ${bucket === `${ALL}` ? '' : `${bucket}, `}kind, key`,
  );
}

/**
 * Statements that fill `rollups` from the reports and sessions stored (a bucket per minute, then the running totals
 * as the sum of the buckets). Both dialects floor integer division of non-negative times the same way.
 */
export function backfillStatements(d: Dialect): string[] {
  const json = (col: string, field: string) => (d === 'sqlite' ? `json_extract(${col}, '$.${field}')` : `(${col}->>'${field}')`);
  const num = (col: string, field: string) => (d === 'sqlite' ? json(col, field) : `${json(col, field)}::bigint`);
  const insert = (kind: RollupKind, bucket: string, key: string, from: string, sum = '0', example = 'NULL') => insertSql(d, kind, bucket, key, from, sum, example);
  const mediaSeconds = `((${num('first_reached', 'sendrecv')} - joined_at) / 1000.0)`;
  const funnelKeys =
    d === 'sqlite' ? 'FROM sessions, json_each(sessions.first_reached) AS f' : 'FROM sessions, jsonb_object_keys(sessions.first_reached) AS f(key)';
  return [
    insert('started', bucketSql('joined_at'), "'[]'", 'FROM sessions'),
    insert('ended', bucketSql('ended_at'), keySql(d, ['end_state', 'end_reason']), 'FROM sessions WHERE ended_at IS NOT NULL'),
    insert('funnel', bucketSql('joined_at'), keySql(d, ['f.key']), funnelKeys),
    insert('media', bucketSql('joined_at'), keySql(d, [boundIndexSql(MEDIA_BOUNDS, mediaSeconds)]), `FROM sessions WHERE ${json('first_reached', 'sendrecv')} IS NOT NULL`, mediaSeconds),
    insert('transition', bucketSql('received_at'), keySql(d, ['from_state', 'state', 'event']), 'FROM reports'),
    insert('verdict', bucketSql('received_at'), keySql(d, ['verdict']), 'FROM reports'),
    insert(
      'nonconformance',
      bucketSql('received_at'),
      keySql(d, ['verdict', 'from_state', 'event', json('expected', 'state'), json('expected', 'connections'), json('expected', 'sendStreams'), json('expected', 'recvStreams'), 'state', 'connections', 'send_streams', 'recv_streams']),
      "FROM reports WHERE verdict <> 'conformant'",
      '0',
      'session',
    ),
    ...totalsSql(d),
  ];
}

// ---- schema migration 5: each session's state since and path, and their rollups, from the rows stored ------------

/**
 * Statements that fill the sessions' new `state_since` and `path` columns and the `entered`, `dwell` and `path`
 * rollups from the reports and sessions stored (run once the columns exist). The state a session held after a report
 * is the next report's `from_state`, after its last report its current state; a report after which it differs from
 * the report's `from_state` changed the state then (`state_changes`, in seq order). Every session starts in init.
 * Where retention already deleted a session's earliest reports, its path and first visit are rebuilt from the kept
 * ones (the states of the deleted reports are missing, and that visit counts from the join).
 */
export function visitBackfillStatements(d: Dialect): string[] {
  const first = `'${ROOM_STATES[0]}'`;
  const max0 = (x: string) => (d === 'sqlite' ? `MAX(0, ${x})` : `GREATEST(0, ${x})`);
  const pathAt = (i: number) => (d === 'sqlite' ? `json_extract(path, '$[${i}]')` : `(path->>${i})`);
  const insert = (kind: RollupKind, bucket: string, key: string, from: string, sum = '0', example = 'NULL') => insertSql(d, kind, bucket, key, from, sum, example);
  const dwellSeconds = (at: string, since: string) => max0(`(${at} - ${since}) / 1000.0`);
  return [
    `CREATE TEMP TABLE state_changes AS
     SELECT session, at, left_state, entered_state, ROW_NUMBER() OVER (PARTITION BY session ORDER BY seq) AS n, LAG(at) OVER (PARTITION BY session ORDER BY seq) AS prev_at
     FROM (SELECT r.session, r.seq, r.received_at AS at, r.from_state AS left_state,
             COALESCE(LEAD(r.from_state) OVER (PARTITION BY r.session ORDER BY r.seq), s.state) AS entered_state
           FROM reports r JOIN sessions s ON s.id = r.session) AS t
     WHERE entered_state <> left_state`,
    'CREATE INDEX state_changes_session ON state_changes (session, n)',
    `UPDATE sessions SET
       state_since = COALESCE((SELECT MAX(at) FROM state_changes c WHERE c.session = sessions.id), joined_at),
       path = (SELECT ${d === 'sqlite' ? 'json_group_array' : 'jsonb_agg'}(st ORDER BY n) FROM (SELECT 0 AS n, ${first} AS st
         UNION ALL SELECT n, entered_state FROM state_changes c WHERE c.session = sessions.id AND n <= ${PATH_MAX_STATES}) AS p)`,
    insert('entered', bucketSql('t'), keySql(d, ['st']), `FROM (SELECT joined_at AS t, ${first} AS st, id AS e FROM sessions UNION ALL SELECT at, entered_state, session FROM state_changes) AS u`, '0', 'e'),
    insert(
      'dwell',
      bucketSql('t'),
      keySql(d, ['st', boundIndexSql(DWELL_BOUNDS, 'sec')]),
      `FROM (SELECT c.at AS t, c.left_state AS st, ${dwellSeconds('c.at', 'COALESCE(c.prev_at, s.joined_at)')} AS sec FROM state_changes c JOIN sessions s ON s.id = c.session
             UNION ALL SELECT ended_at, end_state, ${dwellSeconds('ended_at', 'state_since')} FROM sessions WHERE ended_at IS NOT NULL) AS u`,
      'sec',
    ),
    insert(
      'path',
      bucketSql('ended_at'),
      keySql(d, [...Array.from({ length: PATH_MAX_STATES }, (_, i) => pathAt(i)), `CASE WHEN ${d === 'sqlite' ? 'json_array_length' : 'jsonb_array_length'}(path) > ${PATH_MAX_STATES} THEN 'true' ELSE 'false' END`]),
      'FROM sessions WHERE ended_at IS NOT NULL',
      '0',
      'id',
    ),
    ...totalsSql(d, ['entered', 'dwell', 'path']),
    'DROP TABLE state_changes',
  ];
}

// ---- schema migration 6: the sessions open now, by state, from the rows stored ---------------------------------------

/** The statement that fills the `open` running counts from the sessions stored (run once, in the migration). */
export function openBackfillStatements(d: Dialect): string[] {
  return [insertSql(d, 'open', `${ALL}`, keySql(d, ['state']), 'FROM sessions WHERE ended_at IS NULL')];
}

/**
 * The statement that adds the day rows up from the hour rows stored (run once, in the migration that added days;
 * uncapped, like the other backfills: a day holds the keys of its hours).
 */
export function dayBackfillStatements(d: Dialect): string[] {
  const day = `((bucket - 1) / ${DAY_MS}) * ${DAY_MS} + 2`;
  return [
    `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example)
     SELECT ${day}, kind, key, shard, SUM(count), SUM(sum), ${d === 'sqlite' ? 'MIN(example)' : 'MIN(example COLLATE "C")'} FROM rollups
     WHERE bucket >= 0 AND bucket % ${BUCKET_MS} = 1 GROUP BY ${day}, kind, key, shard`,
  ];
}
