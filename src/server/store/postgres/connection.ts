// node-postgres, loaded when a postgres:// store is opened, and what its failures mean to the server.
import type { Pool, PoolConfig } from 'pg';
import { MissingPeerError } from '../../peers';
import { StoreUnavailableError } from '../errors';
import { fencedConnection } from './fence';

type PgModule = typeof import('pg');

export function loadPg(): PgModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pg') as PgModule;
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'pg'`)) throw new MissingPeerError('pg');
    throw err;
  }
}

export interface PoolSettings {
  /** Connections for reads and joins (default 10); the report batches have their own. */
  poolSize: number;
  /** Milliseconds to wait for a connection (default 5000) before the store counts as unavailable. */
  connectTimeoutMs: number;
  /** PostgreSQL statement_timeout, ms (default 30000; 0: none): no statement runs longer (57014, unavailable). */
  statementTimeoutMs: number;
  /** PostgreSQL lock_timeout, ms (default 5000; 0: none): a report waits this long for a row lock, then 503. */
  lockTimeoutMs: number;
  /** Longest a read of figures may run (statement_timeout of their connections); then the store counts as unavailable. */
  readTimeoutMs: number;
}

/**
 * The query parameters node-postgres 8 takes from a connection URL (pg-connection-string's and pg's connection
 * parameters; test/server/serveConfig.test.ts checks the list against the installed versions).
 */
export const PG_URL_PARAMETERS: ReadonlySet<string> = new Set([
  'host', 'port', 'user', 'password', 'database', 'db', 'encoding', 'client_encoding', 'options', 'application_name',
  'fallback_application_name', 'replication', 'binary', 'idle_in_transaction_session_timeout',
  'ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslnegotiation', 'uselibpqcompat',
]);

/** node-postgres's own timeouts would override ours (a URL's parameters win over the pool's settings). */
const OWN_INSTEAD: Record<string, string | undefined> = {
  statement_timeout: 'statement_timeout_ms',
  lock_timeout: 'lock_timeout_ms',
  query_timeout: 'read_timeout_ms or statement_timeout_ms',
  connect_timeout: 'connect_timeout_ms',
};

/**
 * Our own settings ride in the URL's query (`?pool_size=N&connect_timeout_ms=N&statement_timeout_ms=N&lock_timeout_ms=N&read_timeout_ms=N`)
 * and are taken out
 * before node-postgres sees the rest; everything else (sslmode, application_name...) is node-postgres's.
 */
export function parseStoreUrl(url: string): { connectionString: string; settings: PoolSettings } {
  const u = new URL(url);
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(`not a PostgreSQL URL (postgres://...): ${u.protocol}`);
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = u.searchParams.get(name);
    u.searchParams.delete(name);
    if (raw === null) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} in the store URL must be an integer from ${min} to ${max}`);
    return n;
  };
  const poolSize = int('pool_size', 10, 1, 1000);
  const connectTimeoutMs = int('connect_timeout_ms', 5000, 100, 600_000);
  const statementTimeoutMs = int('statement_timeout_ms', 30_000, 0, 86_400_000);
  const lockTimeoutMs = int('lock_timeout_ms', 5000, 0, 86_400_000);
  const readTimeoutMs = int('read_timeout_ms', 5000, 10, 600_000);
  // node-postgres ignores a parameter it does not know: a misspelt `sslmode` would connect without TLS, unnoticed.
  for (const name of new Set(u.searchParams.keys())) {
    if (OWN_INSTEAD[name]) throw new Error(`the store URL sets ${name} with ${OWN_INSTEAD[name]} (milliseconds); '${name}' is not taken`);
    if (!PG_URL_PARAMETERS.has(name)) throw new Error(`the store URL has a parameter node-postgres does not know: '${name}' (ours: pool_size, connect_timeout_ms, statement_timeout_ms, lock_timeout_ms, read_timeout_ms; node-postgres's: ${[...PG_URL_PARAMETERS].join(', ')})`);
  }
  return { connectionString: u.toString(), settings: { poolSize, connectTimeoutMs, statementTimeoutMs, lockTimeoutMs, readTimeoutMs } };
}

/** A URL fit for a message: no password, no query. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** int8 (BIGINT, count(*)) read as a number: epoch milliseconds and counts stay far below 2^53. */
export function int8AsNumber(pg: PgModule): { getTypeParser: typeof pg.types.getTypeParser } {
  return { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser };
}

export interface PoolOptions {
  /** Connections (default: the URL's pool_size). */
  size?: number;
  /** A pool for figures: statements stop at the URL's read_timeout_ms (PostgreSQL cancels them), and callers wait no longer than that for a connection. */
  reads?: boolean;
  /** Every transaction read-only (export): PostgreSQL refuses a write should one slip in. */
  readOnly?: boolean;
  /** The newest schema version this process knows, named on every connection (the schema fence, fence.ts). */
  schemaVersion?: number;
}

export function createPool(pg: PgModule, url: string, log: (line: string) => void, options: PoolOptions = {}): Pool {
  const { connectionString, settings } = parseStoreUrl(url);
  const { size, reads = false, readOnly = false, schemaVersion } = options;
  const types = int8AsNumber(pg);
  const config: PoolConfig = {
    ...(schemaVersion === undefined ? { connectionString } : fencedConnection(connectionString, schemaVersion)),
    max: size ?? settings.poolSize,
    connectionTimeoutMillis: reads ? Math.min(settings.connectTimeoutMs, settings.readTimeoutMs) : settings.connectTimeoutMs,
    // Sent as startup parameters: every connection of the pool has them, whatever runs on it (figures: the shorter read limit).
    statement_timeout: reads ? settings.readTimeoutMs : settings.statementTimeoutMs,
    lock_timeout: settings.lockTimeoutMs,
    idleTimeoutMillis: 30_000,
    types,
    // Awaited before the connection is handed out (a 'connect' listener's query would race the caller's).
    ...(readOnly ? { onConnect: async (c) => void (await c.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY')) } : {}),
  };
  const pool = new pg.Pool(config);
  // An idle connection that dies (PostgreSQL restarted) is reported here; unhandled it would end the process.
  pool.on('error', (err) => log(`postgres: idle connection lost (${describe(err)})`));
  return pool;
}

/** SQLSTATE classes that mean our SQL or data is wrong: a programming error, not an outage. */
const PROGRAMMING_CLASSES = new Set(['0A', '21', '22', '23', '26', '2B', '34', '3D', '3F', '42', '44', 'P0']);

export function isRetryable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '40001' || code === '40P01';
}

/** Whether the error says the database cannot serve now (connection, shutdown, disk, resources). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '3D000') return true; // database does not exist (dropped, or not made yet)
    return !PROGRAMMING_CLASSES.has(code.slice(0, 2));
  }
  // Socket errors (ECONNREFUSED, ECONNRESET...) and node-postgres's own connection messages carry no SQLSTATE.
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  const message = String((err as { message?: unknown })?.message ?? '');
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Client was closed|not queryable|Connection ended|socket/i.test(message);
}

export function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e?.message === 'string' ? e.message : String(err)}`.slice(0, 300);
}

/** Rethrows a database error as the store contract says: outages become StoreUnavailableError. */
export function toStoreError(err: unknown, what: string): Error {
  if (err instanceof StoreUnavailableError) return err;
  if (isUnavailable(err)) return new StoreUnavailableError(`PostgreSQL store unavailable (${what}): ${describe(err)}`, err);
  return err instanceof Error ? err : new Error(String(err));
}

/** What the SQL in sql/ runs on: a pool (any connection) or one connection in a transaction. */
export type Queryable = Pick<Pool, 'query'>;
