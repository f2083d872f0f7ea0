// The PostgreSQL side of a store copy: a REPEATABLE READ snapshot read through server-side cursors (cursor.ts), or one write
// transaction with multi-row INSERTs.
import type { Client } from 'pg';
import { int8AsNumber, loadPg, parseStoreUrl } from '../postgres/connection';
import { cursorBatches } from '../postgres/cursor';
import { insertSql, quote } from './plan';
import type { ColumnKind, CopySource, CopyTarget, TableInfo } from './types';

/** PostgreSQL takes at most 65,535 parameters a statement. */
const MAX_PARAMETERS = 60_000;

async function connect(url: string): Promise<Client> {
  const pg = loadPg();
  const { connectionString } = parseStoreUrl(url);
  // int8 as a number, as the store reads it; no statement timeout: a copy's reads and writes are long on purpose.
  const client = new pg.Client({ connectionString, types: int8AsNumber(pg) });
  await client.connect();
  return client;
}

function kindOf(dataType: string): ColumnKind {
  if (/^(bigint|integer|smallint)$/.test(dataType)) return 'int';
  if (/^(double precision|real|numeric)$/.test(dataType)) return 'real';
  if (dataType === 'boolean') return 'bool';
  if (dataType === 'jsonb' || dataType === 'json') return 'json';
  return 'text';
}

async function tablesOf(c: Client): Promise<TableInfo[]> {
  const cols = (
    await c.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
    )
  ).rows as Array<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }>;
  const keys = (
    await c.query(
      `SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
       WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() ORDER BY tc.table_name, kcu.ordinal_position`,
    )
  ).rows as Array<{ table_name: string; column_name: string }>;
  const tables = new Map<string, TableInfo>();
  for (const r of cols) {
    let t = tables.get(r.table_name);
    if (!t) tables.set(r.table_name, (t = { name: r.table_name, columns: [], key: [] }));
    t.columns.push({ name: r.column_name, kind: kindOf(r.data_type), required: r.is_nullable === 'NO' && r.column_default === null });
  }
  for (const k of keys) tables.get(k.table_name)?.key.push(k.column_name);
  return [...tables.values()];
}

const versionOf = async (c: Client) => Number((await c.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
const countOf = async (c: Client, table: string) => Number((await c.query(`SELECT count(*) AS n FROM ${quote(table)}`)).rows[0].n);
const sumOf = async (c: Client, table: string, column: string) => Number((await c.query(`SELECT coalesce(sum(${quote(column)}), 0) AS n FROM ${quote(table)}`)).rows[0].n);

export async function postgresCopySource(url: string): Promise<CopySource> {
  const c = await connect(url);
  await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let cursors = 0;
  return {
    schemaVersion: () => versionOf(c),
    tables: () => tablesOf(c),
    rows: (table, columns, batch) => cursorBatches(c, `lrs_copy_${++cursors}`, `SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}`, [], batch),
    count: (table) => countOf(c, table),
    sum: (table, column) => sumOf(c, table, column),
    close: async () => {
      await c.query('COMMIT').catch(() => {});
      await c.end();
    },
  };
}

export async function postgresCopyTarget(url: string): Promise<CopyTarget> {
  const c = await connect(url);
  let tableInfo: TableInfo[] = [];
  return {
    schemaVersion: () => versionOf(c),
    tables: async () => (tableInfo = await tablesOf(c)),
    begin: async () => {
      await c.query('BEGIN');
    },
    async insert(table, columns, rows, mode) {
      const per = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per);
        const params: unknown[] = [];
        const values = chunk.map((r) => `(${columns.map((col) => `$${params.push(r[col])}`).join(', ')})`).join(', ');
        await c.query(insertSql(table, columns, mode, values), params);
      }
    },
    count: (table) => countOf(c, table),
    sum: (table, column) => sumOf(c, table, column),
    commit: async () => {
      // Serial columns go on from the copied rows' largest value, so the next report gets a fresh id.
      for (const t of tableInfo) {
        for (const col of t.columns) {
          const seq = (await c.query('SELECT pg_get_serial_sequence($1, $2) AS s', [t.name, col.name])).rows[0].s as string | null;
          if (seq) await c.query(`SELECT setval($1, coalesce((SELECT max(${quote(col.name)}) FROM ${quote(t.name)}), 0) + 1, false)`, [seq]);
        }
      }
      await c.query('COMMIT');
    },
    rollback: async () => {
      await c.query('ROLLBACK').catch(() => {});
    },
    close: async () => {
      await c.end();
    },
  };
}
