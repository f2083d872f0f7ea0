// What a SQLite failure means to the server: "cannot serve now" (StoreUnavailableError) or a bug.
import { StoreUnavailableError } from '../errors';

/** SQLite result codes that mean "cannot serve now" rather than a bug. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOTADB|CORRUPT|PERM|AUTH)/;

export type Log = (line: string) => void;

/** The error as the contract says: an outage becomes StoreUnavailableError (logged once), anything else stays. */
export function classify(log: Log, what: string, err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  return UNAVAILABLE.test(code) ? unavailable(log, what, err) : err;
}

export function unavailable(log: Log, what: string, err: unknown): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err;
  const code = String((err as { code?: unknown }).code ?? (err as Error)?.name ?? 'error');
  log(`store: ${what} failed (${code})`);
  return new StoreUnavailableError(`the store is unavailable (${code})`, err);
}
