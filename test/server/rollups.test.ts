// Rollups (issues 16 and 21): /v1/stats and /metrics read counts kept as reports are stored. They must say what the
// rows say (a property over random report streams), survive retention (counters never go down), be rebuilt from the
// rows by the schema migrations, and be written in the same commit as what they count.
import fc from 'fast-check';
import { ROOM_STATES, type RoomState } from '../../machines/domain';
import type { EndReason, NewReport, NewSession, SessionRecord, Stats, Store, StoredReport, Verdict } from '../../src/server/store';
import { histogramQuantile } from '../../src/server/store/common/figures';
import { FOLD_GRACE_MS } from '../../src/server/store/common/fold';
import { BUCKET_MS, DAY_MS, EXAMPLE_HOURS, GROUPS_MAX, HOUR_MS, MEDIA_BOUNDS } from '../../src/server/store/common/rollups';
import { DWELL_BOUNDS, EXAMPLES_PER_STATE, PATH_MAX_STATES, TOP_PATHS } from '../../src/traffic/wire';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { loadPg } from '../../src/server/store/postgres/connection';
import { freshPostgres, pgAvailable } from '../support/postgres';
import { freshSqlite, freshSqliteInThread } from '../support/stores';

/** A store with raw access to its database, for the migration and outage tests. */
interface RawStore {
  store: Store;
  /** Runs SQL on a connection of its own (the store stays open). */
  exec(sql: string): Promise<void>;
  /** The first column of the first row a query answers, as a number (on a connection of its own). */
  number(sql: string): Promise<number>;
  /** Closes the store, runs SQL, opens a new store on the same database. */
  reopenAfter(sql: string[]): Promise<Store>;
  cleanup(): Promise<void>;
}

/** The store, and how to reach its database around it. */
function rawStore(first: Store, exec: (sql: string) => Promise<void>, number: (sql: string) => Promise<number>, reopen: () => Store, remove: () => Promise<void>): RawStore {
  let store = first;
  return {
    get store() {
      return store;
    },
    exec,
    number,
    reopenAfter: async (sql) => {
      await store.close();
      for (const s of sql) await exec(s);
      store = reopen();
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      await remove();
    },
  };
}

/** SQLite in worker threads (what serve runs) or on the calling thread. */
async function rawSqlite(threads: boolean): Promise<RawStore> {
  const fresh = await (threads ? freshSqlite : freshSqliteInThread)();
  const { SqliteStore } = await import('../../src/server/store/sqlite/store');
  const { ThreadedSqliteStore } = await import('../../src/server/store/sqlite/threaded');
  const withDb = <T>(fn: (db: InstanceType<ReturnType<typeof loadBetterSqlite3>>) => T) => {
    const db = new (loadBetterSqlite3())(fresh.path);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const exec = async (sql: string) => {
    withDb((db) => db.exec(sql));
  };
  const number = async (sql: string) => withDb((db) => Number(db.prepare(sql).pluck().get()));
  return rawStore(fresh.store, exec, number, () => (threads ? new ThreadedSqliteStore({ path: fresh.path }) : new SqliteStore({ path: fresh.path })), fresh.cleanup);
}

async function rawPostgres(): Promise<RawStore> {
  const fresh = await freshPostgres();
  const { createPostgresStore } = await import('../../src/server/store/postgres/store');
  const query = async (sql: string) => {
    const pool = new (loadPg().Pool)({ connectionString: fresh.url, max: 1 });
    try {
      return await pool.query(sql);
    } finally {
      await pool.end();
    }
  };
  const exec = async (sql: string) => void (await query(sql));
  const number = async (sql: string) => Number(Object.values((await query(sql)).rows[0] as object)[0]);
  return rawStore(fresh.store, exec, number, () => createPostgresStore(fresh.url), async () => {});
}

const RAW_STORES: Array<[string, () => Promise<RawStore>]> = [
  ['sqlite', () => rawSqlite(true)],
  ['sqlite in-thread', () => rawSqlite(false)],
  ...(pgAvailable() ? [['postgres', rawPostgres] as [string, () => Promise<RawStore>]] : []),
];

// ---- a random stream of joins, reports, leaves, expiries and room deletions, through the store API ----------------

const T0 = Date.parse('2026-03-01T00:00:00Z');
const EVENTS = ['Session.connectionCreated', 'Session.streamCreated', 'Publisher.streamCreated', 'Session.connectionDestroyed', 'made-up'];
const STATES: string[] = [...ROOM_STATES, 'nowhere'];
const VERDICTS: Verdict[] = ['conformant', 'conformant', 'rejected-event', 'wrong-state', 'wrong-counters', 'unknown-event', 'unknown-state'];

type Op =
  | { kind: 'join'; room: number; participant: number; dt: number }
  | { kind: 'report'; pick: number; event: number; state: number; counters: [number, number, number]; verdict: number; expected: boolean; dt: number }
  /** One session's reports in a row, through these states (long paths: past PATH_MAX_STATES). */
  | { kind: 'walk'; pick: number; states: number[]; dt: number }
  | { kind: 'leave'; pick: number; dt: number }
  | { kind: 'expire'; dt: number }
  | { kind: 'delete'; room: number; dt: number };

const dt = fc.integer({ min: 0, max: 150_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('join' as const), room: fc.nat(2), participant: fc.nat(3), dt }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      pick: fc.nat(),
      event: fc.nat(EVENTS.length - 1),
      state: fc.nat(STATES.length - 1),
      counters: fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2)),
      verdict: fc.nat(VERDICTS.length - 1),
      expected: fc.boolean(),
      dt,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('walk' as const), pick: fc.nat(), states: fc.array(fc.nat(STATES.length - 1), { minLength: 6, maxLength: 14 }), dt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), pick: fc.nat(), dt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), dt }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), room: fc.nat(2), dt }) },
);

