// Rollups: added to in the transaction that stores what they count, summed over a window by the figures
// (SQLite dialect; postgres/sql/rollups.ts is the same in PostgreSQL's). See common/rollups.ts.
import type { RollupSum } from '../../common/figures';
import { ALL, type RollupKind, type RollupRow, type bucketRange } from '../../common/rollups';
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
export function rollupSums(sql: Sql, range: ReturnType<typeof bucketRange>): RollupSum[] {
  const select = 'SELECT kind, key, SUM(count) AS count, SUM(sum) AS sum, MIN(example) AS example FROM rollups';
  const rows = (range.all ? sql(`${select} WHERE bucket = ? GROUP BY kind, key`).all(ALL) : sql(`${select} WHERE bucket >= ? AND bucket < ? GROUP BY kind, key`).all(range.from, range.to)) as Row[];
  return rows.map((r) => ({ kind: r.kind as RollupKind, key: String(r.key), count: Number(r.count), sum: Number(r.sum), example: r.example === null ? null : String(r.example) }));
}
