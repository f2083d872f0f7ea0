// The rows /v1/stats and /metrics are made of (SQLite dialect; postgres/sql/figures.ts is the same in PostgreSQL's).
import type { StatsQuery } from '../../contract';
import { windowOf, type MetricsRows, type StatsRows } from '../../common/figures';
import type { Row } from '../../common/rows';
import type { Sql } from '../statements';

const count = (sql: Sql, text: string, ...params: unknown[]) => Number((sql(text).get(...params) as Row).n);

export function statsRows(sql: Sql, q: StatsQuery): StatsRows {
  const { since, until } = windowOf(q);
  return {
    started: count(sql, 'SELECT COUNT(*) AS n FROM sessions WHERE joined_at >= ? AND joined_at < ?', since, until),
    ended: count(sql, 'SELECT COUNT(*) AS n FROM sessions WHERE ended_at >= ? AND ended_at < ?', since, until),
    open: count(sql, 'SELECT COUNT(*) AS n FROM sessions WHERE ended_at IS NULL'),
    joined: sql('SELECT joined_at, first_reached FROM sessions WHERE joined_at >= ? AND joined_at < ?').all(since, until) as Row[],
    transitions: sql(
      `SELECT from_state AS "from", state AS "to", event, COUNT(*) AS count FROM reports
       WHERE received_at >= ? AND received_at < ? GROUP BY from_state, state, event ORDER BY count DESC, 1, 2, 3`,
    ).all(since, until) as Row[],
    endedBy: sql('SELECT end_state AS state, end_reason AS reason, COUNT(*) AS count FROM sessions WHERE ended_at >= ? AND ended_at < ? GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2').all(
      since,
      until,
    ) as Row[],
    nonConformance: sql(
      `SELECT verdict, from_state, event, expected, state, connections, send_streams, recv_streams, COUNT(*) AS count, MIN(session) AS example
       FROM reports WHERE verdict <> 'conformant' AND received_at >= ? AND received_at < ?
       GROUP BY verdict, from_state, event, expected, state, connections, send_streams, recv_streams ORDER BY count DESC, verdict`,
    ).all(since, until) as Row[],
  };
}

export function metricsRows(sql: Sql): MetricsRows {
  return {
    totals: sql('SELECT from_state, event, state, verdict, count FROM report_totals').all() as Row[],
    open: sql('SELECT state, COUNT(*) AS count FROM sessions WHERE ended_at IS NULL GROUP BY state').all() as Row[],
    ended: sql('SELECT end_state, end_reason, COUNT(*) AS count FROM sessions WHERE ended_at IS NOT NULL GROUP BY 1, 2').all() as Row[],
    media: sql("SELECT joined_at, json_extract(first_reached, '$.sendrecv') AS media FROM sessions WHERE json_extract(first_reached, '$.sendrecv') IS NOT NULL").all() as Row[],
  };
}
