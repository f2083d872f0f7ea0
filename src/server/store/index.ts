// The store as the rest of the server sees it: the contract, and which store a command line names:
// `--db PATH` (SQLite, the default ./loop-room-state.db) or `--store URL` (sqlite:PATH[?read_timeout_ms=N], or
// postgres://... for several server processes on one database).
import { parseStoreUrl } from './postgres/connection';
import { createPostgresStore } from './postgres/store';
import { SqliteStore } from './sqlite/store';
import { ThreadedSqliteStore } from './sqlite/threaded';
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

/**
 * `inThread`: a SQLite store on the calling thread (export and migrate-store read or migrate, then stop); otherwise
 * the one a server runs, the database in worker threads (sqlite/threaded.ts).
 */
export function chooseStore(spec: StoreSpec, log?: (line: string) => void, { inThread = false } = {}): ChosenStore {
  if (spec.db !== undefined && spec.store !== undefined) throw new Error('pass --db PATH or --store URL, not both');
  const url = spec.store;
  if (url === undefined || url.startsWith('sqlite:')) {
    const [, rest, query] = /^(.*?)(?:\?(.*))?$/.exec(url === undefined ? '' : url.slice('sqlite:'.length))!;
    const path = url === undefined ? (spec.db ?? DEFAULT_DB) : rest.replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new Error('sqlite: needs a file path, e.g. sqlite:./rooms.db');
    // `sqlite://rooms.db` would be the file /rooms.db (a host part SQLite has not): say which was meant.
    if (url !== undefined && /^\/\/[^/]/.test(rest)) throw new Error(`write sqlite:${rest.slice(2)} for a path relative to the working folder, or sqlite:///${rest.slice(2)} for /${rest.slice(2)}`);
    // A misspelt option must not become part of a new file's name.
    const options = new URLSearchParams(query ?? '');
    for (const name of options.keys()) {
      if (name !== 'read_timeout_ms') throw new Error(`the sqlite: store URL takes one option, read_timeout_ms; got '${name}' (a file whose name holds '?' is given with --db)`);
    }
    const timeout = options.get('read_timeout_ms') ?? undefined;
    const readTimeoutMs = timeout === undefined ? undefined : Number(timeout);
    if (readTimeoutMs !== undefined && !(Number.isInteger(readTimeoutMs) && readTimeoutMs >= 10 && readTimeoutMs <= 600_000)) {
      throw new Error('read_timeout_ms in the store URL must be an integer from 10 to 600000');
    }
    const store = inThread ? new SqliteStore({ path, log }) : new ThreadedSqliteStore({ path, log, ...(readTimeoutMs !== undefined ? { readTimeoutMs } : {}) });
    return { store, describe: `SQLite ${path}` };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    // Not echoed: the URL may hold a password.
    if (!URL.canParse(url)) throw new Error('--store: not a valid PostgreSQL URL (postgres://user:password@host:port/database, special characters in the password percent-encoded)');
    parseStoreUrl(url); // its parameters checked before anything connects
    return { store: createPostgresStore(url, { log }), describe: 'PostgreSQL' };
  }
  throw new Error(`--store must be sqlite:PATH or postgres://...; got a URL with scheme '${url.split(':')[0]}'`);
}