let unique = 0;

/** One status report on an open session (refused once it ended): the session goes to the reported state when it names one. */
function report(store: Store, id: string, at: number, op: Extract<Op, { kind: 'report' }>) {
  return store.updateSession(id, (s) => {
    if (s.endedAt !== undefined) return { kind: 'refuse', value: null };
    const state = STATES[op.state];
    const verdict = VERDICTS[op.verdict];
    const fields = { event: EVENTS[op.event], state, connections: op.counters[0], sendStreams: op.counters[1], recvStreams: op.counters[2] };
    const known = (ROOM_STATES as readonly string[]).includes(state);
    const next = known ? { state: state as RoomState, connections: op.counters[0], sendStreams: op.counters[1], recvStreams: op.counters[2] } : s.snapshot;
    const firstReached = { ...s.firstReached };
    if (firstReached[next.state] === undefined) firstReached[next.state] = at;
    const report: NewReport = {
      receivedAt: at,
      fromState: s.snapshot.state,
      fields,
      verdict,
      ...(verdict !== 'conformant' && op.expected ? { expected: { state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 } } : {}),
      labels: { from: s.snapshot.state, event: 'other', state: known ? state : 'other', verdict },
    };
    return { kind: 'apply', value: null, changes: { snapshot: next, firstReached, expiresAt: at + 240_000 }, report };
  });
}

/** Plays the ops on the store (rooms and session ids of its own), from time `start`; the session ids it made. */
async function play(store: Store, ops: readonly Op[], start: number): Promise<string[]> {
  const run = ++unique;
  const rooms = [0, 1, 2].map((i) => `r${run}x${i}`);
  for (const token of rooms) await store.createRoom({ token, name: 'n', owner: 'o', ownerHmac: 'oh', maxSize: 10, createdAt: start, expiresAt: start + 86_400_000 * 30 });
  const ids: string[] = [];
  const open: string[] = [];
  let now = start;
  let n = 0;
  for (const op of ops) {
    now += op.dt;
    const at = now;
    if (op.kind === 'join') {
      const id = `s${run}x${++n}`;
      const participant = `p${op.participant}`;
      const room = rooms[op.room];
      const create: NewSession = {
        id, room, kind: 'basic', participantHmac: participant, tokenHmac: `t-${id}`, displayName: 'd', owner: false, joinedAt: at, expiresAt: at + 240_000,
        snapshot: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }, firstReached: { init: at }, reportCount: 0, nonConformantCount: 0,
      };
      await store.joinRoom(room, (ctx) => ({
        kind: 'apply',
        value: id,
        end: ctx.open.filter((s) => s.participantHmac === participant).map((s) => ({ id: s.id, reason: 'rejoined' as EndReason, at })),
        create,
      }));
      ids.push(id);
      open.push(id);
    } else if (op.kind === 'report' || op.kind === 'leave' || op.kind === 'walk') {
      if (open.length === 0) continue;
      const id = open[op.pick % open.length];
      if (op.kind === 'walk') {
        // A second apart: a walk stays within a few minutes.
        for (const [k, state] of op.states.entries()) await report(store, id, at + k * 1000, { ...op, kind: 'report', event: k % EVENTS.length, state, counters: [1, k % 2, 0], verdict: k % 3, expected: true });
        now += op.states.length * 1000;
      } else if (op.kind === 'report') await report(store, id, at, op);
      else await store.updateSession(id, (s) => (s.endedAt !== undefined ? { kind: 'refuse', value: null } : { kind: 'apply', value: null, changes: { endedAt: at, endReason: 'left', endState: s.snapshot.state } }));
    } else if (op.kind === 'expire') {
      await store.expireSessions(at);
    } else {
      await store.deleteRoom(rooms[op.room], at);
    }
    for (let i = open.length - 1; i >= 0; i--) if ((await store.getSession(open[i]))?.endedAt !== undefined) open.splice(i, 1);
  }
  return ids;
}

// ---- the same figures, computed from the raw rows -------------------------------------------------------------

/** The histogram bucket of x: the first bound it is at most, else one past the last. */
const bucketIndex = (bounds: readonly number[], x: number) => {
  let i = 0;
  while (i < bounds.length && x > bounds[i]) i++;
  return i;
};

interface Entry {
  state: string;
  at: number;
  session: string;
}

/**
 * What the sessions did, replayed from their rows by the test's own rule (the one play's reports follow): a session
 * is in init from its join; a report naming a known state puts it there, one naming no known state leaves it where it
 * was; a visit ends when the state changes or the session ends.
 */
