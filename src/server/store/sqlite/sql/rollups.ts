// Rollups: added to in the transaction that stores what they count, summed over a window by the figures
// (SQLite dialect; postgres/sql/rollups.ts is the same in PostgreSQL's). See common/rollups.ts.
import type { RollupExample, RollupSum } from '../../common/figures';
import { foldStep, MINUTE_ROLLUPS, parseFoldState, type FoldState } from '../../common/fold';
import { ALL, BUCKET_MS, DAY_MS, GROUPS_MAX, hourBuckets, newestHours, overflowKeyOf, type BucketRange, type RollupKind, type RollupRow, type WindowRange } from '../../common/rollups';
import { optNumber, type Row } from '../../common/rows';
import type { Sql } from '../statements';

const EXAMPLE_LEAST = 'CASE WHEN excluded.example IS NOT NULL AND (example IS NULL OR excluded.example < example) THEN excluded.example ELSE example END';

/**
 * Adds the rows, in their (fixed) order. A row whose kind can overflow (common/rollups.ts) adds to its key when the
 * bucket has it; otherwise it is inserted under its key while the bucket holds fewer than GROUPS_MAX keys of the kind,
 * and under its overflow key after that. (The check costs only a new key its count: an existing one is one UPDATE.)
 */
export function addRollups(sql: Sql, rows: readonly RollupRow[], shard = 0): void {
  const upsert = sql(
    `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (bucket, kind, key, shard) DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum, example = ${EXAMPLE_LEAST}`,
  );
  const update = sql(
    `UPDATE rollups SET count = count + ?, sum = sum + ?, example = CASE WHEN ? IS NOT NULL AND (example IS NULL OR ? < example) THEN ? ELSE example END
     WHERE bucket = ? AND kind = ? AND key = ? AND shard = ?`,
  );
  const full = sql(`SELECT count(*) >= ${GROUPS_MAX} AS full FROM (SELECT DISTINCT key FROM rollups WHERE bucket = ? AND kind = ? LIMIT ${GROUPS_MAX})`).pluck();
  for (const r of rows) {
    const overflow = overflowKeyOf(r.kind, r.key);
    if (overflow === null) upsert.run(r.bucket, r.kind, r.key, shard, r.count, r.sum, r.example);
    else if (update.run(r.count, r.sum, r.example, r.example, r.example, r.bucket, r.kind, r.key, shard).changes === 0) {
      upsert.run(r.bucket, r.kind, full.get(r.bucket, r.kind) ? overflow : r.key, shard, r.count, r.sum, r.example);
    }
  }
}

/**
 * The WHERE condition of a window's rows and its values: minute rows are the multiples of a minute, hour rows an
 * hour's start + 1, day rows a day's start + 2 (common/rollups.ts). Each part has its own condition on the bucket, so
 * SQLite reads each from the key (an OR inside an AND made it scan the whole table). Minute rows are read as ranges;
 * hour and day rows are looked up one by one: a range over them would also walk every minute row in between, whose
 * number grows with the traffic, not with the window (as on PostgreSQL). The hours are listed (under two days of
 * them); the days are those between the table's first and last bucket (a window without `since` starts in 1970).
 */
function windowWhere(range: WindowRange): [string, unknown[]] {
  const [[a0, a1], [b0, b1] = [0, 0]] = range.minutes;
  const [d0, d1] = range.days ?? [0, 0];
  const day = (b: string) => `(${b}) / ${DAY_MS} * ${DAY_MS} + 2`;
  const days = `WITH RECURSIVE d(b) AS (SELECT max(?, ${day('SELECT min(bucket) FROM rollups WHERE bucket >= 0')}) UNION ALL SELECT b + ${DAY_MS} FROM d WHERE b + ${DAY_MS} <= min(? - 1, ${day(`SELECT coalesce(max(bucket), -${DAY_MS}) FROM rollups`)})) SELECT b FROM d WHERE b <= ? - 1`;
  return [
    `((bucket >= ? AND bucket < ? AND bucket % ${BUCKET_MS} = 0) OR (bucket >= ? AND bucket < ? AND bucket % ${BUCKET_MS} = 0) OR bucket IN (SELECT value FROM json_each(?)) OR bucket IN (${days}))`,
    [a0, a1, b0, b1, JSON.stringify(hourBuckets(range)), d0 + 2, d1 + 2, d1 + 2],
  ];
}

/** Each key's sums over the buckets of the range (shards added up), of every kind or of `kinds`. */
export function rollupSums(sql: Sql, range: BucketRange, kinds?: readonly RollupKind[]): RollupSum[] {
  const select = 'SELECT kind, key, SUM(count) AS count, SUM(sum) AS sum, MIN(example) AS example FROM rollups';
  const [where, values] = range.all ? ['bucket = ?', [ALL]] : windowWhere(range);
  const only = kinds ? ` AND kind IN (${kinds.map(() => '?').join(', ')})` : '';
  const rows = sql(`${select} WHERE ${where}${only} GROUP BY kind, key`).all(...values, ...(kinds ?? [])) as Row[];
  return rows.map((r) => ({ kind: r.kind as RollupKind, key: String(r.key), count: Number(r.count), sum: Number(r.sum), example: r.example === null ? null : String(r.example) }));
}

/** The examples of the `entered` rows of the range, the most recent bucket first (without a window: those of newestHours). */
export function enteredExamples(sql: Sql, range: BucketRange): RollupExample[] {
  const newest = () => (sql('SELECT MAX(bucket) AS b FROM rollups').get() as Row).b;
  const [where, values] = windowWhere(range.all ? newestHours(optNumber(newest())) : range);
  const rows = sql(`SELECT key, bucket, MIN(example) AS example FROM rollups WHERE kind = 'entered' AND ${where} GROUP BY key, bucket ORDER BY bucket DESC, key`).all(...values) as Row[];
  return rows.map((r) => ({ key: String(r.key), example: String(r.example) }));
}

// ---- folding old minutes (common/fold.ts) ----------------------------------------------------------------------

/** The fold's state, as its settings row holds it. */
export function foldState(sql: Sql): FoldState {
  return parseFoldState(sql('SELECT value FROM settings WHERE name = ?').pluck().get(MINUTE_ROLLUPS));
}

/**
 * One step of folding the minutes before `before` (common/fold.ts's foldStep), in the caller's transaction; whether it
 * did anything.
 */
export function foldMinutes(sql: Sql, before: number, now: number): boolean {
  const state = foldState(sql);
  const oldest = sql(`SELECT bucket FROM rollups WHERE bucket >= ? AND bucket % ${BUCKET_MS} = 0 ORDER BY bucket LIMIT 1`).pluck().get(state.deleted);
  const step = foldStep(state, before, now, optNumber(oldest));
  if (step.kind === 'idle') return false;
  if (step.kind === 'delete') sql(`DELETE FROM rollups WHERE bucket >= ? AND bucket < ? AND bucket % ${BUCKET_MS} = 0`).run(step.from, step.to);
  sql('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(MINUTE_ROLLUPS, JSON.stringify(step.next));
  return true;
}
