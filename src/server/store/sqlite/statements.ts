// Prepared statements of the store's one connection, prepared once per text (preparing costs more than
// running most of them).
import type BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;
/** A prepared statement for this SQL text, from the cache. */
export type Sql = (text: string) => Statement;

export function statementCache(conn: () => Db): { sql: Sql; clear(): void } {
  const cache = new Map<string, Statement>();
  return {
    sql: (text) => {
      let s = cache.get(text);
      if (!s) {
        s = conn().prepare(text);
        cache.set(text, s);
      }
      return s;
    },
    clear: () => cache.clear(),
  };
}

/** better-sqlite3 binds no booleans: SQLite keeps them as 0/1. */
export const bindable = (values: unknown[]) => values.map((v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v));
