// The store as the rest of the server sees it: the contract, and which store a command line names:
// `--db PATH` (SQLite, the default ./loop-room-state.db) or `--store URL` (sqlite:PATH, or postgres://... for
// several server processes on one database).
import { createPostgresStore } from './postgres/store';
import { SqliteStore } from './sqlite/store';
import type { Store } from './contract';

export * from './contract';

export const DEFAULT_DB = './loop-room-state.db';

export interface StoreSpec {
  db?: string;
  store?: string;
}

/** A store that can be opened; describe() names it without any secret (no password). */
export interface ChosenStore {
  store: Store;
  describe: string;
}

export function chooseStore(spec: StoreSpec, log?: (line: string) => void): ChosenStore {
  if (spec.db !== undefined && spec.store !== undefined) throw new Error('pass --db PATH or --store URL, not both');
  const url = spec.store;
  if (url === undefined || url.startsWith('sqlite:')) {
    const path = url === undefined ? (spec.db ?? DEFAULT_DB) : url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('sqlite: needs a file path, e.g. sqlite:./rooms.db');
    return { store: new SqliteStore({ path, log }), describe: `SQLite ${path}` };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { store: createPostgresStore(url, { log }), describe: 'PostgreSQL' };
  throw new Error(`--store must be sqlite:PATH or postgres://...; got a URL with scheme '${url.split(':')[0]}'`);
}
