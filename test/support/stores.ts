/**
 * The stores the HTTP-level server suites run against: `describe.each(STORES)('... (%s)', (_name, factory) => ...)`:
 * those `serve` runs (SQLite in worker threads, PostgreSQL). ALL_STORES adds SQLite on the calling thread.
 * Each factory gives a fresh, empty, opened store and a cleanup that closes it and removes its data.
 * A store that cannot run on this machine (e.g. no PostgreSQL) is left out of the list, not failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { ThreadedSqliteStore, type ThreadedSqliteStoreOptions } from '../../src/server/store/sqlite/threaded';
import type { Store } from '../../src/server/store';
import { freshPostgres, pgAvailable } from './postgres';

export interface FreshStore {
  store: Store;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<FreshStore>;

/** A store on a new SQLite file in a temporary folder, opened; cleanup closes it and removes the folder. */
async function onFreshFile<S extends Store>(make: (path: string) => S): Promise<FreshStore & { path: string; dir: string; sqlite: S }> {
  const dir = mkdtempSync(join(tmpdir(), 'loop-room-server-'));
  const path = join(dir, 'rooms.db');
  const sqlite = make(path);
  await sqlite.open();
  return {
    store: sqlite,
    sqlite,
    path,
    dir,
    cleanup: async () => {
      await sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The SQLite store `serve` runs: the database in worker threads. */
export const freshSqlite = (options: Omit<ThreadedSqliteStoreOptions, 'path'> = {}) => onFreshFile((path) => new ThreadedSqliteStore({ path, ...options }));

/** The SQLite store on the calling thread (what export, migrate-store and the worker threads themselves use). */
export const freshSqliteInThread = () => onFreshFile((path) => new SqliteStore({ path }));

// In CI the PostgreSQL suite must run (npm test installs the server): leaving it out there would hide it.
if (process.env.CI && !pgAvailable()) throw new Error('CI is set but no PostgreSQL server binaries were found (scripts/ensure-postgres.sh installs them)');

export const STORES: Array<[name: string, factory: StoreFactory]> = [['sqlite', freshSqlite], ...(pgAvailable() ? [['postgres', freshPostgres] as [string, StoreFactory]] : [])];

/** Every store implementation, for the suites of the store contract itself: those serve runs, and SQLite in-thread. */
export const ALL_STORES: Array<[name: string, factory: StoreFactory]> = [...STORES, ['sqlite in-thread', freshSqliteInThread]];
