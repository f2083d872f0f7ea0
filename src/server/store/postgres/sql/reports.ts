// Stored reports and their running totals (PostgreSQL dialect; sqlite/sql/reports.ts is the same in SQLite's).
import type { ExportFilter, NewReport, SessionRecord, StoredReport } from '../../contract';
import { placeholders, REPORT_COLUMNS, reportFromRow, reportValues, type Row } from '../../common/rows';
import type { Queryable } from '../connection';

const LIST = REPORT_COLUMNS.join(', ');

/** Stores a report, with the client's idempotency key when it sent one. */
export async function insertReport(q: Queryable, session: SessionRecord, seq: number, r: NewReport, idempotencyKey?: string): Promise<void> {
  await q.query(`INSERT INTO reports (${LIST}, idempotency_key) VALUES (${placeholders(REPORT_COLUMNS.length + 1, 'postgres')})`, [...reportValues(session, seq, r), idempotencyKey ?? null]);
}

/** Whether a report with this idempotency key is stored for the session. */
export async function reportKeySeen(q: Queryable, session: string, key: string): Promise<boolean> {
  return (await q.query('SELECT 1 FROM reports WHERE session = $1 AND idempotency_key = $2', [session, key])).rows.length > 0;
}

/** Of these (session, key) pairs, those stored already, as `session\u0000key`. */
export async function reportKeysSeen(q: Queryable, pairs: ReadonlyArray<readonly [string, string]>): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = (
    await q.query('SELECT session, idempotency_key FROM reports WHERE (session, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    ])
  ).rows as Array<{ session: string; idempotency_key: string }>;
  return new Set(rows.map((r) => `${r.session}\u0000${r.idempotency_key}`));
}

/** Adds to the running total of the report's labels (never lowered: retention deletes rows, not counts), in the shard given. */
export async function addReportTotals(q: Queryable, labels: NewReport['labels'], count = 1, shard = 0): Promise<void> {
  await q.query(
    `INSERT INTO report_totals (shard, from_state, event, state, verdict, count) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (shard, from_state, event, state, verdict) DO UPDATE SET count = report_totals.count + excluded.count`,
    [shard, labels.from, labels.event, labels.state, labels.verdict, count],
  );
}

export async function selectSessionReports(q: Queryable, id: string): Promise<StoredReport[]> {
  return ((await q.query(`SELECT ${LIST} FROM reports WHERE session = $1 ORDER BY seq`, [id])).rows as Row[]).map(reportFromRow);
}

/** The export's query: reports in insertion order (a session's reports are inserted in seq order), filtered. */
export function exportQuery(filter: ExportFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.room !== undefined) {
    params.push(filter.room);
    where.push(`room = $${params.length}`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since);
    where.push(`received_at >= $${params.length}`);
  }
  return { sql: `SELECT ${LIST} FROM reports${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id`, params };
}

/** Retention: reports received before `before`; how many. */
export async function deleteOldReports(q: Queryable, before: number, limit: number): Promise<number> {
  // SKIP LOCKED: another process's step takes the next rows instead of waiting for these.
  return (await q.query('DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE received_at < $1 ORDER BY received_at LIMIT $2 FOR UPDATE SKIP LOCKED)', [before, limit])).rowCount ?? 0;
}
