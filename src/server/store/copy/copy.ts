// migrate-store: every row of one store into another, SQLite to PostgreSQL and back. All or nothing: the target
// is written in one transaction, checked against the source (row counts, or sums where shards are merged) before
// it commits; a target that already holds data is refused, so the copy never mixes two histories.
import { convert, planCopy } from './plan';
import type { CopySource, CopyTarget, Row } from './types';

const BATCH = 5000;

/** Tables a target may hold rows in before the copy: what a new store makes for itself. */
const MAY_HOLD = new Set(['settings', 'schema_migrations']);

export interface TableCount {
  table: string;
  source: number;
  target: number;
  /** What was compared: rows, or the sum of a column (merged shards). */
  measure: string;
}

export async function copyStore(source: CopySource, target: CopyTarget, progress: (line: string) => void = () => {}): Promise<TableCount[]> {
  const [from, to] = [await source.schemaVersion(), await target.schemaVersion()];
  if (from !== to) throw new Error(`the source store is at schema version ${from} and the target at ${to}: open both with this version of loop-room-state first (serve migrates)`);
  const plans = planCopy(await source.tables(), await target.tables());
  for (const p of plans) {
    if (MAY_HOLD.has(p.table.name)) continue;
    const n = await target.count(p.table.name);
    if (n > 0) throw new Error(`the target store already holds data (${n} rows in ${p.table.name}): migrate-store copies into an empty store only`);
  }
  await target.begin();
  try {
    const counts: TableCount[] = [];
    for (const p of plans) {
      const kinds = new Map(p.table.columns.map((c) => [c.name, c.kind]));
      const columns = [...p.columns, ...Object.keys(p.fill)];
      let copied = 0;
      for await (const batch of source.rows(p.table.name, p.columns, BATCH)) {
        const rows = batch.map((r) => {
          const out: Row = { ...p.fill };
          for (const c of p.columns) out[c] = convert(r[c], kinds.get(c)!);
          return out;
        });
        await target.insert(p.table, columns, rows, p.mode);
        copied += rows.length;
        if (copied % (BATCH * 20) === 0) progress(`${p.table.name}: ${copied} rows`);
      }
      if (p.mode.kind === 'sum') {
        for (const c of p.mode.add) counts.push({ table: p.table.name, measure: `sum(${c})`, source: await source.sum(p.table.name, c), target: await target.sum(p.table.name, c) });
      } else {
        counts.push({ table: p.table.name, measure: 'rows', source: await source.count(p.table.name), target: await target.count(p.table.name) });
      }
    }
    // settings: the target's own rows stay unless the source has the same name, so only "at least" holds there.
    const wrong = counts.filter((c) => (c.table === 'settings' ? c.target < c.source : c.target !== c.source));
    if (wrong.length) throw new Error(`the copy does not match its source (${wrong.map((w) => `${w.table} ${w.measure}: ${w.source} vs ${w.target}`).join('; ')}); nothing was written`);
    await target.commit();
    return counts;
  } catch (err) {
    await target.rollback();
    throw err;
  }
}
