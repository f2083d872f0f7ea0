// What /v1/stats and /metrics read besides the rollups: the running report totals and the sessions open now
// (PostgreSQL dialect; sqlite/sql/figures.ts is the same in SQLite's). None of it scans the reports.
import type { RoomState } from '../../../../../machines/domain';
import type { MetricsData, Verdict } from '../../contract';
import type { Row } from '../../common/rows';
import type { Queryable } from '../connection';

export async function reportTotals(q: Queryable): Promise<MetricsData['reportTotals']> {
  // The running totals are spread over shards (see the migrations): add them up.
  const rows = (await q.query('SELECT from_state, event, state, verdict, sum(count)::bigint AS count FROM report_totals GROUP BY from_state, event, state, verdict')).rows as Row[];
  return rows.map((r) => ({ from: String(r.from_state), event: String(r.event), state: String(r.state), verdict: r.verdict as Verdict, count: Number(r.count) }));
}

/** Open sessions by current state (the partial index of open sessions: as many rows as sessions open now). */
export async function openSessionsByState(q: Queryable): Promise<MetricsData['openSessions']> {
  const rows = (await q.query('SELECT state, count(*) AS count FROM sessions WHERE ended_at IS NULL GROUP BY state')).rows as Row[];
  return rows.map((r) => ({ state: r.state as RoomState, count: Number(r.count) }));
}
