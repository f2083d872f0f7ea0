// The traffic wire contract, shared by the server (src/server/traffic.ts) and the page (src/visualizer): what the
// server's traffic endpoints send the page (GET /v1/traffic, and each event of /v1/traffic/stream):
// the server's /v1/stats for the window, plus what the page also draws (open sessions by current state, the
// time-to-media histogram). Checked on arrival: the page never draws a shape it did not expect.
import { ROOM_STATES, type RoomCounters, type RoomState } from '../../machines/domain';

export const TRAFFIC_WINDOWS = ['hour', 'day', 'all'] as const;
export type TrafficWindow = (typeof TRAFFIC_WINDOWS)[number];
export const WINDOW_MS: Record<TrafficWindow, number | undefined> = { hour: 3_600_000, day: 86_400_000, all: undefined };
export const WINDOW_LABEL: Record<SnapshotWindow, string> = { hour: 'last hour', day: 'last day', all: 'all', range: 'chosen range' };
/**
 * What a snapshot covers: a named window (`?window=`), or a chosen range (`?since=ISO&until=ISO`, both given,
 * `until` after `since`), read in whole minutes like /v1/stats. The page compares two snapshots by asking for two.
 */
export type SnapshotWindow = TrafficWindow | 'range';

/** `paths` holds at most this many paths, most frequent first. */
export const TOP_PATHS = 10;
/** A path keeps at most this many states; a longer one is cut there and marked `truncated`. */
export const PATH_MAX_STATES = 8;
/** `exampleSessions` holds at most this many sessions per state. */
export const EXAMPLES_PER_STATE = 3;
/** Upper bounds (seconds) of the time-in-state histogram the store keeps; one more bucket holds everything above. */
export const DWELL_BOUNDS: readonly number[] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The way one ended session went from init: the states it was in, in order, a state repeated only when the session
 * left it and came back (init, waiting, starting, sendrecv, sending, sendrecv, cleanup), as the server held them.
 */
export interface PathCount {
  states: RoomState[];
  /** The session went on past PATH_MAX_STATES states. */
  truncated: boolean;
  /** Sessions that ended in the window along this path. */
  count: number;
  exampleSession: string;
}

/** One state's figures in the window, for its breakdown (its ways in and out come from `transitions`). */
export interface StateFigures {
  /** Times a session entered the state in the window (a join enters init). */
  entered: number;
  /** Time spent in the state, by the visits that left it in the window (a report to another state, or the end). */
  timeSpent: { count: number; meanSeconds: number | null; p50: number | null; p90: number | null };
  /**
   * Up to EXAMPLES_PER_STATE sessions that entered the state in the window, the most recent first: to replay. One per
   * minute of the window (per hour for its whole hours; without a window, per hour of the newest day of traffic), so
   * sessions that all entered within one minute give one.
   */
  exampleSessions: string[];
}

/**
 * Upper bounds (seconds) of the traffic view's time-to-media histogram; the last bucket is everything above.
 * Coarser than /metrics's (METRICS_MEDIA_BUCKETS): every bound here is one of the store's (MEDIA_BOUNDS).
 */
export const TRAFFIC_MEDIA_BUCKETS: readonly number[] = [0.5, 1, 2, 5, 10, 30, 60, 300];

export interface NonConformanceRow {
  verdict: string;
  from: string;
  event: string;
  expected: ({ state: string } & RoomCounters) | null;
  reported: { state: string } & RoomCounters;
  count: number;
  exampleSession: string;
  /** The groups past the most the server keeps per minute, added up (their event and reported snapshot are not kept). */
  overflow?: true;
}

export interface TrafficSnapshot {
  window: SnapshotWindow;
  /** ISO time the figures were read. */
  at: string;
  /** The window read, in whole minutes (null: unbounded on that side; `until` null means up to now). */
  since: string | null;
  until: string | null;
  sessions: { started: number; ended: number; open: number };
  /** Sessions started in the window that reached each state. */
  funnel: Record<RoomState, number>;
  /** Open sessions (whatever the window) by their current state. */
  open: Record<RoomState, number>;
  /** `overflow`: reports of the transitions past the most the server keeps per minute, from that state. */
  transitions: Array<{ from: string; to: string; event: string; count: number; overflow?: true }>;
  ended: Array<{ state: string; reason: string; count: number }>;
  timeToMedia: {
    count: number;
    p50: number | null;
    p90: number | null;
    p99: number | null;
    /** How the percentiles are made (from the store's finer histogram, interpolated as Prometheus histogram_quantile). */
    percentiles?: string;
    /** Sessions per bucket (not cumulative): one per TRAFFIC_MEDIA_BUCKETS bound, then one above the last. */
    histogram: Array<{ le: number | null; count: number }>;
  };
  nonConformance: NonConformanceRow[];
  /** The most frequent paths from init of the sessions that ended in the window (at most TOP_PATHS). */
  paths: PathCount[];
  /** Every state's figures in the window. */
  states: Record<RoomState, StateFigures>;
}

