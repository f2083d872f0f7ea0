// The SQLite side of a store copy: a read snapshot of one file, or one write transaction on another.
import { existsSync } from 'node:fs';
import { loadBetterSqlite3 } from '../../peers';
import { insertSql, quote } from './plan';
import type { ColumnKind, CopySource, CopyTarget, InsertMode, Row, TableInfo } from './types';

type Db = import('better-sqlite3').Database;

function kindOfDeclared(type: string): ColumnKind {
  const t = type.toUpperCase();
  if (t.includes('INT')) return 'int';
  if (t.includes('REAL') || t.includes('DOUB') || t.includes('FLOA')) return 'real';
  return 'text';
}

function tablesOf(db: Db): TableInfo[] {
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return names.map((name) => {
    const cols = db.prepare(`PRAGMA table_info(${quote(name)})`).all() as Array<{ name: string; type: string; notnull: number; dflt_value: unknown; pk: number }>;
    return {
      name,
      columns: cols.map((c) => ({ name: c.name, kind: kindOfDeclared(c.type), required: c.notnull === 1 && c.dflt_value === null && c.pk === 0 })),
      key: cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
    };
  });
}

const countOf = (db: Db, table: string) => Number((db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n);
const sumOf = (db: Db, table: string, column: string) => Number((db.prepare(`SELECT coalesce(sum(${quote(column)}), 0) AS n FROM ${quote(table)}`).get() as { n: number }).n);

const versionOf = (db: Db) => Number((db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_migrations').get() as { v: number }).v);

export function sqliteCopySource(path: string): CopySource {
  if (!existsSync(path)) throw new Error(`no such SQLite file: ${path}`);
  const Database = loadBetterSqlite3();
  const db = new Database(path, { readonly: true, fileMustExist: true });
  // One read transaction: every table is read from the same snapshot, while a server may go on writing (WAL).
  db.prepare('BEGIN').run();
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  return {
    schemaVersion: async () => versionOf(db),
    tables: async () => tablesOf(db),
    async *rows(table, columns, batch) {
      let rows: Row[] = [];
      for (const r of db.prepare(`SELECT ${columns.map(quote).join(', ')} FROM ${quote(table)}`).iterate() as Iterable<Row>) {
        rows.push(r);
        if (rows.length >= batch) {
          yield rows;
          rows = [];
        }
      }
      if (rows.length) yield rows;
    },
    count: async (table) => countOf(db, table),
    sum: async (table, column) => sumOf(db, table, column),
    close: async () => {
      if (db.inTransaction) db.prepare('COMMIT').run();
      db.close();
    },
  };
}

export function sqliteCopyTarget(path: string): CopyTarget {
  const Database = loadBetterSqlite3();
  const db = new Database(path, { fileMustExist: true, timeout: 5000 });
  const statements = new Map<string, import('better-sqlite3').Statement>();
  return {
    schemaVersion: async () => versionOf(db),
    tables: async () => tablesOf(db),
    begin: async () => {
      db.prepare('BEGIN IMMEDIATE').run();
    },
    async insert(table: TableInfo, columns: readonly string[], rows: readonly Row[], mode: InsertMode) {
      const sql = insertSql(table, columns, mode);
      let stmt = statements.get(sql);
      if (!stmt) statements.set(sql, (stmt = db.prepare(sql)));
      for (const r of rows) stmt.run(columns.map((c) => r[c]));
    },
    count: async (table) => countOf(db, table),
    sum: async (table, column) => sumOf(db, table, column),
    commit: async () => {
      db.prepare('COMMIT').run();
    },
    rollback: async () => {
      if (db.inTransaction) db.prepare('ROLLBACK').run();
    },
    close: async () => {
      db.close();
    },
  };
}
