// The rows /v1/stats and /metrics are made of (PostgreSQL dialect; sqlite/sql/figures.ts is the same in SQLite's).
// Text sorts use the C collation so ties break as in SQLite.
import type { StatsQuery } from '../../contract';
import { windowOf, type MetricsRows, type StatsRows } from '../../common/figures';
import type { Row } from '../../common/rows';
import type { Queryable } from '../connection';

const all = async (q: Queryable, text: string, params: unknown[] = []) => (await q.query(text, params)).rows as Row[];
const count = async (q: Queryable, text: string, params: unknown[] = []) => Number((await all(q, text, params))[0].n);

export async function statsRows(q: Queryable, query: StatsQuery): Promise<StatsRows> {
  const { since, until } = windowOf(query);
  const window = [since, until];
  const [started, ended, open, joined, transitions, endedBy, nonConformance] = await Promise.all([
    count(q, 'SELECT count(*) AS n FROM sessions WHERE joined_at >= $1 AND joined_at < $2', window),
    count(q, 'SELECT count(*) AS n FROM sessions WHERE ended_at >= $1 AND ended_at < $2', window),
    count(q, 'SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL'),
    all(q, 'SELECT joined_at, first_reached FROM sessions WHERE joined_at >= $1 AND joined_at < $2', window),
    all(
      q,
      `SELECT from_state AS "from", state AS "to", event, count(*) AS count FROM reports
       WHERE received_at >= $1 AND received_at < $2 GROUP BY from_state, state, event
       ORDER BY count DESC, from_state COLLATE "C", state COLLATE "C", event COLLATE "C"`,
      window,
    ),
    all(
      q,
      `SELECT end_state AS state, end_reason AS reason, count(*) AS count FROM sessions WHERE ended_at >= $1 AND ended_at < $2
       GROUP BY end_state, end_reason ORDER BY count DESC, end_state COLLATE "C", end_reason COLLATE "C"`,
      window,
    ),
    all(
      q,
      `SELECT verdict, from_state, event, expected, state, connections, send_streams, recv_streams, count(*) AS count, min(session COLLATE "C") AS example
       FROM reports WHERE verdict <> 'conformant' AND received_at >= $1 AND received_at < $2
       GROUP BY verdict, from_state, event, expected, state, connections, send_streams, recv_streams ORDER BY count DESC, verdict COLLATE "C"`,
      window,
    ),
  ]);
  return { started, ended, open, joined, transitions, endedBy, nonConformance };
}

export async function metricsRows(q: Queryable): Promise<MetricsRows> {
  const [totals, open, ended, media] = await Promise.all([
    // The running totals are spread over shards (see the migrations): add them up.
    all(q, 'SELECT from_state, event, state, verdict, sum(count)::bigint AS count FROM report_totals GROUP BY from_state, event, state, verdict'),
    all(q, 'SELECT state, count(*) AS count FROM sessions WHERE ended_at IS NULL GROUP BY state'),
    all(q, 'SELECT end_state, end_reason, count(*) AS count FROM sessions WHERE ended_at IS NOT NULL GROUP BY end_state, end_reason'),
    all(q, `SELECT joined_at, (first_reached->>'sendrecv')::bigint AS media FROM sessions WHERE first_reached ? 'sendrecv'`),
  ]);
  return { totals, open, ended, media };
}
