// Stored reports: a session's, an export's, retention's (PostgreSQL dialect). Reports and their running totals are
// written by the report batches' single statement (reportBatch.ts).
import type { ExportFilter, StoredReport } from '../../contract';
import { REPORT_COLUMNS, reportFromRow, type Row } from '../../common/rows';
import type { Queryable } from '../connection';

const LIST = REPORT_COLUMNS.join(', ');

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
