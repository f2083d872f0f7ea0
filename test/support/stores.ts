/**
 * The stores the HTTP-level server suites run against: `describe.each(STORES)('... (%s)', (_name, factory) => ...)`.
 * Each factory gives a fresh, empty, opened store and a cleanup that closes it and removes its data.
 * A store that cannot run on this machine (e.g. no PostgreSQL) is left out of the list, not failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import type { Store } from '../../src/server/store';
import { freshPostgres, pgAvailable } from './postgres';

export interface FreshStore {
  store: Store;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<FreshStore>;

export async function freshSqlite(): Promise<FreshStore & { path: string; dir: string; sqlite: SqliteStore }> {
  const dir = mkdtempSync(join(tmpdir(), 'loop-room-server-'));
  const path = join(dir, 'rooms.db');
  const sqlite = new SqliteStore({ path });
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

// In CI the PostgreSQL suite must run (npm test installs the server): leaving it out there would hide it.
if (process.env.CI && !pgAvailable()) throw new Error('CI is set but no PostgreSQL server binaries were found (scripts/ensure-postgres.sh installs them)');

export const STORES: Array<[name: string, factory: StoreFactory]> = [['sqlite', freshSqlite], ...(pgAvailable() ? [['postgres', freshPostgres] as [string, StoreFactory]] : [])];
