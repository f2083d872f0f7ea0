// The throw-away cluster the PostgreSQL suites run on: loopback only, a run-time port, stop/start, and
// nothing left behind once destroyed.
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { startPgCluster, usePgCluster } from '../support/postgres';

const pg = usePgCluster();

async function query(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test('listens on 127.0.0.1 only, at the port it gives, with durable commits', async () => {
  const rows = await query(pg().url, `SELECT current_setting('listen_addresses') AS l, current_setting('port') AS p, current_setting('fsync') AS f, current_setting('unix_socket_directories') AS s`);
  expect(rows[0]).toEqual({ l: '127.0.0.1', p: String(pg().port), f: 'on', s: '' });
  expect(pg().port).toBeGreaterThan(0);
});

test('createDatabase gives a fresh empty database each time', async () => {
  const a = await pg().createDatabase();
  const b = await pg().createDatabase();
  expect(a).not.toBe(b);
  await query(a, 'CREATE TABLE x (n int)');
  expect(await query(b, `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'x'`)).toEqual([{ n: 0 }]);
});

test('stop refuses connections; start serves the committed data again', async () => {
  const url = await pg().createDatabase();
  await query(url, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
  await pg().stop('immediate');
  expect(pg().running).toBe(false);
  await expect(query(url, 'SELECT 1')).rejects.toThrow();
  await pg().start();
  expect(await query(url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
});

test('destroy stops the server and removes its folder', async () => {
  const c = await startPgCluster({ fsync: false });
  expect(existsSync(c.dataDir)).toBe(true);
  expect(await query(c.url, `SELECT current_setting('fsync') AS f`)).toEqual([{ f: 'off' }]);
  await c.destroy();
  expect(existsSync(c.dataDir)).toBe(false);
  await expect(query(c.url, 'SELECT 1')).rejects.toThrow();
});
