// What /v1/stats and /metrics read besides the rollups: the running report totals and the sessions open now
// (SQLite dialect; postgres/sql/figures.ts is the same in PostgreSQL's). None of it scans the reports.
import type { MetricsData, Verdict } from '../../contract';
import { openByState } from '../../common/figures';
import type { Row } from '../../common/rows';
import type { Sql } from '../statements';
import { rollupSums } from './rollups';

export function reportTotals(sql: Sql): MetricsData['reportTotals'] {
  return (sql('SELECT from_state, event, state, verdict, count FROM report_totals').all() as Row[]).map((r) => ({
    from: String(r.from_state),
    event: String(r.event),
    state: String(r.state),
    verdict: r.verdict as Verdict,
    count: Number(r.count),
  }));
}

/** Open sessions by current state: the `open` running counts (one row per state, whatever the number of sessions). */
export function openSessionsByState(sql: Sql): MetricsData['openSessions'] {
  return openByState(rollupSums(sql, { all: true }, ['open']));
}
