// One unit of work in one PostgreSQL transaction: retried on deadlock or serialization failure, outages turned
// into StoreUnavailableError, a connection that may be dead never put back into the pool.
import type { Pool, PoolClient } from 'pg';
import { describe, isRetryable, isUnavailable, toStoreError } from './connection';
import { isFenced } from './fence';

const MAX_ATTEMPTS = 5;

export interface TransactionOptions {
  /** The work begins the transaction itself (to save a round trip). */
  begin?: boolean;
  /** Asked when the connection is lost during COMMIT (committed or not, nobody can tell from here): true means it committed. */
  inDoubt?: () => Promise<boolean>;
  /** Told when a transaction committed, with when it began (process.hrtime.bigint()). */
  committed?: (started: bigint) => void;
  /** Tries in all (default MAX_ATTEMPTS), a wait before each retry, and errors retried besides deadlocks and serialization failures. */
  retry?: { attempts: number; backoffMs: number; also: (err: unknown) => boolean };
}

export async function transaction<T>(pool: () => Pool, log: (line: string) => void, what: string, work: (c: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: PoolClient;
    try {
      client = await pool().connect();
    } catch (err) {
      // Said, or a database that takes fewer connections than the pools ask for ("too many clients") would show
      // only as 503s (the operator log is rate-limited).
      log(`postgres: ${what}: no connection (${describe(err)})`);
      throw toStoreError(err, what);
    }
    let broken: Error | undefined;
    // A checked-out connection that dies between two queries (PostgreSQL shutting down) emits 'error' on
    // the client; unheard, that would end the process. The next query then fails and says so.
    const onError = (err: Error) => {
      broken = err;
      log(`postgres: connection lost during ${what} (${describe(err)})`);
    };
    client.on('error', onError);
    let committing = false;
    let result: T | undefined;
    const started = process.hrtime.bigint();
    try {
      if (options.begin !== false) await client.query('BEGIN');
      result = await work(client);
      committing = true;
      await client.query('COMMIT');
      options.committed?.(started);
      return result;
    } catch (err) {
      if (committing && options.inDoubt && isUnavailable(err)) {
        broken = err as Error;
        if (await options.inDoubt()) {
          options.committed?.(started);
          return result as T;
        }
        throw toStoreError(err, what);
      }
      // The connection may be dead: do not put it back (the fence's refusal comes over a sound one).
      const fenced = isFenced(err);
      if (isUnavailable(err) && !fenced) broken = err as Error;
      else await client.query('ROLLBACK').catch((e) => (broken = e as Error));
      if (fenced) log(`postgres: ${what} refused: ${describe(err)}`);
      if ((isRetryable(err) || options.retry?.also(err)) && attempt < (options.retry?.attempts ?? MAX_ATTEMPTS)) {
        log(`postgres: ${what} retried (${describe(err)})`);
        if (options.retry) await new Promise((r) => setTimeout(r, options.retry!.backoffMs));
        continue;
      }
      if (broken && isUnavailable(err)) log(`postgres: ${what} failed (${describe(err)})`);
      throw toStoreError(err, what);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
