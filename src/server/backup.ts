// An online copy of a live SQLite store (server spec section 8), with SQLite's backup API through better-sqlite3.
// The copy is made in one step, inside one read transaction: a WAL reader does not block the server's writes,
// and no write can restart the copy half-way (a copy in small steps restarts whenever another process writes).
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadBetterSqlite3 } from './peers';

/** Copies `from` to `to` (which must not exist), checks the copy, and resolves with its size in pages. */
export async function backupSqlite(from: string, to: string): Promise<{ pages: number; to: string }> {
  if (!existsSync(from)) throw new Error(`no such database file: ${from}`);
  if (existsSync(to)) throw new Error(`${to} exists already: pick a new file name (a backup never overwrites)`);
  const folder = dirname(to);
  if (!existsSync(folder)) throw new Error(`cannot write the copy: the folder ${folder} does not exist`);
  const Database = loadBetterSqlite3();
  // Next to the target, so that the rename is atomic: a failed backup leaves no half file under `to`.
  const partial = join(folder, `.${basename(to)}.partial-${process.pid}`);
  // Read-only: a backup never writes the store (and its errors must not read as if it did).
  const source = new Database(from, { fileMustExist: true, readonly: true, timeout: 5000 });
  try {
    const result = await source.backup(partial, { progress: () => 0x7fffffff }).catch((err: Error) => {
      throw new Error(`cannot write the copy in ${folder}: ${err.message}`);
    });
    const copy = new Database(partial);
    try {
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(`the copy of ${from} failed its check: ${String(check)}`);
      // A single file: the copy needs no -wal next to it wherever it is moved.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(partial, to);
    return { pages: result.totalPages, to };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    source.close();
  }
}
