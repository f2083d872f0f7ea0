// Rollups: added to in the transaction that stores what they count, summed over a window by the figures
// (PostgreSQL dialect; sqlite/sql/rollups.ts is the same in SQLite's). See common/rollups.ts.
import type { RollupExample, RollupSum } from '../../common/figures';
import { foldStep, MINUTE_ROLLUPS, NO_FOLD, parseFoldState, type FoldState } from '../../common/fold';
import { ALL, BUCKET_MS, DAY_MS, GROUPS_MAX, hourBuckets, newestHours, overflowKeyOf, type BucketRange, type RollupKind, type RollupRow, type WindowRange } from '../../common/rollups';
import { optNumber, type Row } from '../../common/rows';
import type { Queryable } from '../connection';

/**
 * The upsert of `rows` as SQL taking its values from parameters $first.. ($first+6) and their overflow keys from
 * $overflow (one statement, or one part of a batch's). A row whose kind can overflow keeps its key when the bucket has
 * it already or holds fewer than GROUPS_MAX keys of the kind; otherwise it adds to its overflow key (common/rollups.ts).
 * Rows that land on one key are added up first (one statement may not update a row twice), and go in key order.
 */
export function addRollupsSql(first: number, overflow = first + 7): string {
  const p = (i: number) => `$${first + i}`;
  return `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example)
     SELECT v.bucket, v.kind, v.key, ${p(0)}, sum(v.count), sum(v.sum), min(v.example COLLATE "C")
     FROM (SELECT u.bucket, u.kind, u.count, u.sum, u.example,
             CASE WHEN u.overflow IS NULL OR EXISTS (SELECT 1 FROM rollups r WHERE r.bucket = u.bucket AND r.kind = u.kind AND r.key = u.key)
                    OR (SELECT count(*) FROM (SELECT DISTINCT r.key FROM rollups r WHERE r.bucket = u.bucket AND r.kind = u.kind LIMIT ${GROUPS_MAX}) AS d) < ${GROUPS_MAX}
                  THEN u.key ELSE u.overflow END AS key
           FROM unnest(${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::bigint[], ${p(5)}::float8[], ${p(6)}::text[], $${overflow}::text[])
             AS u(bucket, kind, key, count, sum, example, overflow)) AS v
     GROUP BY v.bucket, v.kind, v.key ORDER BY v.bucket, v.kind COLLATE "C", v.key COLLATE "C"
     ON CONFLICT (bucket, kind, key, shard) DO UPDATE SET count = rollups.count + EXCLUDED.count, sum = rollups.sum + EXCLUDED.sum,
       example = LEAST(rollups.example COLLATE "C", EXCLUDED.example COLLATE "C")`;
}

/** The parameters $first..$first+6 of addRollupsSql. */
export function addRollupsParams(rows: readonly RollupRow[], shard: number): unknown[] {
  return [shard, rows.map((r) => r.bucket), rows.map((r) => r.kind), rows.map((r) => r.key), rows.map((r) => r.count), rows.map((r) => r.sum), rows.map((r) => r.example)];
}

/** The parameter $overflow of addRollupsSql. */
export const overflowParam = (rows: readonly RollupRow[]) => rows.map((r) => overflowKeyOf(r.kind, r.key));

/** Adds the rows, in their (fixed) order, to this shard's. */
export async function addRollups(q: Queryable, rows: readonly RollupRow[], shard = 0): Promise<void> {
  if (rows.length > 0) await q.query(addRollupsSql(1), [...addRollupsParams(rows, shard), overflowParam(rows)]);
}

/**
 * The WHERE condition of a window's rows and its values: minute rows are the multiples of a minute, hour rows an
 * hour's start + 1, day rows a day's start + 2 (common/rollups.ts). Minute rows are read as ranges; hour and day rows
 * are looked up one by one: a range over them would also walk every minute row in between, whose number grows with
 * the traffic, not with the window (D-130). The hours are listed (under two days of them); the days are those
 * between the table's first and last bucket (a window without `since` starts in 1970).
 */
