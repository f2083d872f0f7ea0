// Reads of figures on PostgreSQL (issue 16, item 2): they run on connections of their own with a statement timeout,
// a read that times out answers 503 with Retry-After (/metrics: 200 with loop_room_store_up 0), identical reads in
// flight are one query, and slow reads never hold up a report nor run more queries than the figures' connections.
import { ROOM_EVENTS } from '../../machines/domain';
import { createRoom, joinRoom, registerHawkSession, walkRoom } from '../../src/index';
import { DAY_MS, HOUR_MS } from '../../src/server/store/common/rollups';
import { listenRoomServer } from '../../src/server/server';
import { StoreUnavailableError } from '../../src/server/store';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { loadPg } from '../../src/server/store/postgres/connection';
import { pgAvailable, sharedPgCluster } from '../support/postgres';
import { basicAuthorization } from '../../src/transport/basic';
import { raw } from './helpers';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

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
      // The traffic view's reads alike; /metrics answers all the same, saying the store did not answer (spec section 8).
      for (const window of ['all', 'day']) {
        const traffic = await raw(`${server.serverUrl}/traffic?window=${window}`);
        expect({ status: traffic.status, errno: traffic.json().errno }).toEqual({ status: 503, errno: 201 });
        expect(traffic.headers.get('retry-after')).toMatch(/^\d+$/);
      }
      const scrape = await raw(`${server.origin}/metrics`);
      expect(scrape.status).toBe(200);
      expect(metric(scrape.text, 'loop_room_store_up')).toBe(0);
      expect(await Promise.all(reads)).toEqual(Array(20).fill('unavailable'));
      await lock.query('ROLLBACK');
      // Reads answer again within read_timeout_ms: one queued for a connection before the rollback may still time
      // out just after it (a read joining it gets that 503 too), the next one reads.
      const deadline = Date.now() + 1500 + 1000;
      let status = (await raw(`${server.serverUrl}/stats`)).status;
      while (status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await raw(`${server.serverUrl}/stats`)).status;
      }
      expect(status).toBe(200);
      expect((await store.metricsData([1])).timeToMedia.count).toBe(0);
      expect(metric((await raw(`${server.origin}/metrics`)).text, 'loop_room_store_up')).toBe(1);
    } finally {
      lock.release();
      await locker.end();
      await server.close();
      await store.close();
    }
  });

  it('slow reads in flight never hold up a report, and never run more queries than the figures have connections', async () => {
    const url = await (await sharedPgCluster()).createDatabase();
    // Small pools: were figures read on the requests' connections, eight slow reads would take them all.
    const store = createPostgresStore(`${url}?read_timeout_ms=1000&pool_size=3`);
    await store.open();
    const db = new (loadPg().Pool)({ connectionString: url, max: 2 });
    // What a store keeps over the 90 days of its retention at its worst: days as full as the cap lets them be (1,500
    // distinct keys a day, as many as 500 each of transitions, non-conformance groups and paths would make), written by
    // one process (its two running-total shards). Figures over that whole window read every one of these days: a
    // genuinely slow read.
    const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    await db.query(
      `INSERT INTO rollups (bucket, kind, key, shard, count, sum, example)
       SELECT $1::bigint - d * ${DAY_MS}::bigint + 2, 'transition', array_to_json(ARRAY['waiting', 'state-' || k, 'Session.connectionCreated'])::text, s, 1, 0, NULL
       FROM generate_series(1, 90) AS d, generate_series(1, 1500) AS k, generate_series(0, 1) AS s`,
      [Math.floor(now / DAY_MS) * DAY_MS],
    );
    const server = await listenRoomServer({ store, port: 0 });
    let reading = true;
    try {
      const owner = await registerHawkSession(server.serverUrl);
      const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'slow reads', roomOwner: 'o', maxSize: 5 });
      const participants = [];
      for (let i = 0; i < 4; i++) participants.push(await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: `p${i}`, clientMaxSize: 5 }));
      const bodies = walkRoom(Array.from({ length: 60 }, (_, i) => ({ type: ROOM_EVENTS[i % ROOM_EVENTS.length] })) as never)
        .flatMap((s) => (s.report ? [JSON.stringify(s.report)] : []))
        .slice(0, 15);

      // Eight readers, each asking for its own 90-day window (no two share a query), over and over.
      const reads: Array<{ status: number; retryAfter: string | null; ms: number }> = [];
      const readers = Array.from({ length: 8 }, async (_, i) => {
        const since = new Date(now - 2161 * HOUR_MS - i * 60_000).toISOString();
        while (reading) {
          const t0 = performance.now();
          const a = await raw(`${server.serverUrl}/stats?since=${since}`);
          reads.push({ status: a.status, retryAfter: a.headers.get('retry-after'), ms: performance.now() - t0 });
        }
      });
      // How many figure queries PostgreSQL runs at once, sampled while the readers read.
      let most = 0;
      const sampler = (async () => {
        while (reading) {
          const n = (await db.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT kind, key, sum(count)%'")).rows[0].n as number;
          most = Math.max(most, n);
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      // Wait until the slow reads are under way, then report.
      for (let i = 0; i < 1000 && most === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const latencies: number[] = [];
      for (const body of bodies) {
        for (const p of participants) {
          const t0 = performance.now();
          const res = await fetch(`${server.serverUrl}/rooms/${roomToken}`, { method: 'POST', headers: { Authorization: basicAuthorization(p.sessionToken), 'Content-Type': 'application/json' }, body });
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
          expect(res.status).toBe(204);
        }
      }
      reading = false;
      await Promise.all([...readers, sampler]);

      // Every report stored, each in well under the time a read takes (a report waiting for a read's connection would take as long).
      expect(latencies).toHaveLength(60);
      expect(reads.length).toBeGreaterThan(0);
      expect(median(latencies)).toBeLessThan(median(reads.map((r) => r.ms)) / 2);
      // Never more figure queries than the figures' two connections, whatever the readers ask.
      expect(most).toBeGreaterThanOrEqual(1);
      expect(most).toBeLessThanOrEqual(2);
      // A read either answers or, past read_timeout_ms (or waiting that long for a connection), is 503 with Retry-After.
      for (const r of reads) expect(r.status === 200 || (r.status === 503 && /^\d+$/.test(r.retryAfter ?? ''))).toBe(true);
    } finally {
      reading = false;
      await server.close();
      await store.close();
      await db.end();
    }
  }, 120_000);
});
