// /v1/stats and /metrics figures from the rows either store reads: the same definitions whatever the store.
import { ROOM_STATES, type RoomState } from '../../../../machines/domain';
import type { EndReason, MetricsData, ModelSnapshot, SessionReplay, Stats, StatsQuery, Store, Verdict } from '../contract';
import type { Row } from './rows';

/** The q-quantile (0..1) of ascending `sorted` by the nearest-rank method; null when empty. */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/** The query's window in milliseconds (open ends made finite). */
export function windowOf(q: StatsQuery): { since: number; until: number } {
  return { since: q.since ?? 0, until: q.until ?? Number.MAX_SAFE_INTEGER };
}

const firstReachedOf = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Partial<Record<RoomState, number>>;

export interface StatsRows {
  started: number;
  ended: number;
  open: number;
  /** Sessions joined in the window: joined_at, first_reached. */
  joined: Iterable<Row>;
  /** from, to, event, count. */
  transitions: Row[];
  /** state, reason, count. */
  endedBy: Row[];
  /** verdict, from_state, event, expected, state, connections, send_streams, recv_streams, count, example. */
  nonConformance: Row[];
}

export function statsFromRows(q: StatsQuery, r: StatsRows): Stats {
  const funnel = Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as Record<RoomState, number>;
  const media: number[] = [];
  for (const row of r.joined) {
    const first = firstReachedOf(row.first_reached);
    for (const s of ROOM_STATES) if (first[s] !== undefined) funnel[s]++;
    if (first.sendrecv !== undefined) media.push((first.sendrecv - Number(row.joined_at)) / 1000);
  }
  media.sort((a, b) => a - b);
  return {
    since: q.since === undefined ? null : new Date(q.since).toISOString(),
    until: q.until === undefined ? null : new Date(q.until).toISOString(),
    sessions: { started: r.started, ended: r.ended, open: r.open },
    funnel,
    transitions: r.transitions.map((t) => ({ from: String(t.from), to: String(t.to), event: String(t.event), count: Number(t.count) })),
    ended: r.endedBy.map((e) => ({ state: String(e.state), reason: e.reason as EndReason, count: Number(e.count) })),
    timeToMedia: { count: media.length, p50: percentile(media, 0.5), p90: percentile(media, 0.9), p99: percentile(media, 0.99) },
    nonConformance: r.nonConformance.map((n) => ({
      verdict: n.verdict as Verdict,
      from: String(n.from_state),
      event: String(n.event),
      expected: n.expected === null ? null : (typeof n.expected === 'string' ? JSON.parse(n.expected) : n.expected) as ModelSnapshot,
      reported: { state: String(n.state), connections: Number(n.connections), sendStreams: Number(n.send_streams), recvStreams: Number(n.recv_streams) },
      count: Number(n.count),
      exampleSession: String(n.example),
    })),
  };
}

export interface MetricsRows {
  /** from_state, event, state, verdict, count. */
  totals: Row[];
  /** state, count. */
  open: Row[];
  /** end_state, end_reason, count. */
  ended: Row[];
  /** joined_at, media (ms of the first sendrecv). */
  media: Iterable<Row>;
}

export function metricsFromRows(buckets: readonly number[], r: MetricsRows): MetricsData {
  const counts = buckets.map(() => 0);
  let count = 0;
  let sum = 0;
  for (const row of r.media) {
    const seconds = (Number(row.media) - Number(row.joined_at)) / 1000;
    count++;
    sum += seconds;
    buckets.forEach((le, i) => {
      if (seconds <= le) counts[i]++;
    });
  }
  return {
    reportTotals: r.totals.map((t) => ({ from: String(t.from_state), event: String(t.event), state: String(t.state), verdict: t.verdict as Verdict, count: Number(t.count) })),
    openSessions: r.open.map((o) => ({ state: o.state as RoomState, count: Number(o.count) })),
    endedSessions: r.ended.map((e) => ({ state: String(e.end_state), reason: e.end_reason as EndReason, count: Number(e.count) })),
    timeToMedia: { buckets: buckets.map((le, i) => ({ le, count: counts[i] })), count, sum },
  };
}

/** A session's replay from the two reads every store has. */
export async function sessionReplay(store: Pick<Store, 'getSession' | 'sessionReports'>, id: string): Promise<SessionReplay | undefined> {
  const session = await store.getSession(id);
  if (!session) return undefined;
  return { session: session.id, room: session.room, reports: await store.sessionReports(session.id) };
}
