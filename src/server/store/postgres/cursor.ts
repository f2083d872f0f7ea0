// Big reads in batches through a server-side cursor (DECLARE ... FETCH), inside a transaction the caller holds on
// one connection: export's snapshot and migrate-store's copy. Each FETCH is a statement of its own, so
// statement_timeout bounds the database's work for one batch and never counts the time the reader takes between
// batches. (pg-cursor and pg-query-stream read a portal that PostgreSQL times as one statement from the first
// batch to the last: a slow reader would be cancelled. See D-129.)
import type { Row } from '../common/rows';
import type { Queryable } from './connection';

/**
 * The rows of `sql` (parameters `params`), `batch` at a time; the next batch is fetched only when the consumer asks
 * for it, so memory holds one batch whatever the size and however slow the consumer. The cursor `name` is closed at
 * the end or when the consumer stops early; a failed FETCH leaves it to the transaction's end.
 */
export async function* cursorBatches(c: Queryable, name: string, sql: string, params: readonly unknown[], batch: number): AsyncGenerator<Row[]> {
  await c.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, [...params]);
  let open = true;
  try {
    for (;;) {
      let rows: Row[];
      try {
        rows = (await c.query(`FETCH FORWARD ${batch} FROM ${name}`)).rows as Row[];
      } catch (err) {
        open = false;
        throw err;
      }
      if (rows.length > 0) yield rows;
      if (rows.length < batch) return;
    }
  } finally {
    if (open) await c.query(`CLOSE ${name}`);
  }
}
