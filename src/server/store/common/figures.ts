// /v1/stats and /metrics figures from the rollups either store reads back (rollups.ts): the same definitions
// whatever the store. Their cost depends on the number of buckets in the window, not on the stored reports.
import { ROOM_STATES, type RoomState } from '../../../../machines/domain';
import { DWELL_BOUNDS, EXAMPLES_PER_STATE, PATH_MAX_STATES, TOP_PATHS, type PathCount } from '../../../traffic/wire';
import type { EndReason, MetricsData, ModelSnapshot, SessionReplay, Stats, StatsQuery, Store, StoredReport, Verdict } from '../contract';
import { BUCKET_MS, cmp, countedWindow, HOUR_MS, isOverflowKey, MEDIA_BOUNDS, type RollupKind } from './rollups';

/** One rollup key's sums over a window (what sql/figures.ts reads). */
export interface RollupSum {
  kind: RollupKind;
  key: string;
  count: number;
  sum: number;
  example: string | null;
}

/** One `entered` row a window reads: its key (the state) and its example; the stores give them most recent first. */
export interface RollupExample {
  key: string;
  example: string;
}

/** What the answers say about their time-to-media percentiles. */
export const PERCENTILES_FROM_HISTOGRAM = 'interpolated within histogram buckets, as Prometheus histogram_quantile';

/**
 * The q-quantile (0..1) of a histogram, as Prometheus's histogram_quantile: linear interpolation within the bucket
 * that holds the rank (from 0 for the first); a rank in the last (unbounded) bucket answers the highest bound.
 * `counts` has one count per bound, then the count above them all. Null when empty.
 */
export function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0 && below + counts[i] >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1];
      const lower = i === 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * ((rank - below) / counts[i]);
    }
    below += counts[i];
  }
  return bounds[bounds.length - 1];
}

/** The names of what an overflow row adds up (the same as /metrics's label for a name it does not know). */
const OTHER = 'other';
const parse = (key: string) => JSON.parse(key) as Array<string | null>;
const int = (v: string | null) => Number(v);
const byState = <T>(make: (s: RoomState) => T) => Object.fromEntries(ROOM_STATES.map((s) => [s, make(s)])) as Record<RoomState, T>;
const isState = (v: string | null): v is RoomState => (ROOM_STATES as readonly unknown[]).includes(v);

/** /v1/stats from the window's rollup sums, its `entered` rows' examples (most recent first) and the number of sessions open now. */
export function statsFromRollups(q: StatsQuery, sums: readonly RollupSum[], open: number, examples: readonly RollupExample[], minutesFrom = 0): Stats {
  const funnel = byState(() => 0);
  const entered = byState(() => 0);
  const dwell = byState(() => ({ counts: DWELL_BOUNDS.map(() => 0).concat(0), sum: 0 }));
  const paths: PathCount[] = [];
  const media = MEDIA_BOUNDS.map(() => 0).concat(0);
  let mediaSum = 0;
  let started = 0;
  const transitions: Stats['transitions'] = [];
  const ended: Stats['ended'] = [];
  const verdicts: NonNullable<Stats['verdicts']> = [];
  const nonConformance: Stats['nonConformance'] = [];
  for (const r of sums) {
    const k = parse(r.key);
    switch (r.kind) {
      case 'started':
        started += r.count;
        break;
      case 'funnel':
        if (k[0] !== null && k[0] in funnel) funnel[k[0] as RoomState] += r.count;
        break;
      case 'media':
        media[int(k[0])] += r.count;
        mediaSum += r.sum;
        break;
      case 'transition':
        transitions.push(isOverflowKey('transition', k) ? { from: String(k[0]), to: OTHER, event: OTHER, count: r.count, overflow: true } : { from: String(k[0]), to: String(k[1]), event: String(k[2]), count: r.count });
        break;
      case 'ended':
        ended.push({ state: String(k[0]), reason: k[1] as EndReason, count: r.count });
        break;
      case 'verdict':
        verdicts.push({ verdict: k[0] as Verdict, count: r.count });
        break;
      case 'nonconformance': {
        if (isOverflowKey('nonconformance', k)) {
          const reported = { state: OTHER, connections: 0, sendStreams: 0, recvStreams: 0 };
          nonConformance.push({ verdict: k[0] as Verdict, from: String(k[1]), event: OTHER, expected: null, reported, count: r.count, exampleSession: String(r.example), overflow: true });
          break;
        }
        const [verdict, from, event, es, ec, esend, erecv, state, c, send, recv] = k;
        const expected: ModelSnapshot | null = es === null ? null : { state: es as RoomState, connections: int(ec), sendStreams: int(esend), recvStreams: int(erecv) };
        nonConformance.push({
          verdict: verdict as Verdict,
          from: String(from),
          event: String(event),
          expected,
          reported: { state: String(state), connections: int(c), sendStreams: int(send), recvStreams: int(recv) },
          count: r.count,
          exampleSession: String(r.example),
        });
        break;
      }
      case 'entered':
        if (isState(k[0])) entered[k[0]] += r.count;
        break;
      case 'dwell':
        if (isState(k[0])) {
          dwell[k[0]].counts[int(k[1])] += r.count;
          dwell[k[0]].sum += r.sum;
        }
        break;
      case 'path':
        // The paths past the most a bucket keeps are no path of their own: never among the top ones.
        if (!isOverflowKey('path', k)) paths.push({ states: k.slice(0, PATH_MAX_STATES).filter(isState), truncated: k[PATH_MAX_STATES] === 'true', count: r.count, exampleSession: String(r.example) });
        break;
    }
  }
  // Distinct sessions, from the most recent rows on.
  const exampleSessions = byState((): string[] => []);
  for (const e of examples) {
    const state = parse(e.key)[0];
    const list = isState(state) ? exampleSessions[state] : undefined;
    if (list && list.length < EXAMPLES_PER_STATE && !list.includes(e.example)) list.push(e.example);
  }
  const count = media.reduce((a, b) => a + b, 0);
  const quantile = (p: number) => histogramQuantile(p, MEDIA_BOUNDS, media);
  const window = countedWindow(q.since, q.until, minutesFrom);
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    since: iso(q.since),
    until: iso(q.until),
    bucketSeconds: (window.hourly ? HOUR_MS : BUCKET_MS) / 1000,
    counted: { since: iso(q.since === undefined ? undefined : window.from), until: iso(q.until === undefined ? undefined : window.to) },
    sessions: { started, ended: ended.reduce((a, e) => a + e.count, 0), open },
    funnel,
    transitions: transitions.sort((a, b) => b.count - a.count || cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.event, b.event)),
    ended: ended.sort((a, b) => b.count - a.count || cmp(a.state, b.state) || cmp(a.reason, b.reason)),
    verdicts: verdicts.sort((a, b) => b.count - a.count || cmp(a.verdict, b.verdict)),
    timeToMedia: {
      count,
      p50: quantile(0.5),
      p90: quantile(0.9),
      p99: quantile(0.99),
      percentiles: PERCENTILES_FROM_HISTOGRAM,
      sumSeconds: mediaSum,
      buckets: [...MEDIA_BOUNDS.map((le, i) => ({ le, count: media[i] })), { le: null, count: media[MEDIA_BOUNDS.length] }],
    },
    nonConformance: nonConformance.sort(
      (a, b) => b.count - a.count || cmp(a.verdict, b.verdict) || cmp(a.from, b.from) || cmp(a.event, b.event) || cmp(JSON.stringify([a.expected, a.reported]), JSON.stringify([b.expected, b.reported])),
    ),
    paths: topPaths(paths),
    states: byState((s) => {
      const d = dwell[s];
      const visits = d.counts.reduce((a, b) => a + b, 0);
      // To the microsecond: the stores sum the seconds in different orders (SQLite's and PostgreSQL's answers agree).
      const timeSpent = { count: visits, meanSeconds: visits === 0 ? null : Math.round((d.sum / visits) * 1e6) / 1e6, p50: histogramQuantile(0.5, DWELL_BOUNDS, d.counts), p90: histogramQuantile(0.9, DWELL_BOUNDS, d.counts) };
      return { entered: entered[s], timeSpent, exampleSessions: exampleSessions[s] };
    }),
  };
}