function visitsOf(sessions: readonly SessionRecord[], reports: ReadonlyMap<string, StoredReport[]>) {
  const entries: Entry[] = [];
  const dwells: Array<{ state: string; at: number; seconds: number }> = [];
  const paths: Array<{ states: string[]; truncated: boolean; at: number; session: string }> = [];
  for (const s of sessions) {
    let state = 'init';
    let since = s.joinedAt;
    const path = [state];
    entries.push({ state, at: s.joinedAt, session: s.id });
    for (const r of [...(reports.get(s.id) ?? [])].sort((a, b) => a.seq - b.seq)) {
      const next = (ROOM_STATES as readonly string[]).includes(r.fields.state) ? r.fields.state : state;
      if (next === state) continue;
      dwells.push({ state, at: r.receivedAt, seconds: Math.max(0, (r.receivedAt - since) / 1000) });
      entries.push({ state: next, at: r.receivedAt, session: s.id });
      path.push(next);
      [state, since] = [next, r.receivedAt];
    }
    if (s.endedAt === undefined) continue;
    dwells.push({ state, at: s.endedAt, seconds: Math.max(0, (s.endedAt - since) / 1000) });
    paths.push({ states: path.slice(0, PATH_MAX_STATES), truncated: path.length > PATH_MAX_STATES, at: s.endedAt, session: s.id });
  }
  return { entries, dwells, paths };
}

/**
 * Each state's example sessions: the window is read in rows of a minute, or of an hour where the whole hour is in it;
 * each row's example is the least session id that entered the state in it; the newest rows first, distinct. Without a
 * window, the rows are the EXAMPLE_HOURS hours up to the hour of `latest`, the time of the newest thing stored.
 */
function examplesOf(entries: readonly Entry[], latest: number, since?: number, until?: number): Record<string, string[]> {
  const hourOf = (t: number) => Math.floor(t / HOUR_MS) * HOUR_MS;
  const newest = hourOf(latest);
  const all = since === undefined && until === undefined;
  const from = since === undefined ? 0 : since;
  const to = until ?? Number.MAX_SAFE_INTEGER;
  const rows = new Map<string, { state: string; row: number; example: string }>();
  for (const e of entries) {
    const h = hourOf(e.at);
    let row: number;
    if (all) {
      if (h <= newest - EXAMPLE_HOURS * HOUR_MS) continue;
      row = h;
    } else {
      if (e.at < from || e.at >= to) continue;
      const d = Math.floor(e.at / DAY_MS) * DAY_MS;
      row = d >= from && d + DAY_MS <= to ? d : h >= from && h + HOUR_MS <= to ? h : Math.floor(e.at / BUCKET_MS) * BUCKET_MS;
    }
    const id = `${e.state} ${row}`;
    const r = rows.get(id);
    if (!r) rows.set(id, { state: e.state, row, example: e.session });
    else if (e.session < r.example) r.example = e.session;
  }
  const out: Record<string, string[]> = Object.fromEntries(ROOM_STATES.map((st) => [st, []]));
  // A window's minute rows lie outside its whole hours, its hour rows outside its whole days: newest first is latest start first.
  for (const r of [...rows.values()].sort((a, b) => b.row - a.row)) {
    const list = out[r.state];
    if (list.length < EXAMPLES_PER_STATE && !list.includes(r.example)) list.push(r.example);
  }
  return out;
}

/**
 * `since` and `until` are the window counted; `asked`, when it differs, the window the query named (`hourly`: an end was
 * older than the minutes kept, so read by the hour).
 */
