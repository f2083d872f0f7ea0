// The PostgreSQL store on its own, against a real throw-away cluster: what only several processes sharing
// one database can get wrong (concurrent migrations, order of one session's reports across processes,
// deadlock-free group commit) and outages. Two store instances stand for two server processes.
import fc from 'fast-check';
import { ROOM_STATES } from '../../machines/domain';
import { createPostgresStore, type PostgresStore } from '../../src/server/store/postgres/store';
import { isUnavailable, parseStoreUrl, redactUrl, toStoreError } from '../../src/server/store/postgres/connection';
import { POSTGRES_MIGRATIONS } from '../../src/server/store/postgres/migrations';
import { StoreUnavailableError, type RoomRecord, type SessionRecord } from '../../src/server/store';
import { usePgCluster } from '../support/postgres';
import { roomRecord, sessionRecord } from './records';

const pg = usePgCluster();
const stores: PostgresStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close().catch(() => {});
});

async function openStore(url: string, poolSize = 4): Promise<PostgresStore> {
  const store = createPostgresStore(`${url}?pool_size=${poolSize}&connect_timeout_ms=2000`);
  stores.push(store);
  await store.open();
  return store;
}

const room = (token?: string): RoomRecord => roomRecord(token === undefined ? {} : { token });
const session = (roomToken: string, id?: string, extra: Partial<SessionRecord> = {}): SessionRecord => sessionRecord(roomToken, { ...(id === undefined ? {} : { id }), ...extra });

async function join(store: PostgresStore, s: SessionRecord): Promise<void> {
  await store.joinRoom(s.room, () => ({ kind: 'apply', value: s.id, end: [], create: s }));
}

/** A decide that appends one report counting the reports it saw, so order and loss both show. */
const countingReport = (tag: string) => (s: SessionRecord) => ({
  kind: 'apply' as const,
  value: s.reportCount,
  changes: { snapshot: { ...s.snapshot, connections: s.snapshot.connections + 1 } },
  report: {
    receivedAt: 2000 + s.reportCount,
    fromState: s.snapshot.state,
    fields: { event: tag, state: 'waiting', connections: s.snapshot.connections + 1, sendStreams: 0, recvStreams: 0 },
    verdict: 'conformant' as const,
    labels: { from: s.snapshot.state, event: 'other', state: 'waiting', verdict: 'conformant' as const },
  },
});

test('two processes opening a fresh database at once apply each migration once', async () => {
  const url = await pg().createDatabase();
  const [a, b] = await Promise.all([openStore(url), openStore(url)]);
  expect(await a.schemaVersion()).toBe(POSTGRES_MIGRATIONS.at(-1)!.version);
  expect(await b.schemaVersion()).toBe(POSTGRES_MIGRATIONS.at(-1)!.version);
  // Opening again applies nothing; a newer version is applied once, and an older server refuses the database.
  const next = { version: 99, name: 'test column', statements: ['ALTER TABLE rooms ADD COLUMN test_only TEXT'] };
  const [c, d] = await Promise.all([
    (async () => {
      const s = createPostgresStore(url, { migrations: [...POSTGRES_MIGRATIONS, next] });
      stores.push(s);
      await s.open();
      return s;
    })(),
    (async () => {
      const s = createPostgresStore(url, { migrations: [...POSTGRES_MIGRATIONS, next] });
      stores.push(s);
      await s.open();
      return s;
    })(),
  ]);
  expect(await c.schemaVersion()).toBe(99);
  expect(await d.schemaVersion()).toBe(99);
  const old = createPostgresStore(url);
  stores.push(old);
  await expect(old.open()).rejects.toThrow(/schema version 99, newer than/);
  await expect(old.open()).rejects.not.toBeInstanceOf(StoreUnavailableError);
});

