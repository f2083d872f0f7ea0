// /v1/stats and /metrics figures from the PostgreSQL tables. Same definitions as the SQLite store's, so the
// server answers the same whatever the store; text sorts use the C collation so ties break the same way.
import { ROOM_STATES, type RoomState } from '../../../../machines/domain';
import { percentile } from '../percentile';
import type { EndReason, MetricsData, ModelSnapshot, Stats, StatsQuery, Verdict } from '../types';
import type { Row } from '../rows';

export type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

export async function statsQuery(query: Query, q: StatsQuery): Promise<Stats> {
  const since = q.since ?? 0;
  const until = q.until ?? Number.MAX_SAFE_INTEGER;
  const window = [since, until];
  const one = async (sql: string, params: unknown[] = []) => Number((await query(sql, params))[0].n);
  const [started, ended, open, joined, transitionRows, endedRows, nonConformanceRows] = await Promise.all([
    one('SELECT count(*) AS n FROM sessions WHERE joined_at >= $1 AND joined_at < $2', window),
    one('SELECT count(*) AS n FROM sessions WHERE ended_at >= $1 AND ended_at < $2', window),
    one('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL'),
    query('SELECT joined_at, first_reached FROM sessions WHERE joined_at >= $1 AND joined_at < $2', window),
    query(
      `SELECT from_state AS "from", state AS "to", event, count(*) AS count FROM reports
       WHERE received_at >= $1 AND received_at < $2 GROUP BY from_state, state, event
       ORDER BY count DESC, from_state COLLATE "C", state COLLATE "C", event COLLATE "C"`,
      window,
    ),
    query(
      `SELECT end_state AS state, end_reason AS reason, count(*) AS count FROM sessions WHERE ended_at >= $1 AND ended_at < $2
       GROUP BY end_state, end_reason ORDER BY count DESC, end_state COLLATE "C", end_reason COLLATE "C"`,
      window,
    ),
    query(
      `SELECT verdict, from_state, event, expected, state, connections, send_streams, recv_streams, count(*) AS count, min(session COLLATE "C") AS example
       FROM reports WHERE verdict <> 'conformant' AND received_at >= $1 AND received_at < $2
       GROUP BY verdict, from_state, event, expected, state, connections, send_streams, recv_streams ORDER BY count DESC, verdict COLLATE "C"`,
      window,
    ),
  ]);
  const funnel = Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as Record<RoomState, number>;
  const media: number[] = [];
  for (const r of joined) {
    const first = r.first_reached as Partial<Record<RoomState, number>>;
    for (const s of ROOM_STATES) if (first[s] !== undefined) funnel[s]++;
    if (first.sendrecv !== undefined) media.push((first.sendrecv - Number(r.joined_at)) / 1000);
  }
  media.sort((a, b) => a - b);
  return {
    since: q.since === undefined ? null : new Date(q.since).toISOString(),
    until: q.until === undefined ? null : new Date(q.until).toISOString(),
    sessions: { started, ended, open },
    funnel,
    transitions: transitionRows.map((r) => ({ from: String(r.from), to: String(r.to), event: String(r.event), count: Number(r.count) })),
    ended: endedRows.map((r) => ({ state: String(r.state), reason: r.reason as EndReason, count: Number(r.count) })),
    timeToMedia: { count: media.length, p50: percentile(media, 0.5), p90: percentile(media, 0.9), p99: percentile(media, 0.99) },
    nonConformance: nonConformanceRows.map((r) => ({
      verdict: r.verdict as Verdict,
      from: String(r.from_state),
      event: String(r.event),
      expected: r.expected === null ? null : (r.expected as ModelSnapshot),
      reported: { state: String(r.state), connections: Number(r.connections), sendStreams: Number(r.send_streams), recvStreams: Number(r.recv_streams) },
      count: Number(r.count),
      exampleSession: String(r.example),
    })),
  };
}

export async function metricsDataQuery(query: Query, buckets: readonly number[]): Promise<MetricsData> {
  const [totals, open, ended, media] = await Promise.all([
    // The running totals are spread over shards (see the migrations): add them up.
    query('SELECT from_state, event, state, verdict, sum(count)::bigint AS count FROM report_totals GROUP BY from_state, event, state, verdict'),
    query('SELECT state, count(*) AS count FROM sessions WHERE ended_at IS NULL GROUP BY state'),
    query('SELECT end_state, end_reason, count(*) AS count FROM sessions WHERE ended_at IS NOT NULL GROUP BY end_state, end_reason'),
    query(`SELECT joined_at, (first_reached->>'sendrecv')::bigint AS media FROM sessions WHERE first_reached ? 'sendrecv'`),
  ]);
  const counts = buckets.map(() => 0);
  let count = 0;
  let sum = 0;
  for (const r of media) {
    const seconds = (Number(r.media) - Number(r.joined_at)) / 1000;
    count++;
    sum += seconds;
    buckets.forEach((le, i) => {
      if (seconds <= le) counts[i]++;
    });
  }
  return {
    reportTotals: totals.map((r) => ({ from: String(r.from_state), event: String(r.event), state: String(r.state), verdict: r.verdict as Verdict, count: Number(r.count) })),
    openSessions: open.map((r) => ({ state: r.state as RoomState, count: Number(r.count) })),
    endedSessions: ended.map((r) => ({ state: String(r.end_state), reason: r.end_reason as EndReason, count: Number(r.count) })),
    timeToMedia: { buckets: buckets.map((le, i) => ({ le, count: counts[i] })), count, sum },
  };
}
