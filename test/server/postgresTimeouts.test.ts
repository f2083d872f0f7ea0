// PostgreSQL statement and lock timeouts (issue 18): every pooled connection runs with them, from the store URL's
// statement_timeout_ms and lock_timeout_ms (defaults 30 s and 5 s), so a report blocked by a row lock is answered
// 503 (retry) in bounded time instead of waiting on, and a runaway statement is stopped.
import { createPool, loadPg, parseStoreUrl, toStoreError } from '../../src/server/store/postgres/connection';
import { StoreUnavailableError } from '../../src/server/store';
import { usePgCluster } from '../support/postgres';

const pg = usePgCluster();

test('the URL sets them; bad values are refused', () => {
  expect(parseStoreUrl('postgres://db/r?statement_timeout_ms=1500&lock_timeout_ms=0').settings).toMatchObject({ statementTimeoutMs: 1500, lockTimeoutMs: 0 });
  expect(parseStoreUrl('postgres://db/r?statement_timeout_ms=1500').connectionString).toBe('postgres://db/r');
  for (const bad of ['statement_timeout_ms=-1', 'lock_timeout_ms=soon']) expect(() => parseStoreUrl(`postgres://db/r?${bad}`)).toThrow(/must be an integer/);
});

test('every connection has them: defaults, then the URL\'s; a lock wait and a long statement end as unavailable', async () => {
  const url = await pg().createDatabase();
  const log = () => {};
  const defaults = createPool(loadPg(), url, log, { size: 1 });
  const tight = createPool(loadPg(), `${url}?statement_timeout_ms=400&lock_timeout_ms=150`, log, { size: 2 });
  try {
    expect((await defaults.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('30s');
    expect((await defaults.query('SHOW lock_timeout')).rows[0].lock_timeout).toBe('5s');
    expect((await tight.query('SHOW statement_timeout')).rows[0].statement_timeout).toBe('400ms');
    expect((await tight.query('SHOW lock_timeout')).rows[0].lock_timeout).toBe('150ms');

    const slow = await tight.query('SELECT pg_sleep(5)').catch((err: unknown) => err);
    expect((slow as { code?: string }).code).toBe('57014');
    expect(toStoreError(slow, 'test')).toBeInstanceOf(StoreUnavailableError);

    await defaults.query('CREATE TABLE t (id int PRIMARY KEY, n int)');
    await defaults.query('INSERT INTO t VALUES (1, 0)');
    const holder = await defaults.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM t WHERE id = 1 FOR UPDATE');
      const blocked = await tight.query('UPDATE t SET n = n + 1 WHERE id = 1').catch((err: unknown) => err);
      expect((blocked as { code?: string }).code).toBe('55P03');
      expect(toStoreError(blocked, 'test')).toBeInstanceOf(StoreUnavailableError);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  } finally {
    await defaults.end();
    await tight.end();
  }
});