/** The TOP_PATHS most frequent paths; among as frequent ones, by their states then truncated, as JSON text. */
function topPaths(paths: readonly PathCount[]): PathCount[] {
  const keyed = paths.map((p) => ({ p, order: JSON.stringify([p.states, p.truncated]) }));
  return keyed.sort((a, b) => b.p.count - a.p.count || cmp(a.order, b.order)).slice(0, TOP_PATHS).map((k) => k.p);
}

/** Cumulative counts at each of `buckets` (each one of MEDIA_BOUNDS) from per-bucket counts over MEDIA_BOUNDS. */
export function cumulativeAt(buckets: readonly number[], perBucket: ReadonlyArray<{ le: number | null; count: number }>): Array<{ le: number; count: number }> {
  return buckets.map((le) => {
    if (!MEDIA_BOUNDS.includes(le)) throw new Error(`time-to-media bucket ${le} is not one the store keeps (MEDIA_BOUNDS)`);
    return { le, count: perBucket.filter((b) => b.le !== null && b.le <= le).reduce((a, b) => a + b.count, 0) };
  });
}

/** Open sessions by state from the all-time sums of the `open` running counts: the states that have some. */
export function openByState(sums: readonly RollupSum[]): MetricsData['openSessions'] {
  return sums.filter((r) => r.kind === 'open' && r.count > 0).map((r) => ({ state: parse(r.key)[0] as RoomState, count: r.count }));
}

/** The rollup kinds /metrics reads (their running totals): a fixed number of keys, whatever the clients send. */
export const METRICS_KINDS: readonly RollupKind[] = ['ended', 'media'];

/** /metrics's store figures: the running totals (never lowered by retention) and the sessions open now. */
export function metricsFromTotals(
  buckets: readonly number[],
  totals: MetricsData['reportTotals'],
  allTime: readonly RollupSum[],
  open: MetricsData['openSessions'],
): MetricsData {
  const stats = statsFromRollups({}, allTime, 0, []);
  return {
    reportTotals: totals,
    openSessions: open,
    endedSessions: stats.ended,
    timeToMedia: { buckets: cumulativeAt(buckets, stats.timeToMedia.buckets ?? []), count: stats.timeToMedia.count, sum: stats.timeToMedia.sumSeconds ?? 0 },
  };
}

/** A session's replay from the two reads every store has. */
export async function sessionReplay(store: Pick<Store, 'getSession' | 'sessionReports'>, id: string): Promise<SessionReplay | undefined> {
  const session = await store.getSession(id);
  if (!session) return undefined;
  return { session: session.id, room: session.room, reports: await store.sessionReports(session.id) };
}

/** One page of an export, in insertion order, with the row id to continue after. */
export interface ExportPage {
  reports: StoredReport[];
  last: number;
}

/** An export as pages read one at a time (no read transaction stays open across awaits), until an empty one. */
export async function* exportPages(page: (after: number) => Promise<ExportPage>): AsyncIterable<StoredReport> {
  let after = 0;
  for (;;) {
    const p = await page(after);
    if (p.reports.length === 0) return;
    yield* p.reports;
    after = p.last;
  }
}
