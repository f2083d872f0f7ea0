// Reads of figures on PostgreSQL (issue 16, item 2): they run on connections of their own with a statement timeout,
// a read that times out answers 503 with Retry-After, and identical reads in flight are one query, never a pile.
import { listenRoomServer } from '../../src/server/server';
import { StoreUnavailableError } from '../../src/server/store';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { loadPg } from '../../src/server/store/postgres/connection';
import { pgAvailable, sharedPgCluster } from '../support/postgres';
import { raw } from './helpers';

(pgAvailable() ? describe : describe.skip)('figures on PostgreSQL', () => {
  it('identical reads in flight share one query; a read past read_timeout_ms is unavailable (503, Retry-After)', async () => {
    const url = await (await sharedPgCluster()).createDatabase();
    const store = createPostgresStore(`${url}?read_timeout_ms=1500`);
    await store.open();
    const server = await listenRoomServer({ store, port: 0 });
    const locker = new (loadPg().Pool)({ connectionString: url, max: 2 });
    const lock = await locker.connect();
    try {
      // Nothing can read the rollups while this transaction holds them.
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE rollups IN ACCESS EXCLUSIVE MODE');
      const reads = [
        ...Array.from({ length: 10 }, () => store.metricsData([1, 10])),
        ...Array.from({ length: 10 }, () => store.stats({})),
      ].map((p) => p.then(() => 'answered', (err: unknown) => (err instanceof StoreUnavailableError ? 'unavailable' : String(err))));
      const waiting = async () =>
        Number(
          (
            await locker.query(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM rollups%'",
            )
          ).rows[0].n,
        );
      // Twenty callers, one window (all time): one query per distinct read waits (the all-time sums, and the newest
      // bucket the example sessions start from), not twenty.
      for (let i = 0; i < 50 && (await waiting()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      expect(await waiting()).toBe(2);
      const stats = await raw(`${server.serverUrl}/stats`);
      expect(stats.status).toBe(503);
      expect(stats.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(stats.json().errno).toBe(201);
      expect(await Promise.all(reads)).toEqual(Array(20).fill('unavailable'));
      await lock.query('ROLLBACK');
      expect((await raw(`${server.serverUrl}/stats`)).status).toBe(200);
      expect((await store.metricsData([1])).timeToMedia.count).toBe(0);
    } finally {
      lock.release();
      await locker.end();
      await server.close();
      await store.close();
    }
  });
});
