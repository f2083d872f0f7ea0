// The SQLite store in worker threads (issue 16): the database off the thread that answers requests. A slow read holds
// up no write; the commits' fsync does not stop this thread's event loop; a read past read_timeout_ms answers 503
// without piling up; a thread that dies makes the store unavailable (503), never a hang. Units of work, decided on
// this thread, are decided once each unless another process changed their rows meanwhile. Where a relation is
// asserted, the same measurement on the store running on this thread shows that it tells the two apart.
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { StoreUnavailableError, type SessionRecord, type Store } from '../../src/server/store';
import { ThreadedSqliteStore } from '../../src/server/store/sqlite/threaded';
import { freshSqlite, freshSqliteInThread, type FreshStore } from '../support/stores';
import { roomRecord, sessionRecord } from './records';
import { expectError, raw, startServer } from './helpers';

type Fresh = FreshStore & { path: string };

const join = (store: Store, s: SessionRecord) => store.joinRoom(s.room, () => ({ kind: 'apply', value: s.id, end: [], create: s }));

/** A session holding `n` reports, written around the store (as a long-lived session's would be). */
async function sessionWithReports(f: Fresh, n: number): Promise<string> {
  const r = roomRecord();
  await f.store.createRoom(r);
  const s = sessionRecord(r.token);
  await join(f.store, s);
  const db = new (loadBetterSqlite3())(f.path);
  try {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO reports (session, seq, room, received_at, from_state, event, state, connections, send_streams, recv_streams, verdict, expected)
       SELECT ?, i, ?, i, 'init', 'Session.connectionCreated', 'waiting', 1, 0, 0, 'conformant', NULL FROM n`,
    ).run(n, s.id, r.token);
  } finally {
    db.close();
  }
  return s.id;
}

/** A report-like unit of work on a session: one more report counted. */
const count = (store: Store, id: string) =>
  store.updateSession(id, (s) => ({ kind: 'apply', value: s.reportCount + 1, changes: { nonConformantCount: s.nonConformantCount + 1 } }));

/** The store's worker thread of that name (to end it as a crash would). */
const thread = (store: ThreadedSqliteStore, name: 'writer' | 'figures') =>
  (store as unknown as { threads: Record<string, { worker: Worker }> }).threads[name].worker;

describe.each([
  // The slow read must end as a success, however busy the machine.
  ['in worker threads', () => freshSqlite({ readTimeoutMs: 120_000 }), true],
  ['on this thread', freshSqliteInThread, false],
] as Array<[string, () => Promise<Fresh>, boolean]>)('SQLite %s', (_name, fresh, threaded) => {
  it(threaded ? 'writes keep committing while a slow read runs' : 'a slow read holds up every write (what the threads prevent)', async () => {
    const f = await fresh();
    try {
      const big = await sessionWithReports(f, 150_000);
      const r = roomRecord();
      await f.store.createRoom(r);
      const s = sessionRecord(r.token);
      await join(f.store, s);
      let writesBeforeRead = -1;
      let writes = 0;
      const read = f.store.sessionReports(big).then((reports) => {
        writesBeforeRead = writes;
        return reports.length;
      });
      for (let i = 0; i < 20; i++) {
        await count(f.store, s.id);
        await f.store.createRoom(roomRecord());
        writes++;
      }
      expect(await read).toBe(150_000);
      if (threaded) expect(writesBeforeRead).toBe(20);
      else expect(writesBeforeRead).toBe(0);
      expect((await f.store.getSession(s.id))!.nonConformantCount).toBe(20);
    } finally {
      await f.cleanup();
    }
  });

  it(threaded ? "the commits' fsync does not stop this thread" : 'every commit stops this thread (what the threads prevent)', async () => {
    const f = await fresh();
    try {
      // Writes of half a megabyte each, one commit (and fsync) apiece.
      const name = 'x'.repeat(512 * 1024);
      await f.store.createRoom(roomRecord({ name }));
      f.store.takeCommitTimes!();
      const before = performance.eventLoopUtilization();
      for (let i = 0; i < 30; i++) await f.store.createRoom(roomRecord({ name }));
      const busyMs = performance.eventLoopUtilization(before).active;
      const commitMs = f.store.takeCommitTimes!().reduce((a, b) => a + b, 0) * 1000;
      if (threaded) expect(busyMs).toBeLessThan(commitMs / 2);
      else expect(busyMs).toBeGreaterThanOrEqual(commitMs);
    } finally {
      await f.cleanup();
    }
  });
});

describe('SQLite in worker threads', () => {
  it('a read past read_timeout_ms is unavailable (503, Retry-After), and reads that timed out in the queue are not run', async () => {
    // How long one slow read takes here and now.
    const f = await freshSqlite({ readTimeoutMs: 120_000 });
    const big = await sessionWithReports(f, 150_000);
    let t = performance.now();
    await f.store.sessionReports(big);
    const oneRead = performance.now() - t;
    await f.store.close();
    const store = new ThreadedSqliteStore({ path: f.path, readTimeoutMs: 100 });
    await store.open();
    const server = await startServer(async () => ({ store, cleanup: () => store.close().then(f.cleanup) }), { retryAfterSeconds: 2 });
    try {
      t = performance.now();
      const reads = await Promise.all(Array.from({ length: 10 }, () => store.sessionReports(big).then(() => 'answered', (e: unknown) => (e instanceof StoreUnavailableError ? 'unavailable' : String(e)))));
      expect(reads).toEqual(Array(10).fill('unavailable'));
      const answer = await raw(`${server.serverUrl}/sessions/${big}/reports`);
      expectError(answer, 503, 201);
      expect(answer.headers.get('Retry-After')).toBe('2');
      // The figures reader is free again after about one slow read, not ten: the nine that timed out waiting were skipped.
      for (;;) {
        const ok = await store.stats({}).then(() => true, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(performance.now() - t).toBeLessThan(oneRead * 5);
    } finally {
      await server.stop();
    }
  });

  it('a thread that dies makes the store unavailable: 503 and not ready, never a hang', async () => {
    const logs: string[] = [];
    const server = await startServer(() => freshSqlite({ log: (l) => logs.push(l) }));
    const store = server.fresh.store as ThreadedSqliteStore;
    try {
      expect((await raw(`${server.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
      await thread(store, 'writer').terminate();
      expectError(await raw(`${server.serverUrl}/registration`, { method: 'POST' }), 503, 201);
      await expect(store.createRoom(roomRecord())).rejects.toBeInstanceOf(StoreUnavailableError);
      expect((await raw(`${server.origin}/ready`)).status).toBe(503);
      await thread(store, 'figures').terminate();
      await expect(store.stats({})).rejects.toBeInstanceOf(StoreUnavailableError);
      expectError(await raw(`${server.serverUrl}/stats`), 503, 201);
      expect(logs.filter((l) => /writer thread exited/.test(l))).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('close() first finishes the writes and units already asked for, then refuses new calls', async () => {
    const f = await freshSqlite();
    try {
      const r = roomRecord();
      await f.store.createRoom(r);
      const s = sessionRecord(r.token);
      await join(f.store, s);
      const rooms = Array.from({ length: 10 }, () => roomRecord());
      const asked = [...rooms.map((x) => f.store.createRoom(x)), ...Array.from({ length: 10 }, () => count(f.store, s.id))];
      const closed = f.store.close();
      await expect(f.store.createRoom(roomRecord())).rejects.toBeInstanceOf(StoreUnavailableError);
      await Promise.all(asked);
      await closed;
      await f.store.open();
      expect((await f.store.getSession(s.id))!.nonConformantCount).toBe(10);
      for (const x of rooms) expect(await f.store.getRoom(x.token)).toEqual(x);
    } finally {
      await f.cleanup();
    }
  });

  it('in one process, every unit is decided once: reports and joins racing in one room included', async () => {
    const f = await freshSqlite();
    try {
      const r = roomRecord({ maxSize: 100 });
      await f.store.createRoom(r);
      const members = Array.from({ length: 8 }, () => sessionRecord(r.token));
      for (const s of members) await join(f.store, s);
      let decided = 0;
      const units: Array<Promise<unknown>> = [];
      for (let i = 0; i < 10; i++) {
        for (const s of members) {
          units.push(f.store.updateSession(s.id, (cur) => (decided++, { kind: 'apply', value: null, changes: { expiresAt: cur.expiresAt + 1 } })));
        }
        const joiner = sessionRecord(r.token);
        units.push(f.store.joinRoom(r.token, (ctx) => (decided++, { kind: 'apply', value: ctx.open.length, end: [], create: joiner })));
      }
      await Promise.all(units);
      expect(decided).toBe(units.length);
      for (const s of members) expect((await f.store.getSession(s.id))!.expiresAt).toBe(s.expiresAt + 10);
      expect(await f.store.openSessions(r.token)).toHaveLength(18);
    } finally {
      await f.cleanup();
    }
  });

  it('two processes on one file: each unit applied once, decided again (under the write lock) when the other changed its rows', async () => {
    // Two writers take turns at the file's write lock: they wait for each other longer than a server would.
    const f = await freshSqlite({ busyTimeoutMs: 5000 });
    const one = f.store;
    const other = new ThreadedSqliteStore({ path: f.path, busyTimeoutMs: 5000 });
    await other.open();
    try {
      const r = roomRecord();
      await one.createRoom(r);
      const s = sessionRecord(r.token);
      await join(one, s);
      let decided = 0;
      const unit = (store: Store) => store.updateSession(s.id, (cur) => (decided++, { kind: 'apply', value: null, changes: { nonConformantCount: cur.nonConformantCount + 1 } }));
      const units: Array<Promise<unknown>> = [];
      for (let i = 0; i < 40; i++) units.push(unit(one), unit(other));
      await Promise.all(units);
      expect((await other.getSession(s.id))!.nonConformantCount).toBe(80);
      expect(decided).toBeGreaterThan(80);
      // A unit decided again is decided under the write lock: never a third time.
      expect(decided).toBeLessThanOrEqual(160);
    } finally {
      await other.close();
      await f.cleanup();
    }
  });
});
