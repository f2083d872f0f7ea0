// What a SQLite failure means to the server: "cannot serve now" (StoreUnavailableError) or a bug.
import { StoreUnavailableError } from '../errors';

/** SQLite result codes that mean "cannot serve now" rather than a bug. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOTADB|CORRUPT|PERM|AUTH)/;

/** The store's log line writer; `where` (the file, and the busy timeout) goes into every outage message. */
export type Log = ((line: string) => void) & { where?: { path: string; busyTimeoutMs: number } };

/** The error as the contract says: an outage becomes StoreUnavailableError (logged once), anything else stays. */
export function classify(log: Log, what: string, err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  return UNAVAILABLE.test(code) ? unavailable(log, what, err) : err;
}

export function unavailable(log: Log, what: string, err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const code = String((err as { code?: unknown }).code ?? (err as Error)?.name ?? 'error');
  // Name the file, and for a lock the wait it gave up after: the operator's first two questions.
  const w = log.where;
  const busy = w && /^SQLITE_(BUSY|LOCKED)/.test(code) ? `, after the busy timeout of ${w.busyTimeoutMs} ms` : hint(code);
  const store = w ? `SQLite ${w.path}: ` : '';
  log(`store: ${store}${what} failed (${code}${busy})`);
  return new StoreUnavailableError(`the ${w ? `SQLite store ${w.path}` : 'store'} is unavailable (${code}${busy})`, err);
}

/** What an operator checks first for codes that are nearly always the file system, not the database. */
function hint(code: string): string {
  if (/^SQLITE_(READONLY|CANTOPEN|PERM)/.test(code)) return ': check that this process may write the file, its folder and any -wal and -shm beside it';
  if (/^SQLITE_FULL/.test(code)) return ': the disk or the file system quota is full';
  return '';
}