test('records come back as stored (property)', async () => {
  const store = await openStore(await pg().createDatabase());
  const r = room();
  await store.createRoom(r);
  expect(await store.getRoom(r.token)).toEqual(r);
  await store.deleteRoom(r.token, 5000);
  expect(await store.getRoom(r.token)).toEqual({ ...r, deletedAt: 5000 });
  await store.createHawkSession({ idHmac: 'h1', key: 'k1', createdAt: 7, lastUsedAt: 7 });
  expect(await store.getHawkSession('h1')).toEqual({ idHmac: 'h1', key: 'k1', createdAt: 7, lastUsedAt: 7 });
  // A use moves lastUsedAt forward, never back (two processes may record uses out of order).
  await store.touchHawkSession('h1', 2 ** 45);
  await store.touchHawkSession('h1', 9);
  expect(await store.getHawkSession('h1')).toEqual({ idHmac: 'h1', key: 'k1', createdAt: 7, lastUsedAt: 2 ** 45 });
  expect(await store.getHawkSession('nope')).toBeUndefined();
  const r2 = room();
  await store.createRoom(r2);
  const counter = fc.integer({ min: 0, max: 10_000 });
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        kind: fc.constantFrom('hawk' as const, 'basic' as const),
        displayName: fc.string({ minLength: 1, maxLength: 100 }),
        // Absent: a session stored before schema version 9. Up to a join's largest (a BIGINT read back as a number).
        clientMaxSize: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
        owner: fc.boolean(),
        joinedAt: fc.integer({ min: 0, max: 2 ** 45 }),
        expiresAt: fc.integer({ min: 0, max: 2 ** 45 }),
        snapshot: fc.record({ state: fc.constantFrom(...ROOM_STATES), connections: counter, sendStreams: counter, recvStreams: counter }),
        firstReached: fc.dictionary(fc.constantFrom(...ROOM_STATES), fc.integer({ min: 0, max: 2 ** 45 })),
        reportCount: fc.nat(1000),
        nonConformantCount: fc.nat(1000),
      }),
      async (fields) => {
        const s = session(r2.token, undefined, fields);
        await join(store, s);
        expect(await store.getSession(s.id)).toEqual(s);
        expect(await store.sessionByToken(s.tokenHmac)).toEqual(s);
        expect(await store.openSessionOf(r2.token, s.participantHmac)).toEqual(s);
      },
    ),
    { numRuns: 40 },
  );
  expect(await store.openSessions(r2.token)).toHaveLength(40);
});

