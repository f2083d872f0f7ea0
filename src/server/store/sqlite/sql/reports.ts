// Stored reports and their running totals (SQLite dialect; postgres/sql/reports.ts is the same in PostgreSQL's).
import type { ExportFilter, NewReport, SessionRecord, StatusFields, StoredReport } from '../../contract';
import { placeholders, REPORT_COLUMNS, reportFromRow, reportValues, statusFieldsFromRow, type Row } from '../../common/rows';
import type { Sql } from '../statements';

const LIST = REPORT_COLUMNS.join(', ');
export const EXPORT_PAGE = 1000;

/** Stores a report, with the client's idempotency key when it sent one. */
export function insertReport(sql: Sql, session: SessionRecord, seq: number, r: NewReport, idempotencyKey?: string): void {
  sql(`INSERT INTO reports (${LIST}, idempotency_key) VALUES (${placeholders(REPORT_COLUMNS.length + 1, 'sqlite')})`).run(...reportValues(session, seq, r), idempotencyKey ?? null);
}

/**
 * The fields of the report stored with this idempotency key for the session, if any (the unique index finds it;
 * the row itself is read only when there is one).
 */
export function reportKeySeen(sql: Sql, session: string, key: string): StatusFields | undefined {
  const row = sql('SELECT event, state, connections, send_streams, recv_streams FROM reports WHERE session = ? AND idempotency_key = ?').get(session, key) as Row | undefined;
  return row && statusFieldsFromRow(row);
}

/** Adds one to the running total of the report's labels (never lowered: retention deletes rows, not counts). */
export function addReportTotals(sql: Sql, labels: NewReport['labels'], count = 1): void {
  sql(
    `INSERT INTO report_totals (from_state, event, state, verdict, count) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (from_state, event, state, verdict) DO UPDATE SET count = count + excluded.count`,
  ).run(labels.from, labels.event, labels.state, labels.verdict, count);
}

export function selectSessionReports(sql: Sql, id: string): StoredReport[] {
  return (sql(`SELECT ${LIST} FROM reports WHERE session = ? ORDER BY seq`).all(id) as Row[]).map(reportFromRow);
}

/** One page of the export: reports after row id `after`, in insertion order, with the row id to continue from. */
export function exportPage(sql: Sql, filter: ExportFilter, after: number): { reports: StoredReport[]; last: number } {
  const where = ['id > ?'];
  const params: unknown[] = [after];
  if (filter.room !== undefined) {
    where.push('room = ?');
    params.push(filter.room);
  }
  if (filter.since !== undefined) {
    where.push('received_at >= ?');
    params.push(filter.since);
  }
  const rows = sql(`SELECT id, ${LIST} FROM reports WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${EXPORT_PAGE}`).all(...params) as Row[];
  return { reports: rows.map(reportFromRow), last: rows.length ? Number(rows[rows.length - 1].id) : after };
}

/** Retention: at most `limit` of the reports received before `before`, oldest first; how many. */
export function deleteOldReports(sql: Sql, before: number, limit: number): number {
  return sql('DELETE FROM reports WHERE id IN (SELECT id FROM reports WHERE received_at < ? ORDER BY received_at LIMIT ?)').run(before, limit).changes;
}