/** One stored report as GET /v1/traffic/sessions/:id answers (the export shape). */
export interface SessionReport {
  seq: number;
  /** The session's state before this report, as the server held it. */
  from: string;
  receivedAt: string;
  report: { action: 'status'; event: string; state: string } & RoomCounters;
  verdict: string;
  expected?: { state: string } & RoomCounters;
}

export interface SessionReports {
  session: string;
  room: string;
  reports: SessionReport[];
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
const isSeconds = (x: unknown) => x === null || (typeof x === 'number' && Number.isFinite(x) && x >= 0);

/** The snapshot, or the first thing wrong with it. */
export function checkTrafficSnapshot(x: unknown): TrafficSnapshot | { error: string } {
  if (!isObj(x)) return { error: 'not an object' };
  if (!(TRAFFIC_WINDOWS as readonly unknown[]).includes(x.window) && x.window !== 'range') return { error: 'window' };
  if (typeof x.at !== 'string') return { error: 'at' };
  if ((x.since !== null && typeof x.since !== 'string') || (x.until !== null && typeof x.until !== 'string')) return { error: 'since/until' };
  const s = x.sessions;
  if (!isObj(s) || !isCount(s.started) || !isCount(s.ended) || !isCount(s.open)) return { error: 'sessions' };
  for (const f of ['funnel', 'open'] as const) {
    const m = x[f];
    if (!isObj(m) || !ROOM_STATES.every((st) => isCount(m[st]))) return { error: f };
  }
  if (!Array.isArray(x.transitions) || !x.transitions.every((t) => isObj(t) && typeof t.from === 'string' && typeof t.to === 'string' && typeof t.event === 'string' && isCount(t.count)))
    return { error: 'transitions' };
  if (!Array.isArray(x.ended) || !x.ended.every((e) => isObj(e) && typeof e.state === 'string' && typeof e.reason === 'string' && isCount(e.count))) return { error: 'ended' };
  const t = x.timeToMedia;
  if (!isObj(t) || !isCount(t.count) || !isSeconds(t.p50) || !isSeconds(t.p90) || !isSeconds(t.p99)) return { error: 'timeToMedia' };
  if (!Array.isArray(t.histogram) || !t.histogram.every((b) => isObj(b) && (b.le === null || typeof b.le === 'number') && isCount(b.count))) return { error: 'timeToMedia.histogram' };
  if (
    !Array.isArray(x.nonConformance) ||
    !x.nonConformance.every(
      (n) => isObj(n) && typeof n.verdict === 'string' && typeof n.from === 'string' && typeof n.event === 'string' && isObj(n.reported) && isCount(n.count) && typeof n.exampleSession === 'string',
    )
  )
    return { error: 'nonConformance' };
  const isState = (v: unknown) => (ROOM_STATES as readonly unknown[]).includes(v);
  if (
    !Array.isArray(x.paths) ||
    x.paths.length > TOP_PATHS ||
    !x.paths.every((p) => isObj(p) && Array.isArray(p.states) && p.states.length <= PATH_MAX_STATES && p.states.every(isState) && typeof p.truncated === 'boolean' && isCount(p.count) && typeof p.exampleSession === 'string')
  )
    return { error: 'paths' };
  const st = x.states;
  if (
    !isObj(st) ||
    !ROOM_STATES.every((s) => {
      const f = st[s];
      if (!isObj(f) || !isCount(f.entered) || !Array.isArray(f.exampleSessions) || f.exampleSessions.length > EXAMPLES_PER_STATE || !f.exampleSessions.every((e) => typeof e === 'string')) return false;
      const t = f.timeSpent;
      return isObj(t) && isCount(t.count) && isSeconds(t.meanSeconds) && isSeconds(t.p50) && isSeconds(t.p90);
    })
  )
    return { error: 'states' };
  return x as unknown as TrafficSnapshot;
}