test("one session's reports through two processes at once: checked one after the other, none lost, seq 1..N", async () => {
  const url = await pg().createDatabase();
  const [a, b] = await Promise.all([openStore(url), openStore(url)]);
  const r = room();
  await a.createRoom(r);
  const s = session(r.token);
  await join(a, s);
  const N = 200;
  const seen = await Promise.all(Array.from({ length: N }, (_, i) => (i % 2 ? a : b).updateSession(s.id, countingReport(`e${i}`))));
  // Each decide saw exactly the result of the one before it: the counts it saw are 0..N-1, each once.
  expect([...seen].sort((x, y) => x! - y!)).toEqual(Array.from({ length: N }, (_, i) => i));
  const reports = await a.sessionReports(s.id);
  expect(reports.map((x) => x.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  expect(reports.map((x) => x.fields.connections)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  const after = await b.getSession(s.id);
  expect(after).toMatchObject({ reportCount: N, snapshot: { connections: N } });
  // Calls of one process keep their arrival order.
  const mine = reports.filter((x) => Number(x.fields.event.slice(1)) % 2 === 1).map((x) => Number(x.fields.event.slice(1)));
  expect(mine).toEqual([...mine].sort((x, y) => x - y));
  const totals = (await b.metricsData([1])).reportTotals;
  expect(totals).toEqual([{ from: 'init', event: 'other', state: 'waiting', verdict: 'conformant', count: N }]);
});

test('group commit across sessions, joins, expiry and deletion from two processes: no deadlock, nothing lost', async () => {
  const url = await pg().createDatabase();
  const [a, b] = await Promise.all([openStore(url, 3), openStore(url, 3)]);
  const rooms = Array.from({ length: 4 }, () => room());
  for (const r of rooms) await a.createRoom(r);
  const sessions = rooms.flatMap((r) => Array.from({ length: 6 }, () => session(r.token)));
  for (const s of sessions) await join(a, s);
  const perSession = 15;
  const work: Promise<unknown>[] = [];
  for (let i = 0; i < perSession; i++) {
    // Each round touches the sessions in a different order from each process.
    const order = i % 2 ? [...sessions].reverse() : sessions;
    for (const [k, s] of order.entries()) work.push((k % 2 ? a : b).updateSession(s.id, countingReport('x')));
    // Joins lock a room and its open sessions while reports lock sessions: the fixed order keeps them apart.
    for (const r of rooms) work.push((i % 2 ? a : b).joinRoom(r.token, (ctx) => ({ kind: 'refuse', value: ctx.open.length })));
    work.push((i % 2 ? b : a).expireSessions(0));
  }
  await Promise.all(work);
  for (const s of sessions) {
    const reports = await b.sessionReports(s.id);
    expect(reports.map((x) => x.seq)).toEqual(Array.from({ length: perSession }, (_, i) => i + 1));
  }
  // Ending sessions while reports come in: deletion and expiry end them once, with their state then.
  await Promise.all([a.deleteRoom(rooms[0].token, 9000), ...sessions.slice(0, 6).map((s) => b.updateSession(s.id, countingReport('late')))]);
  expect((await a.openSessions(rooms[0].token)).length).toBe(0);
  const ended = await a.getSession(sessions[0].id);
  expect(ended).toMatchObject({ endedAt: 9000, endReason: 'deleted', endState: 'init' });
  expect(ended!.displayName).toBeUndefined();
  const n = await b.expireSessions(6_000_000);
  expect(n).toBe(18);
  expect(await a.getSession(sessions[23].id)).toMatchObject({ endedAt: 5_000_000, endReason: 'expired' });
});

test('a decide that throws fails its own call only; its batch neighbours are stored', async () => {
  const store = await openStore(await pg().createDatabase());
  const r = room();
  await store.createRoom(r);
  const s1 = session(r.token);
  const s2 = session(r.token);
  await join(store, s1);
  await join(store, s2);
  const results = await Promise.allSettled([
    store.updateSession(s1.id, countingReport('a')),
    store.updateSession(s2.id, () => {
      throw new TypeError('bug in decide');
    }),
    store.updateSession(s1.id, countingReport('b')),
    store.updateSession('no-such-session', countingReport('c')),
  ]);
  expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
  expect((results[3] as PromiseFulfilledResult<unknown>).value).toBeUndefined();
  expect((await store.sessionReports(s1.id)).map((x) => x.fields.event)).toEqual(['a', 'b']);
  expect(await store.sessionReports(s2.id)).toEqual([]);
});

test('PostgreSQL down: every call rejects StoreUnavailableError, nothing half-written; back up: it serves again', async () => {
  const url = await pg().createDatabase();
  const store = await openStore(url);
  const r = room();
  await store.createRoom(r);
  const s = session(r.token);
  await join(store, s);
  await store.updateSession(s.id, countingReport('before'));
  await pg().stop('immediate');
  try {
    const calls = await Promise.allSettled([
      store.updateSession(s.id, countingReport('during')),
      store.getSession(s.id),
      store.createRoom(room()),
      store.joinRoom(r.token, (ctx) => ({ kind: 'refuse', value: ctx.open.length })),
      store.stats({}),
      store.metricsData([1]),
    ]);
    for (const c of calls) {
      expect(c.status).toBe('rejected');
      expect((c as PromiseRejectedResult).reason).toBeInstanceOf(StoreUnavailableError);
    }
  } finally {
    await pg().start();
  }
  // The pool's dead connections are dropped, new ones made.
  await store.updateSession(s.id, countingReport('after'));
  expect((await store.sessionReports(s.id)).map((x) => x.fields.event)).toEqual(['before', 'after']);
});

test('an unreachable database is StoreUnavailableError at open()', async () => {
  const store = createPostgresStore(`postgres://postgres@127.0.0.1:1/none?connect_timeout_ms=500`);
  await expect(store.open()).rejects.toBeInstanceOf(StoreUnavailableError);
  await store.close();
});

test('store URL: our parameters are taken out, bad values refused, and no password in what is shown', () => {
  const { connectionString, settings } = parseStoreUrl('postgres://u:s3cret@db:5433/rooms?sslmode=require&pool_size=4&connect_timeout_ms=900&read_timeout_ms=700');
  expect(settings).toEqual({ poolSize: 4, connectTimeoutMs: 900, statementTimeoutMs: 30_000, lockTimeoutMs: 5000, readTimeoutMs: 700 });
  expect(connectionString).toBe('postgres://u:s3cret@db:5433/rooms?sslmode=require');
  expect(parseStoreUrl('postgresql://db/rooms').settings).toEqual({ poolSize: 10, connectTimeoutMs: 5000, statementTimeoutMs: 30_000, lockTimeoutMs: 5000, readTimeoutMs: 5000 });
  for (const bad of ['pool_size=0', 'pool_size=x', 'pool_size=2.5', 'connect_timeout_ms=1', 'read_timeout_ms=0']) {
    expect(() => parseStoreUrl(`postgres://db/rooms?${bad}`)).toThrow(/must be an integer/);
  }
  expect(() => parseStoreUrl('mysql://db/rooms')).toThrow(/not a PostgreSQL URL/);
  expect(redactUrl('postgres://u:s3cret@db:5433/rooms?password=s3cret')).toBe('postgres://u@db:5433/rooms');
  expect(createPostgresStore('postgres://u:s3cret@db/rooms').location).not.toContain('s3cret');
});

test('what counts as unavailable: outages yes, mistakes in our SQL or data no', () => {
  for (const code of ['08006', '57P01', '57P03', '53100', '53300', '58030', '3D000', 'ECONNREFUSED', 'ECONNRESET']) expect(isUnavailable({ code })).toBe(true);
  expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  for (const code of ['23505', '42P01', '22P02', '0A000']) expect(isUnavailable({ code })).toBe(false);
  expect(isUnavailable(new TypeError('x is undefined'))).toBe(false);
  expect(toStoreError({ code: '57P01', message: 'terminating connection' }, 'x')).toBeInstanceOf(StoreUnavailableError);
});
