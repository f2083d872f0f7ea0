// What /v1/stats and /metrics read besides the rollups: the running report totals and the sessions open now
// (PostgreSQL dialect; sqlite/sql/figures.ts is the same in SQLite's). None of it scans the reports.
import type { MetricsData, Verdict } from '../../contract';
import { openByState } from '../../common/figures';
import type { Row } from '../../common/rows';
import type { Queryable } from '../connection';
import { rollupSums } from './rollups';

export async function reportTotals(q: Queryable): Promise<MetricsData['reportTotals']> {
  // The running totals are spread over shards (see the migrations): add them up.
  const rows = (await q.query('SELECT from_state, event, state, verdict, sum(count)::bigint AS count FROM report_totals GROUP BY from_state, event, state, verdict')).rows as Row[];
  return rows.map((r) => ({ from: String(r.from_state), event: String(r.event), state: String(r.state), verdict: r.verdict as Verdict, count: Number(r.count) }));
}

/** Open sessions by current state: the `open` running counts (one row per state and shard, whatever the number of sessions). */
export async function openSessionsByState(q: Queryable): Promise<MetricsData['openSessions']> {
  return openByState(await rollupSums(q, { all: true }, ['open']));
}
