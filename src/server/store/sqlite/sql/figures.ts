// What /v1/stats and /metrics read besides the rollups: the running report totals and the sessions open now
// (SQLite dialect; postgres/sql/figures.ts is the same in PostgreSQL's). None of it scans the reports.
import type { RoomState } from '../../../../../machines/domain';
import type { MetricsData, Verdict } from '../../contract';
import type { Row } from '../../common/rows';
import type { Sql } from '../statements';

export function reportTotals(sql: Sql): MetricsData['reportTotals'] {
  return (sql('SELECT from_state, event, state, verdict, count FROM report_totals').all() as Row[]).map((r) => ({
    from: String(r.from_state),
    event: String(r.event),
    state: String(r.state),
    verdict: r.verdict as Verdict,
    count: Number(r.count),
  }));
}

/** Open sessions by current state (the partial index of open sessions: as many rows as sessions open now). */
export function openSessionsByState(sql: Sql): MetricsData['openSessions'] {
  return (sql('SELECT state, COUNT(*) AS count FROM sessions WHERE ended_at IS NULL GROUP BY state').all() as Row[]).map((r) => ({ state: r.state as RoomState, count: Number(r.count) }));
}