async function rawStats(store: Store, sessionIds: readonly string[], since?: number, until?: number, asked?: { since?: number; until?: number; hourly: boolean }): Promise<Omit<Stats, 'timeToMedia'> & { timeToMedia: Pick<Stats['timeToMedia'], 'count' | 'p50' | 'p90' | 'p99' | 'buckets'> }> {
  const lo = since ?? 0;
  const hi = until ?? Number.MAX_SAFE_INTEGER;
  const inWindow = (t: number | undefined) => t !== undefined && t >= lo && t < hi;
  const sessions = (await Promise.all(sessionIds.map((id) => store.getSession(id)))).filter((s): s is SessionRecord => s !== undefined);
  const funnel = Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as Record<RoomState, number>;
  const media = MEDIA_BOUNDS.map(() => 0).concat(0);
  const ended = new Map<string, number>();
  let started = 0;
  for (const s of sessions) {
    if (inWindow(s.joinedAt)) {
      started++;
      for (const st of ROOM_STATES) if (s.firstReached[st] !== undefined) funnel[st]++;
      if (s.firstReached.sendrecv !== undefined) media[bucketIndex(MEDIA_BOUNDS, (s.firstReached.sendrecv - s.joinedAt) / 1000)]++;
    }
    if (inWindow(s.endedAt)) ended.set(JSON.stringify([s.endState, s.endReason]), (ended.get(JSON.stringify([s.endState, s.endReason])) ?? 0) + 1);
  }
  const transitions = new Map<string, number>();
  const verdicts = new Map<string, number>();
  const nonConformance = new Map<string, { count: number; example: string }>();
  const reports = new Map<string, StoredReport[]>();
  for await (const r of store.exportReports({})) {
    reports.set(r.session, [...(reports.get(r.session) ?? []), r]);
    if (!inWindow(r.receivedAt)) continue;
    const t = JSON.stringify([r.fromState, r.fields.state, r.fields.event]);
    transitions.set(t, (transitions.get(t) ?? 0) + 1);
    verdicts.set(r.verdict, (verdicts.get(r.verdict) ?? 0) + 1);
    if (r.verdict !== 'conformant') {
      const { event, ...reported } = r.fields;
      const e = r.expected;
      const expected = e ? { state: e.state, connections: e.connections, sendStreams: e.sendStreams, recvStreams: e.recvStreams } : null;
      const k = JSON.stringify([r.verdict, r.fromState, event, expected, reported]);
      const g = nonConformance.get(k);
      if (!g) nonConformance.set(k, { count: 1, example: r.session });
      else {
        g.count++;
        if (r.session < g.example) g.example = r.session;
      }
    }
  }
  const q = (p: number) => histogramQuantile(p, MEDIA_BOUNDS, media);
  const visits = visitsOf(sessions, reports);
  const latest = Math.max(...sessions.flatMap((s) => [s.joinedAt, s.endedAt ?? 0]), ...[...reports.values()].flat().map((r) => r.receivedAt));
  const examples = examplesOf(visits.entries, latest, since, until);
  const pathCounts = new Map<string, { count: number; example: string }>();
  for (const p of visits.paths.filter((x) => inWindow(x.at))) {
    const k = JSON.stringify([p.states, p.truncated]);
    const g = pathCounts.get(k);
    if (!g) pathCounts.set(k, { count: 1, example: p.session });
    else {
      g.count++;
      if (p.session < g.example) g.example = p.session;
    }
  }
  const states = Object.fromEntries(
    ROOM_STATES.map((st) => {
      const seconds = visits.dwells.filter((d) => d.state === st && inWindow(d.at)).map((d) => d.seconds);
      const histogram = DWELL_BOUNDS.map(() => 0).concat(0);
      for (const x of seconds) histogram[bucketIndex(DWELL_BOUNDS, x)]++;
      const timeSpent = {
        count: seconds.length,
        meanSeconds: seconds.length === 0 ? null : seconds.reduce((a, b) => a + b, 0) / seconds.length,
        p50: histogramQuantile(0.5, DWELL_BOUNDS, histogram),
        p90: histogramQuantile(0.9, DWELL_BOUNDS, histogram),
      };
      return [st, { entered: visits.entries.filter((e) => e.state === st && inWindow(e.at)).length, timeSpent, exampleSessions: examples[st] }];
    }),
  ) as Stats['states'];
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    since: iso(asked ? asked.since : since),
    until: iso(asked ? asked.until : until),
    bucketSeconds: (asked?.hourly ? HOUR_MS : BUCKET_MS) / 1000,
    counted: { since: iso(since), until: iso(until) },
    sessions: { started, ended: [...ended.values()].reduce((a, b) => a + b, 0), open: sessions.filter((s) => s.endedAt === undefined).length },
    funnel,
    transitions: [...transitions].map(([k, count]) => {
      const [from, to, event] = JSON.parse(k);
      return { from, to, event, count };
    }),
    ended: [...ended].map(([k, count]) => {
      const [state, reason] = JSON.parse(k);
      return { state, reason, count };
    }),
    verdicts: [...verdicts].map(([verdict, count]) => ({ verdict: verdict as Verdict, count })),
    timeToMedia: { count: media.reduce((a, b) => a + b, 0), p50: q(0.5), p90: q(0.9), p99: q(0.99), buckets: [...MEDIA_BOUNDS.map((le, i) => ({ le, count: media[i] })), { le: null, count: media[MEDIA_BOUNDS.length] }] },
    nonConformance: [...nonConformance].map(([k, g]) => {
      const [verdict, from, event, expected, { state, connections, sendStreams, recvStreams }] = JSON.parse(k);
      return { verdict, from, event, expected, reported: { state, connections, sendStreams, recvStreams }, count: g.count, exampleSession: g.example };
    }),
    paths: [...pathCounts]
      .sort(([ka, a], [kb, b]) => b.count - a.count || (ka < kb ? -1 : ka > kb ? 1 : 0))
      .slice(0, TOP_PATHS)
      .map(([k, g]) => {
        const [states, truncated] = JSON.parse(k);
        return { states, truncated, count: g.count, exampleSession: g.example };
      }),
    states,
  };
}

/** Stats in a comparable form: lists as sorted sets, the text about percentiles left out. */
function comparable(s: Partial<Stats> & Record<string, unknown>) {
  const sorted = <T>(xs: T[] | undefined) => (xs ?? []).map((x) => JSON.stringify(x)).sort();
  const t = s.timeToMedia!;
  return {
    ...s,
    transitions: sorted(s.transitions),
    ended: sorted(s.ended),
    verdicts: sorted(s.verdicts),
    nonConformance: sorted(s.nonConformance),
    timeToMedia: { count: t.count, p50: t.p50, p90: t.p90, p99: t.p99, buckets: t.buckets },
  };
}

