// Rollups: added to in the transaction that stores what they count, summed over a window by the figures
// (SQLite dialect; postgres/sql/rollups.ts is the same in PostgreSQL's). See common/rollups.ts.
import type { RollupSum } from '../../common/figures';
import { ALL, BUCKET_MS, type BucketRange, type RollupKind, type RollupRow } from '../../common/rollups';
import type { Row } from '../../common/rows';
import type { Sql } from '../statements';

/** Adds the rows, in their (fixed) order. */
export function addRollups(sql: Sql, rows: readonly RollupRow[], shard = 0): void {
  const upsert = sql(
    `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (bucket, kind, key, shard) DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,
       example = CASE WHEN excluded.example IS NOT NULL AND (example IS NULL OR excluded.example < example) THEN excluded.example ELSE example END`,
  );
  for (const r of rows) upsert.run(r.bucket, r.kind, r.key, shard, r.count, r.sum, r.example);
}

/** Each key's sums over the buckets of the range (shards added up). */
export function rollupSums(sql: Sql, range: BucketRange): RollupSum[] {
  const select = 'SELECT kind, key, SUM(count) AS count, SUM(sum) AS sum, MIN(example) AS example FROM rollups';
  let rows: Row[];
  if (range.all) rows = sql(`${select} WHERE bucket = ? GROUP BY kind, key`).all(ALL) as Row[];
  else {
    // Minute rows are the multiples of a minute; hour rows are an hour's start + 1 (common/rollups.ts).
    const [[a0, a1], [b0, b1] = [0, 0]] = range.minutes;
    const [h0, h1] = range.hours ?? [0, 0];
    rows = sql(
      `${select} WHERE ((bucket >= ? AND bucket < ?) OR (bucket >= ? AND bucket < ?)) AND bucket % ${BUCKET_MS} = 0 OR (bucket >= ? AND bucket < ? AND bucket % ${BUCKET_MS} = 1) GROUP BY kind, key`,
    ).all(a0, a1, b0, b1, h0, h1) as Row[];
  }
  return rows.map((r) => ({ kind: r.kind as RollupKind, key: String(r.key), count: Number(r.count), sum: Number(r.sum), example: r.example === null ? null : String(r.example) }));
}
