// Pure: how each table of the source goes into the target, and how a value changes type on the way.
import type { ColumnKind, InsertMode, TableInfo } from './types';

/** Tables the copy never moves: each store keeps its own migration history. */
const SKIPPED = new Set(['schema_migrations']);

export interface TablePlan {
  table: TableInfo;
  /** Columns read from the source and written to the target. */
  columns: string[];
  /** Target columns the source lacks, each given this value (the sharded totals' shard: 0). */
  fill: Record<string, unknown>;
  mode: InsertMode;
}

export function planCopy(source: readonly TableInfo[], target: readonly TableInfo[]): TablePlan[] {
  const bySource = new Map(source.map((t) => [t.name, t]));
  const plans: TablePlan[] = [];
  for (const t of [...target].sort((a, b) => a.name.localeCompare(b.name))) {
    if (SKIPPED.has(t.name)) continue;
    const s = bySource.get(t.name);
    if (!s) throw new Error(`the source store has no table ${t.name}: are both stores at the same schema version?`);
    const sourceColumns = new Set(s.columns.map((c) => c.name));
    const columns = t.columns.filter((c) => sourceColumns.has(c.name)).map((c) => c.name);
    const fill: Record<string, unknown> = {};
    for (const c of t.columns) {
      if (sourceColumns.has(c.name) || !c.required) continue;
      if (c.kind !== 'int') throw new Error(`table ${t.name}: the target's column ${c.name} has no counterpart in the source`);
      fill[c.name] = 0;
    }
    const targetColumns = new Set(t.columns.map((c) => c.name));
    const dropsKey = s.key.some((k) => !targetColumns.has(k));
    let mode: InsertMode = { kind: 'insert' };
    if (t.name === 'settings') mode = { kind: 'replace' };
    else if (dropsKey) {
      const add = t.columns.filter((c) => !t.key.includes(c.name) && (c.kind === 'int' || c.kind === 'real')).map((c) => c.name);
      if (add.length === 0 || add.length + t.key.length !== t.columns.length) {
        throw new Error(`table ${t.name}: the source has key columns the target lacks, and not every other column can be added up`);
      }
      mode = { kind: 'sum', add };
    }
    plans.push({ table: t, columns, fill, mode });
  }
  const extra = source.filter((s) => !SKIPPED.has(s.name) && !target.some((t) => t.name === s.name));
  if (extra.length) throw new Error(`the target store has no table ${extra.map((t) => t.name).join(', ')}: are both stores at the same schema version?`);
  return plans;
}

/** A value as the target column's type wants it (booleans 0/1 or true/false, JSON as text or a value, int8 as text). */
export function convert(value: unknown, kind: ColumnKind): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'int':
      if (typeof value === 'boolean') return value ? 1 : 0;
      return typeof value === 'string' ? Number(value) : value;
    case 'real':
      return Number(value);
    case 'bool':
      return value === true || value === 1 || value === '1' || value === 't' || value === 'true';
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(value);
    case 'text':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

export const quote = (id: string) => `"${id.replace(/"/g, '""')}"`;

/** INSERT of `values` (one row of `?` by default), with the conflict rule of the mode; both dialects read it alike. */
export function insertSql(table: TableInfo, columns: readonly string[], mode: InsertMode, values = `(${columns.map(() => '?').join(', ')})`): string {
  const head = `INSERT INTO ${quote(table.name)} (${columns.map(quote).join(', ')}) VALUES ${values}`;
  const key = table.key.map(quote).join(', ');
  if (mode.kind === 'replace') {
    const set = columns.filter((c) => !table.key.includes(c)).map((c) => `${quote(c)} = excluded.${quote(c)}`);
    return `${head} ON CONFLICT (${key}) DO UPDATE SET ${set.join(', ')}`;
  }
  if (mode.kind === 'sum') {
    const set = mode.add.map((c) => `${quote(c)} = ${quote(table.name)}.${quote(c)} + excluded.${quote(c)}`);
    return `${head} ON CONFLICT (${key}) DO UPDATE SET ${set.join(', ')}`;
  }
  return head;
}
