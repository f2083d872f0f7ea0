// Moving a whole store to another (migrate-store): what each side offers. Both dialects carry the same tables and
// columns (the migrations mirror each other), with their own types; the copy converts by the target's column type.

/** A column's kind, as far as converting a value between dialects needs to know. */
export type ColumnKind = 'int' | 'real' | 'text' | 'bool' | 'json';

export interface ColumnInfo {
  name: string;
  kind: ColumnKind;
  /** NOT NULL and no default: a value must be given. */
  required: boolean;
}

export interface TableInfo {
  name: string;
  columns: ColumnInfo[];
  /** Primary key columns (a rowid table: its INTEGER PRIMARY KEY). */
  key: string[];
}

export type Row = Record<string, unknown>;

/** The store being read: a consistent snapshot for the whole copy. */
export interface CopySource {
  schemaVersion(): Promise<number>;
  tables(): Promise<TableInfo[]>;
  /** The table's rows (only `columns`), in batches, from the snapshot. */
  rows(table: string, columns: readonly string[], batch: number): AsyncIterable<Row[]>;
  count(table: string): Promise<number>;
  sum(table: string, column: string): Promise<number>;
  close(): Promise<void>;
}

/** How rows go into a target table. */
export type InsertMode =
  /** Plain insert: the target must not hold the key yet. */
  | { kind: 'insert' }
  /** The source's copy wins (settings: the target made its own secret when it was created). */
  | { kind: 'replace' }
  /** The source has a key column the target lacks (sharded running totals): counts of one target key are added up. */
  | { kind: 'sum'; add: string[] };

/** The store being written: everything in one transaction, so a failed copy leaves it as it was. */
export interface CopyTarget {
  schemaVersion(): Promise<number>;
  tables(): Promise<TableInfo[]>;
  begin(): Promise<void>;
  insert(table: TableInfo, columns: readonly string[], rows: readonly Row[], mode: InsertMode): Promise<void>;
  /** Inside the transaction, before commit: what verification reads. */
  count(table: string): Promise<number>;
  sum(table: string, column: string): Promise<number>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}