function windowWhere(range: WindowRange): [string, unknown[]] {
  const [[a0, a1], [b0, b1] = [0, 0]] = range.minutes;
  const [d0, d1] = range.days ?? [0, 0];
  const day = (b: string) => `(${b}) / ${DAY_MS} * ${DAY_MS} + 2`;
  const days = `ARRAY(SELECT generate_series(greatest($6::bigint, ${day('SELECT min(bucket) FROM rollups WHERE bucket >= 0')}), least($7::bigint - 1, ${day(`SELECT coalesce(max(bucket), -${DAY_MS}) FROM rollups`)}), ${DAY_MS}))`;
  return [
    `((bucket >= $1 AND bucket < $2 AND bucket % ${BUCKET_MS} = 0) OR (bucket >= $3 AND bucket < $4 AND bucket % ${BUCKET_MS} = 0) OR bucket = ANY($5::bigint[]) OR bucket = ANY(${days}))`,
    [a0, a1, b0, b1, hourBuckets(range), d0 + 2, d1 + 2],
  ];
}

/** Each key's sums over the buckets of the range (shards added up), of every kind or of `kinds`. */
export async function rollupSums(q: Queryable, range: BucketRange, kinds?: readonly RollupKind[]): Promise<RollupSum[]> {
  const select = 'SELECT kind, key, sum(count)::bigint AS count, sum(sum) AS sum, min(example COLLATE "C") AS example FROM rollups';
  const [where, values] = range.all ? ['bucket = $1', [ALL]] : windowWhere(range);
  const only = kinds ? ` AND kind = ANY($${values.length + 1}::text[])` : '';
  const rows = (await q.query(`${select} WHERE ${where}${only} GROUP BY kind, key`, kinds ? [...values, kinds] : values)).rows as Row[];
  return rows.map((r) => ({ kind: r.kind as RollupKind, key: String(r.key), count: Number(r.count), sum: Number(r.sum), example: r.example === null ? null : String(r.example) }));
}

/**
 * The examples of the `entered` rows of the range, the most recent bucket first (without a window: those of
 * newestHours, the newest bucket read first: as a parameter of the same statement it would plan a scan of the table).
 */
export async function enteredExamples(q: Queryable, range: BucketRange): Promise<RollupExample[]> {
  const newest = async () => (await q.query('SELECT max(bucket) AS b FROM rollups')).rows[0].b;
  const [where, values] = windowWhere(range.all ? newestHours(optNumber(await newest())) : range);
  const text = `SELECT key, bucket, min(example COLLATE "C") AS example FROM rollups WHERE kind = 'entered' AND ${where} GROUP BY key, bucket ORDER BY bucket DESC, key COLLATE "C"`;
  const rows = (await q.query(text, values)).rows as Row[];
  return rows.map((r) => ({ key: String(r.key), example: String(r.example) }));
}

// ---- folding old minutes (common/fold.ts) ----------------------------------------------------------------------

/** The fold's state, as its settings row holds it (`lock`: FOR UPDATE, in a transaction: one step at a time across processes). */
export async function foldState(q: Queryable, lock = false): Promise<FoldState> {
  const rows = (await q.query(`SELECT value FROM settings WHERE name = $1${lock ? ' FOR UPDATE' : ''}`, [MINUTE_ROLLUPS])).rows as Row[];
  return parseFoldState(rows[0]?.value);
}

/** One step of folding the minutes before `before` (common/fold.ts's foldStep), in the caller's transaction; whether it did anything. */
export async function foldMinutes(q: Queryable, before: number, now: number): Promise<boolean> {
  // The row first, so that FOR UPDATE has something to lock the first time too.
  await q.query(`INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [MINUTE_ROLLUPS, JSON.stringify(NO_FOLD)]);
  const state = await foldState(q, true);
  const oldest = (await q.query(`SELECT bucket FROM rollups WHERE bucket >= $1 AND bucket % ${BUCKET_MS} = 0 ORDER BY bucket LIMIT 1`, [state.deleted])).rows[0]?.bucket;
  const step = foldStep(state, before, now, optNumber(oldest));
  if (step.kind === 'idle') return false;
  if (step.kind === 'delete') await q.query(`DELETE FROM rollups WHERE bucket >= $1 AND bucket < $2 AND bucket % ${BUCKET_MS} = 0`, [step.from, step.to]);
  await q.query('UPDATE settings SET value = $2 WHERE name = $1', [MINUTE_ROLLUPS, JSON.stringify(step.next)]);
  return true;
}
