// The traffic wire contract, shared by the server (src/server/traffic.ts) and the page (src/visualizer): what the
// server's traffic endpoints send the page (GET /v1/traffic, and each event of /v1/traffic/stream):
// the server's /v1/stats for the window, plus what the page also draws (open sessions by current state, the
// time-to-media histogram). Checked on arrival: the page never draws a shape it did not expect.
import { ROOM_STATES, type RoomCounters, type RoomState } from '../../machines/domain';

export const TRAFFIC_WINDOWS = ['hour', 'day', 'all'] as const;
export type TrafficWindow = (typeof TRAFFIC_WINDOWS)[number];
export const WINDOW_MS: Record<TrafficWindow, number | undefined> = { hour: 3_600_000, day: 86_400_000, all: undefined };
export const WINDOW_LABEL: Record<TrafficWindow, string> = { hour: 'last hour', day: 'last day', all: 'all' };

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
}

export interface TrafficSnapshot {
  window: TrafficWindow;
  /** ISO time the figures were read. */
  at: string;
  since: string | null;
  sessions: { started: number; ended: number; open: number };
  /** Sessions started in the window that reached each state. */
  funnel: Record<RoomState, number>;
  /** Open sessions (whatever the window) by their current state. */
  open: Record<RoomState, number>;
  transitions: Array<{ from: string; to: string; event: string; count: number }>;
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
  if (!(TRAFFIC_WINDOWS as readonly unknown[]).includes(x.window)) return { error: 'window' };
  if (typeof x.at !== 'string') return { error: 'at' };
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
  return x as unknown as TrafficSnapshot;
}