/** What comparable stats should equal: the means of time spent within a microsecond (the stores round them to it). */
function expectedOf(s: Partial<Stats> & Record<string, unknown>) {
  const c = comparable(s);
  const close = (x: number | null) => (x === null ? null : expect.closeTo(x, 5));
  return { ...c, states: Object.fromEntries(Object.entries(c.states ?? {}).map(([k, v]) => [k, { ...v, timeSpent: { ...v.timeSpent, meanSeconds: close(v.timeSpent.meanSeconds) } }])) };
}

describe('histogramQuantile', () => {
  it('interpolates within the bucket that holds the rank, as Prometheus does', () => {
    // 10 in (0, 1], 10 in (1, 2]: the median is the top of the first bucket, p75 half way through the second.
    expect(histogramQuantile(0.5, [1, 2], [10, 10, 0])).toBe(1);
    expect(histogramQuantile(0.75, [1, 2], [10, 10, 0])).toBe(1.5);
    expect(histogramQuantile(0.99, [1, 2], [0, 0, 5])).toBe(2);
    expect(histogramQuantile(0.5, [1, 2], [0, 0, 0])).toBeNull();
  });
});

describe.each(RAW_STORES)('rollups (%s)', (name, make) => {
  let raw: RawStore;
  const all: string[] = [];
  beforeAll(async () => {
    raw = await make();
  });
  afterAll(() => raw.cleanup());

  it('stats from the rollups equal stats computed from the raw rows, for any report stream and window', async () => {
    let era = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.nat(200), fc.nat(200), async (ops, a, b) => {
        // 18 hours apart: the newest EXAMPLE_HOURS (24) hold the last run and the end of the one before.
        const start = T0 + ++era * 18 * HOUR_MS;
        all.push(...(await play(raw.store, ops, start)));
        const minute = (k: number) => start + k * BUCKET_MS;
        const [lo, hi] = [Math.min(a, b), Math.max(a, b) + 1];
        // Also windows over several days of the runs before (whole days, whole hours and minutes at each end).
        const [far, near] = [minute(lo) - (era % 4) * DAY_MS - 3 * HOUR_MS - 7 * BUCKET_MS, minute(hi) + ((era * 7) % 30) * HOUR_MS];
        for (const [since, until] of [[undefined, undefined], [minute(lo), minute(hi)], [minute(lo), undefined], [undefined, minute(hi)], [far, near], [far, minute(hi)]] as Array<[number?, number?]>) {
          const got = comparable((await raw.store.stats({ since, until })) as never);
          const want = expectedOf((await rawStats(raw.store, all, since, until)) as never);
          expect(got).toEqual(want);
        }
        // The sessions open now by state, as the running counts say and as the rows say.
        const open = new Map<string, number>();
        for (const s of await Promise.all(all.map((id) => raw.store.getSession(id)))) if (s && s.endedAt === undefined) open.set(s.snapshot.state, (open.get(s.snapshot.state) ?? 0) + 1);
        const byState = (xs: Array<{ state: string; count: number }>) => [...xs].sort((x, y) => x.state.localeCompare(y.state));
        expect(byState((await raw.store.metricsData([])).openSessions)).toEqual(byState([...open].map(([state, count]) => ({ state, count }))));
      }),
      { numRuns: name !== 'postgres' ? 25 : 10 },
    );
  });

  it('old minutes fold into the hour rows: no count is lost, and a window end older than the minutes kept is read by the hour', async () => {
    // A burst of traffic every 18 hours from F0 (after the property's), 60 operations each.
    const F0 = T0 + 200 * 24 * HOUR_MS;
    for (let k = 0; k < 5; k++) all.push(...(await play(raw.store, fc.sample(fc.array(opArb, { minLength: 60, maxLength: 60 }), { numRuns: 1, seed: 40 + k })[0], F0 + k * 18 * HOUR_MS)));
    const H = F0 + 48 * HOUR_MS;
    const cut = H + 17 * BUCKET_MS + 5_000;
    const now = F0 + 400 * 24 * HOUR_MS;
    const minutes = (where = '') => raw.number(`SELECT count(*) FROM rollups WHERE bucket >= 0 AND bucket % ${BUCKET_MS} = 0${where}`);
    const hourRows = () => raw.number(`SELECT count(*) FROM rollups WHERE bucket % ${BUCKET_MS} = 1`);
    const windows: Array<[number?, number?]> = [
      [F0 + 7 * BUCKET_MS + 13_000, F0 + 18 * HOUR_MS + 41 * BUCKET_MS], // both ends old
      [F0 + 19 * BUCKET_MS, F0 + 36 * HOUR_MS + 20 * BUCKET_MS + 1],
      [F0 + 18 * HOUR_MS + 5 * BUCKET_MS, H + 6 * HOUR_MS + 3 * BUCKET_MS + 1], // since old, until kept
      [undefined, F0 + 36 * HOUR_MS + 31 * BUCKET_MS],
      [F0 + 36 * HOUR_MS + 59 * BUCKET_MS + 59_000, undefined],
      [H + 6 * HOUR_MS + 7 * BUCKET_MS, H + 24 * HOUR_MS + 50 * BUCKET_MS], // both kept
    ];
    const floor = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
    const ceil = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
    const readAsRows = async () => {
      for (const [since, until] of windows) {
        const hourly = (since !== undefined && since < H) || (until !== undefined && until < H);
        const lo = since === undefined ? undefined : floor(since, since < H ? HOUR_MS : BUCKET_MS);
        const hi = until === undefined ? undefined : ceil(until, until < H ? HOUR_MS : BUCKET_MS);
        const got = await raw.store.stats({ since, until });
        expect(comparable(got as never)).toEqual(expectedOf((await rawStats(raw.store, all, lo, hi, { since, until, hourly })) as never));
      }
    };
    const allTime = await raw.store.stats({});
    const hours = await hourRows();
    const kept = await minutes(` AND bucket >= ${H}`);
    expect(await minutes(` AND bucket < ${H}`)).toBeGreaterThan(100);
    expect(kept).toBeGreaterThan(0);
    // First the reads move to the hours (nothing deleted yet); the minutes go once no read can still count on them.
    expect(await raw.store.foldRollups(cut, now)).toBe(true);
    expect(await raw.store.foldRollups(cut, now)).toBe(false);
    expect(await minutes(` AND bucket < ${H}`)).toBeGreaterThan(100);
    await readAsRows();
    let steps = 0;
    while (await raw.store.foldRollups(cut, now + FOLD_GRACE_MS)) steps++;
    expect(steps).toBeGreaterThan(2);
    expect(await minutes(` AND bucket < ${H}`)).toBe(0);
    expect(await minutes(` AND bucket >= ${H}`)).toBe(kept);
    expect(await hourRows()).toBe(hours);
    expect(await raw.store.stats({})).toEqual(allTime);
    await readAsRows();
  });

  // Back to version 8: no clientMaxSize on the sessions.
  const V9_UNDONE = ['ALTER TABLE sessions DROP COLUMN client_max_size', 'DELETE FROM schema_migrations WHERE version = 9'];
  // Back to version 7: without the sweep's indexes (SQLite's open-expiry one among them; PostgreSQL's is from version 1).
  const V8_UNDONE = [
    ...V9_UNDONE,
    ...(name.startsWith('sqlite') ? ['DROP INDEX sessions_open_expiry'] : []),
    'DROP INDEX sessions_room',
    'DROP INDEX rooms_expires',
    'DROP INDEX rooms_deleted',
    'DELETE FROM schema_migrations WHERE version = 8',
  ];
  // Back to version 6: no day rows.
  const V7_UNDONE = [...V8_UNDONE, `DELETE FROM rollups WHERE bucket >= 0 AND bucket % ${BUCKET_MS} = 2`, 'DELETE FROM schema_migrations WHERE version = 7'];
  // Back to version 5: no running counts of the sessions open.
  const V6_UNDONE = [...V7_UNDONE, "DELETE FROM rollups WHERE kind = 'open'", 'DELETE FROM schema_migrations WHERE version = 6'];
  // Back to version 4: no state since or path on the sessions, no rollups of entries, time in state or paths.
  const V5_UNDONE = [
    ...V6_UNDONE,
    "DELETE FROM rollups WHERE kind IN ('entered', 'dwell', 'path')",
    'ALTER TABLE sessions DROP COLUMN state_since',
    'ALTER TABLE sessions DROP COLUMN path',
    'DELETE FROM schema_migrations WHERE version = 5',
  ];
  // Back to version 3: no rollups, no idempotency keys either.
  const V4_UNDONE = ['DROP TABLE rollups', 'DROP INDEX reports_idempotency', 'ALTER TABLE reports DROP COLUMN idempotency_key', 'DELETE FROM schema_migrations WHERE version = 4'];

  it.each([
    [6, V7_UNDONE, 29],
    [5, V6_UNDONE, 23],
    [4, V5_UNDONE, 21],
    [3, [...V5_UNDONE, ...V4_UNDONE], 16],
  ])('the schema migrations build, from the rows of a version %i database, the rollups kept live', async (_version, undo, seed) => {
    all.push(...(await play(raw.store, fc.sample(fc.array(opArb, { minLength: 60, maxLength: 60 }), { numRuns: 1, seed })[0], T0 + seed * 3_600_000)));
    const windows: Array<[number?, number?]> = [[undefined, undefined], [T0, T0 + 3_600_000], [T0 + 5 * BUCKET_MS, undefined], [T0 + seed * 3_600_000 - 7 * BUCKET_MS, T0 + (seed + 2) * 3_600_000 + 3 * BUCKET_MS]];
    const live = await Promise.all(windows.map(([since, until]) => raw.store.stats({ since, until })));
    const liveMetrics = await raw.store.metricsData([0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300]);
    const liveSessions = await Promise.all(all.map((id) => raw.store.getSession(id)));
    const store = await raw.reopenAfter(undo);
    expect(await store.schemaVersion()).toBe(9);
    const rebuilt = await Promise.all(windows.map(([since, until]) => store.stats({ since, until })));
    for (let i = 0; i < windows.length; i++) expect(comparable(rebuilt[i] as never)).toEqual(expectedOf(live[i] as never));
    // The new figures were there to rebuild: the test would pass on empty ones otherwise.
    expect(live[3].paths.length).toBeGreaterThan(1);
    expect(Object.values(live[3].states).filter((f) => f.timeSpent.count > 0 && f.exampleSessions.length > 0).length).toBeGreaterThan(2);
    // The sessions' state since and path, as kept live, so that they go on from there.
    expect(await Promise.all(all.map((id) => store.getSession(id)))).toEqual(liveSessions);
    const metrics = await store.metricsData([0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300]);
    const bySum = (m: typeof metrics) => ({ ...m, endedSessions: [...m.endedSessions].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))), reportTotals: [...m.reportTotals].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))), openSessions: [...m.openSessions].sort((x, y) => x.state.localeCompare(y.state)), timeToMedia: { ...m.timeToMedia, sum: Math.round(m.timeToMedia.sum * 1000) } });
    expect(bySum(metrics)).toEqual(bySum(liveMetrics));
    expect(liveMetrics.endedSessions.length).toBeGreaterThan(0);
    expect(liveMetrics.openSessions.length).toBeGreaterThan(0);
  });

  it('counters never go down: retention deletes rows, not counts', async () => {
    const before = await raw.store.metricsData([1, 10, 60]);
    const statsBefore = await raw.store.stats({});
    expect(before.endedSessions.reduce((a, e) => a + e.count, 0)).toBeGreaterThan(0);
    const deleted = await raw.store.retain(Date.parse('2100-01-01T00:00:00Z'));
    expect(deleted.reports).toBeGreaterThan(0);
    expect(deleted.sessions).toBeGreaterThan(0);
    const after = await raw.store.metricsData([1, 10, 60]);
    const total = (m: typeof before) => ({
      reports: m.reportTotals.reduce((a, r) => a + r.count, 0),
      ended: m.endedSessions.reduce((a, e) => a + e.count, 0),
      media: m.timeToMedia.count,
      buckets: m.timeToMedia.buckets,
    });
    expect(total(after)).toEqual(total(before));
    const statsAfter = await raw.store.stats({});
    expect({ ...statsAfter, sessions: { ...statsAfter.sessions, open: 0 } }).toEqual({ ...statsBefore, sessions: { ...statsBefore.sessions, open: 0 } });
  });

  it('a bucket keeps at most GROUPS_MAX transitions and non-conformance groups: the rest add up under their overflow key', async () => {
    const start = Date.parse('2026-07-01T00:00:00Z');
    const [id] = await play(raw.store, [{ kind: 'join', room: 0, participant: 0, dt: 0 }], start);
    const windows = { minute: { since: start, until: start + BUCKET_MS }, hour: { since: start, until: start + HOUR_MS }, all: {} };
    const before = await raw.store.stats({});
    // Each report its own made-up event: a new transition and a new group every time.
    const n = GROUPS_MAX + 20;
    for (let i = 0; i < n; i++) {
      const at = start + 1000 + i;
      await raw.store.updateSession(id, (s) => ({
        kind: 'apply',
        value: null,
        changes: {},
        report: {
          receivedAt: at, fromState: s.snapshot.state, fields: { event: `made-up-${i}`, state: 'init', connections: i, sendStreams: 0, recvStreams: 0 },
          verdict: 'unknown-event' as Verdict, labels: { from: s.snapshot.state, event: 'other', state: 'init', verdict: 'unknown-event' as Verdict },
        },
      }));
    }
    const total = (xs: ReadonlyArray<{ count: number }>) => xs.reduce((a, x) => a + x.count, 0);
    for (const [which, q] of Object.entries(windows)) {
      const stats = await raw.store.stats(q);
      const mine = <T extends { event: string; overflow?: true }>(xs: readonly T[]) => xs.filter((x) => x.overflow || x.event.startsWith('made-up-'));
      const transitions = which === 'all' ? stats.transitions : mine(stats.transitions);
      const groups = which === 'all' ? stats.nonConformance : mine(stats.nonConformance);
      if (which !== 'all') {
        // Nothing lost: every report is counted, the first GROUPS_MAX keys each on its own, the rest as one.
        for (const xs of [transitions, groups]) {
          expect(xs.filter((x) => !x.overflow)).toHaveLength(GROUPS_MAX);
          expect(xs.filter((x) => x.overflow).map((x) => x.count)).toEqual([n - GROUPS_MAX]);
          expect(total(xs)).toBe(n);
        }
        expect(groups.find((g) => g.overflow)).toMatchObject({ verdict: 'unknown-event', from: 'init', event: 'other', expected: null, exampleSession: id });
        expect(transitions.find((t) => t.overflow)).toMatchObject({ from: 'init', to: 'other', event: 'other' });
      } else {
        // All time holds the other tests' keys too: at most GROUPS_MAX kept apart, and every report counted.
        for (const xs of [transitions, groups]) expect(xs.filter((x) => !x.overflow).length).toBeLessThanOrEqual(GROUPS_MAX);
        expect(total(transitions) - total(before.transitions)).toBe(n);
        expect(total(groups) - total(before.nonConformance)).toBe(n);
      }
    }
  });

  it('a bucket keeps at most GROUPS_MAX paths: the rest are no path of their own, never among the top ones', async () => {
    const start = Date.parse('2026-08-01T00:00:00Z');
    const n = GROUPS_MAX + 20;
    // Session i walks from init through four states, each other than the one before, chosen by i's digits in base 6.
    const walk = (i: number) => {
      const path: number[] = [];
      let at = 0; // init
      for (let d = 0; d < 4; d++, i = Math.floor(i / 6)) path.push((at = [0, 1, 2, 3, 4, 5, 6].filter((x) => x !== at)[i % 6]));
      return path;
    };
    // The most frequent path of the minute, taken twice more: the top paths must still show it first. Twenty
    // players at once, each with sessions and rooms of its own, all within the minute.
    const walks = [...Array.from({ length: n }, (_, i) => i), 0, 0];
    const players = Array.from({ length: 20 }, (_, p) => walks.filter((_, i) => i % 20 === p));
    const playerOps = (mine: number[]): Op[] => mine.flatMap((w, j) => [{ kind: 'join', room: 0, participant: j, dt: 0 }, { kind: 'walk', pick: j, states: walk(w), dt: 0 }] satisfies Op[]);
    const ids = (await Promise.all(players.map((mine) => play(raw.store, playerOps(mine), start)))).flat();
    for (const id of ids) await raw.store.updateSession(id, (s) => ({ kind: 'apply', value: null, changes: { endedAt: start + 50_000, endReason: 'left', endState: s.snapshot.state } }));
    const stats = await raw.store.stats({ since: start, until: start + BUCKET_MS });
    expect(stats.sessions.ended).toBe(n + 2);
    expect(stats.paths).toHaveLength(TOP_PATHS);
    expect(stats.paths[0]).toMatchObject({ states: ['init', ...walk(0).map((x) => ROOM_STATES[x])], count: 3 });
    expect(stats.paths.every((p) => p.states[0] === 'init')).toBe(true);
    // The store itself: the minute's paths kept apart, and the rest (20 sessions) under the overflow key.
    const paths = (where: string) => raw.number(`SELECT count(DISTINCT key) FROM rollups WHERE bucket = ${start} AND kind = 'path'${where}`);
    const overflow = `key = '${JSON.stringify(Array.from({ length: PATH_MAX_STATES + 1 }, () => null))}'`;
    expect(await paths('')).toBe(GROUPS_MAX + 1);
    expect(await raw.number(`SELECT sum(count) FROM rollups WHERE bucket = ${start} AND kind = 'path' AND ${overflow}`)).toBe(20);
  });

  it('a store outage while the rollups are written fails the whole commit: nothing stored, nothing half-counted', async () => {
    const start = Date.parse('2026-06-01T00:00:00Z');
    const [id] = await play(raw.store, [{ kind: 'join', room: 0, participant: 0, dt: 0 }], start);
    const report = (at: number) => (s: SessionRecord) => ({
      kind: 'apply' as const,
      value: 'stored',
      changes: { snapshot: { ...s.snapshot, state: 'waiting' as RoomState }, firstReached: { ...s.firstReached, waiting: at } },
      report: {
        receivedAt: at, fromState: s.snapshot.state, fields: { event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
        verdict: 'wrong-counters' as Verdict, labels: { from: s.snapshot.state, event: 'Session.connectionCreated', state: 'waiting', verdict: 'wrong-counters' as Verdict },
      },
    });
    const figures = async () => ({ stats: await raw.store.stats({}), totals: (await raw.store.metricsData([])).reportTotals, session: await raw.store.getSession(id), reports: await raw.store.sessionReports(id) });
    const before = await figures();
    if (name !== 'postgres') await raw.exec("CREATE TRIGGER fail_rollups BEFORE INSERT ON rollups BEGIN SELECT RAISE(ABORT, 'the rollups are unavailable (test)'); END");
    else {
      await raw.exec("CREATE FUNCTION fail_rollups() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full (test)' USING ERRCODE = '53100'; END $$ LANGUAGE plpgsql");
      await raw.exec('CREATE TRIGGER fail_rollups BEFORE INSERT ON rollups FOR EACH ROW EXECUTE FUNCTION fail_rollups()');
    }
    // (Compared as outcomes: the driver's errors may come from another realm than the test's.)
    const outcome = await raw.store.updateSession(id, report(start + 1000)).then(
      (value) => ({ resolved: value }),
      (err: { name?: string }) => ({ rejected: name === 'postgres' ? err.name : 'error' }),
    );
    expect(outcome).toEqual({ rejected: name === 'postgres' ? 'StoreUnavailableError' : 'error' });
    expect(await figures()).toEqual(before);
    await raw.exec(name !== 'postgres' ? 'DROP TRIGGER fail_rollups' : 'DROP TRIGGER fail_rollups ON rollups');
    expect(await raw.store.updateSession(id, report(start + 2000))).toBe('stored');
    const after = await figures();
    expect(after.reports).toHaveLength(1);
    expect(after.stats.verdicts.find((v) => v.verdict === 'wrong-counters')!.count).toBe(before.stats.verdicts.find((v) => v.verdict === 'wrong-counters')!.count + 1);
  });
});
