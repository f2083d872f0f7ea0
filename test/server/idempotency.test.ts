// Report idempotency (issue 20, item 1): a status report sent again with the same Idempotency-Key (a retry whose
// first answer the client never got) answers 204 without being stored or judged again; across processes too. The
// key reused for a different report is refused, 422 errno 107, nothing stored or counted (security review).
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { listenRoomServer } from '../../src/server/server';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { freshPostgres, pgAvailable } from '../support/postgres';
import { basicAuthorization } from '../../src/transport/basic';
import { ALL_STORES, freshSqlite, STORES, type StoreFactory } from '../support/stores';
import { ThreadedSqliteStore } from '../../src/server/store/sqlite/threaded';
import type { SeenKey, SessionDecision, SessionRecord, StatusFields, Store } from '../../src/server/store';
import { roomRecord, sessionRecord } from './records';
import { expectError, JSON_TYPE, raw, startServer, type TestServer } from './helpers';
import { HawkSigner } from '../../src/transport/hawk';

const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
const NEXT = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 2, sendStreams: 0, recvStreams: 0 };

/** A status report over raw HTTP, with an Idempotency-Key header when given. */
function report(url: string, token: string, body: object, key?: string) {
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, Authorization: basicAuthorization(token) };
  if (key !== undefined) headers['Idempotency-Key'] = key;
  return raw(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

/** STATUS with one field changed: each of the five the key's report is compared on. */
const CHANGED = [
  { ...STATUS, event: 'Session.streamCreated' },
  { ...STATUS, state: 'starting' },
  { ...STATUS, connections: 2 },
  { ...STATUS, sendStreams: 1 },
  { ...STATUS, recvStreams: 1 },
];

/** What a refused report must leave as it was: the session's row, its reports, the figures and the running totals. */
async function footprint(store: Store, id: string) {
  const stats = await store.stats({});
  const metrics = await store.metricsData([1, 10]);
  return {
    session: await store.getSession(id),
    reports: await store.sessionReports(id),
    stats: { verdicts: stats.verdicts, transitions: stats.transitions, funnel: stats.funnel, nonConformance: stats.nonConformance, states: stats.states },
    totals: metrics.reportTotals,
  };
}

async function guest(serverUrl: string) {
  const owner = await registerHawkSession(serverUrl);
  const { roomToken } = await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'idem', roomOwner: 'o', maxSize: 5 });
  const g = await joinRoom({ serverUrl, roomToken, displayName: 'g' });
  return { url: `${serverUrl}/rooms/${roomToken}`, token: g.sessionToken, id: g.roomConnectionId };
}

/** A server on a fresh store of `factory` and a guest joined to a room of it, for `run`; stopped after. */
async function withGuest(factory: StoreFactory, run: (server: TestServer, g: Awaited<ReturnType<typeof guest>>) => Promise<void>): Promise<void> {
  const server = await startServer(factory);
  try {
    await run(server, await guest(server.serverUrl));
  } finally {
    await server.stop();
  }
}

describe.each(STORES)('Idempotency-Key on status reports (%s)', (_name, factory) => {
  it('a repeat answers 204 and is neither stored nor judged again; other keys and no key are stored', async () => {
    const server = await startServer(factory);
    try {
      const g = await guest(server.serverUrl);
      expect((await report(g.url, g.token, STATUS, 'report-1')).status).toBe(204);
      expect((await report(g.url, g.token, STATUS, 'report-1')).status).toBe(204);
      expect((await report(g.url, g.token, STATUS, '"report-1"')).status).toBe(204); // the draft's quoted form: the same key
      let stored = await server.fresh.store.sessionReports(g.id);
      expect(stored.map((r) => r.verdict)).toEqual(['conformant']);
      // The repeat was not judged: had it been, it would be stored as a second report with verdict wrong-counters.
      expect((await report(g.url, g.token, NEXT, 'report-2')).status).toBe(204);
      expect((await report(g.url, g.token, NEXT)).status).toBe(204);
      stored = await server.fresh.store.sessionReports(g.id);
      expect(stored.map((r) => [r.seq, r.fields.connections])).toEqual([[1, 1], [2, 2], [3, 2]]);
      const stats = await server.fresh.store.stats({});
      expect(stats.verdicts.reduce((a, v) => a + v.count, 0)).toBe(3);
      // A key is one session's: another participant may use the same one.
      const other = await guest(server.serverUrl);
      expect((await report(other.url, other.token, STATUS, 'report-1')).status).toBe(204);
      expect(await server.fresh.store.sessionReports(other.id)).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('a key reused with a different report answers 422 errno 107 and stores, judges and counts nothing; the same report still 204', () =>
    withGuest(factory, async (server, g) => {
      expect((await report(g.url, g.token, STATUS, 'report-1')).status).toBe(204);
      const before = await footprint(server.fresh.store, g.id);
      expect(before.reports).toHaveLength(1);
      for (const other of CHANGED) {
        for (const key of ['report-1', '"report-1"']) {
          expectError(await report(g.url, g.token, other, key), 422, 107, /Idempotency-Key already used for a different report/);
        }
      }
      expect(await footprint(server.fresh.store, g.id)).toEqual(before);
      // The first report's own retry is still a repeat; a new key stores the changed report.
      expect((await report(g.url, g.token, STATUS, 'report-1')).status).toBe(204);
      expect((await report(g.url, g.token, CHANGED[2], 'report-2')).status).toBe(204);
      expect((await server.fresh.store.sessionReports(g.id)).map((r) => [r.seq, r.fields])).toEqual([
        [1, { event: STATUS.event, state: STATUS.state, connections: 1, sendStreams: 0, recvStreams: 0 }],
        [2, { event: STATUS.event, state: STATUS.state, connections: 2, sendStreams: 0, recvStreams: 0 }],
      ]);
    }));

  it('two different reports under one key arriving together: one stored (204), the other 422, whichever came first', () =>
    withGuest(factory, async (server, g) => {
      for (let round = 0; round < 5; round++) {
        const key = `together-${round}`;
        const before = await server.fresh.store.sessionReports(g.id);
        const answers = await Promise.all([report(g.url, g.token, STATUS, key), report(g.url, g.token, NEXT, key), report(g.url, g.token, STATUS, key)]);
        const stored = (await server.fresh.store.sessionReports(g.id)).slice(before.length);
        expect(stored).toHaveLength(1);
        const winner = stored[0].fields.connections === 1 ? STATUS : NEXT;
        // Every try of the stored report is a 204 (stored or repeat); every try of the other a 422.
        expect(answers.map((a) => a.status)).toEqual([STATUS, NEXT, STATUS].map((b) => (b === winner ? 204 : 422)));
      }
    }));

  it('refuses a key that is not 1 to 255 printable ASCII characters (400 errno 107), storing nothing', async () => {
    const server = await startServer(factory);
    try {
      const g = await guest(server.serverUrl);
      for (const bad of ['', 'x'.repeat(256), 'caf\u00e9', '"unterminated']) {
        expectError(await report(g.url, g.token, STATUS, bad), 400, 107, /Idempotency-Key/);
      }
      expect(await server.fresh.store.sessionReports(g.id)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe.each(ALL_STORES)('updateSession tells decide the fields of the report stored with the key (%s)', (_name, factory) => {
  it('from the rows read, or from an earlier call of the same batch; the threaded store applies a repeat without asking again', async () => {
    const { store, cleanup } = await factory();
    try {
      const room = roomRecord();
      await store.createRoom(room);
      const s = sessionRecord(room.token);
      await store.joinRoom(room.token, () => ({ kind: 'apply', value: s.id, end: [], create: s }));
      const fieldsOf = (connections: number): StatusFields => ({ event: 'Session.connectionCreated', state: 'waiting', connections, sendStreams: 0, recvStreams: 1 });
      const told: SeenKey[] = [];
      // Stores a report of these fields unless the key is seen (then only extends the session, as a repeat does).
      const unit = (i: number, f: StatusFields) => (cur: SessionRecord, seen: SeenKey): SessionDecision<string> => {
        told[i] = structuredClone(seen);
        if (seen.repeated) return { kind: 'apply', value: 'repeat', changes: { expiresAt: cur.expiresAt + 1 } };
        const labels = { from: cur.snapshot.state, event: 'other', state: 'other', verdict: 'wrong-counters' as const };
        return { kind: 'apply', value: 'stored', report: { receivedAt: 2000, fromState: cur.snapshot.state, fields: f, verdict: 'wrong-counters', labels } };
      };
      // All at once: on PostgreSQL the first goes alone, the others share the next batch (the fourth sees the second's report in it).
      const got = await Promise.all([
        store.updateSession(s.id, unit(0, fieldsOf(1)), { idempotencyKey: 'a' }),
        store.updateSession(s.id, unit(1, fieldsOf(2)), { idempotencyKey: 'b' }),
        store.updateSession(s.id, unit(2, fieldsOf(3)), { idempotencyKey: 'a' }),
        store.updateSession(s.id, unit(3, fieldsOf(4)), { idempotencyKey: 'b' }),
        store.updateSession(s.id, unit(4, fieldsOf(5))),
      ]);
      expect(got).toEqual(['stored', 'stored', 'repeat', 'repeat', 'stored']);
      expect(told).toEqual([{ repeated: false }, { repeated: false }, { repeated: true, fields: fieldsOf(1) }, { repeated: true, fields: fieldsOf(2) }, { repeated: false }]);
      expect((await store.sessionReports(s.id)).map((r) => r.fields.connections)).toEqual([1, 2, 5]);
      if (store instanceof ThreadedSqliteStore) {
        // The seen lookup gives the writer and the reader the same object: a repeat decided on the reader's rows is applied as decided.
        const calls: string[] = [];
        const spied = store as unknown as { call: (thread: string, op: string, args: unknown[]) => Promise<unknown> };
        const call = spied.call.bind(store);
        spied.call = (thread, op, args) => (calls.push(op), call(thread, op, args));
        try {
          expect(await store.updateSession(s.id, unit(5, fieldsOf(9)), { idempotencyKey: 'a' })).toBe('repeat');
        } finally {
          spied.call = call;
        }
        expect(told[5]).toEqual({ repeated: true, fields: fieldsOf(1) });
        expect(calls).toEqual(['applySession']);
      }
    } finally {
      await cleanup();
    }
  });
});

/** Two stores on one database, as two server processes have: the test's fresh store and a second one. */
const SHARED: Array<[name: string, open: () => Promise<{ first: Store; second: Store; cleanup(): Promise<void> }>]> = [
  [
    'sqlite',
    async () => {
      const fresh = await freshSqlite();
      const second = new ThreadedSqliteStore({ path: fresh.path });
      await second.open();
      return { first: fresh.store, second, cleanup: async () => (await second.close(), await fresh.cleanup()) };
    },
  ],
  ...(pgAvailable()
    ? [
        [
          'postgres',
          async () => {
            const fresh = await freshPostgres();
            const second = createPostgresStore(fresh.url);
            await second.open();
            return { first: fresh.store, second, cleanup: async () => (await second.close(), await fresh.cleanup()) };
          },
        ] as [string, () => Promise<{ first: Store; second: Store; cleanup(): Promise<void> }>],
      ]
    : []),
];

/** Two servers, one on each of the two stores of `open`, and a guest joined through the first: `onB` is its room's URL on the second. */
async function withTwoServers(
  open: (typeof SHARED)[number][1],
  run: (stores: { first: Store; second: Store }, g: Awaited<ReturnType<typeof guest>>, onB: string) => Promise<void>,
): Promise<void> {
  const { first, second, cleanup } = await open();
  const a = await listenRoomServer({ store: first, port: 0, secret: 'shared-secret-for-idempotency' });
  const b = await listenRoomServer({ store: second, port: 0, secret: 'shared-secret-for-idempotency' });
  try {
    const g = await guest(a.serverUrl);
    await run({ first, second }, g, g.url.replace(a.serverUrl, b.serverUrl));
  } finally {
    await a.close();
    await b.close();
    await cleanup();
  }
}

describe.each(SHARED)('Idempotency-Key across two server processes on one database (%s)', (_name, open) => {
  it('a report retried on the other process is stored once, even when both arrive together', () =>
    withTwoServers(open, async ({ second }, g, onB) => {
      expect((await report(g.url, g.token, STATUS, 'k1')).status).toBe(204);
      expect((await report(onB, g.token, STATUS, 'k1')).status).toBe(204);
      const together = await Promise.all([report(g.url, g.token, NEXT, 'k2'), report(onB, g.token, NEXT, 'k2'), report(g.url, g.token, NEXT, 'k2')]);
      expect(together.map((r) => r.status)).toEqual([204, 204, 204]);
      const stored = await second.sessionReports(g.id);
      expect(stored.map((r) => [r.seq, r.fields.connections])).toEqual([[1, 1], [2, 2]]);
    }));

  it('the same report on the other process is a repeat (204, stored once); a different one 422 on either, nothing stored or counted', () =>
    withTwoServers(open, async ({ first, second }, g, onB) => {
      expect((await report(g.url, g.token, STATUS, 'k1')).status).toBe(204);
      expect((await report(onB, g.token, STATUS, 'k1')).status).toBe(204);
      const before = await footprint(second, g.id);
      expect(before.reports).toHaveLength(1);
      for (const other of CHANGED) {
        expectError(await report(onB, g.token, other, 'k1'), 422, 107, /Idempotency-Key/);
        expectError(await report(g.url, g.token, other, 'k1'), 422, 107, /Idempotency-Key/);
      }
      expect(await footprint(second, g.id)).toEqual(before);
      expect(await footprint(first, g.id)).toEqual(before);
      // Arriving together on both processes: one of the two reports is stored, its tries 204, the other's 422.
      const together = await Promise.all([report(g.url, g.token, NEXT, 'k2'), report(onB, g.token, STATUS, 'k2'), report(onB, g.token, NEXT, 'k2'), report(g.url, g.token, STATUS, 'k2')]);
      const stored = await second.sessionReports(g.id);
      expect(stored).toHaveLength(2);
      const winner = stored[1].fields.connections === 2 ? NEXT : STATUS;
      expect(together.map((r) => r.status)).toEqual([NEXT, STATUS, NEXT, STATUS].map((body) => (body === winner ? 204 : 422)));
    }));

  it('a Hawk report passed on byte for byte to the other process (a proxy after a crash) gets its first answer, stored once; without its key it is the replay it looks like', async () => {
    const { first, second, cleanup } = await open();
    // Both processes take signatures for the origin clients use (--public-url), as behind one proxy.
    const pub = 'http://rooms.test/v1';
    const a = await listenRoomServer({ store: first, port: 0, secret: 'shared-secret-for-idempotency', publicUrl: 'http://rooms.test' });
    const b = await listenRoomServer({ store: second, port: 0, secret: 'shared-secret-for-idempotency', publicUrl: 'http://rooms.test' });
    try {
      const desktop = await registerHawkSession(a.serverUrl);
      const sign = (path: string, text: string) => new HawkSigner(desktop.credentials).header({ method: 'POST', url: `${pub}${path}`, contentType: JSON_TYPE, body: text });
      const send = (target: string, path: string, text: string, authorization: string, key?: string) =>
        raw(`${target}${path}`, { method: 'POST', headers: { 'Content-Type': JSON_TYPE, Authorization: authorization, ...(key === undefined ? {} : { 'Idempotency-Key': key }) }, body: text });
      const call = async (path: string, body: object) => {
        const text = JSON.stringify(body);
        return (await send(a.serverUrl, path, text, await sign(path, text))).json();
      };
      const { roomToken } = await call('/rooms', { roomName: 'h', roomOwner: 'o', maxSize: 5 });
      const { roomConnectionId } = await call(`/rooms/${roomToken}`, { action: 'join', displayName: 'd', clientMaxSize: 5 });
      const path = `/rooms/${roomToken}`;
      const body = JSON.stringify(STATUS);
      const authorization = await sign(path, body);
      expect((await send(a.serverUrl, path, body, authorization, 'h1')).status).toBe(204);
      // The same bytes on the other process, and again on the first: the report is there under its key.
      expect((await send(b.serverUrl, path, body, authorization, 'h1')).status).toBe(204);
      expect((await send(a.serverUrl, path, body, authorization, 'h1')).status).toBe(204);
      expect((await second.sessionReports(roomConnectionId)).map((r) => r.fields.connections)).toEqual([1]);
      // Its key does not hold it (another key, or none): a replayed nonce, 401 as before, nothing stored.
      expectError(await send(b.serverUrl, path, body, authorization, 'other'), 401, 110);
      expectError(await send(b.serverUrl, path, body, authorization), 401, 110);
      expectError(await send(a.serverUrl, path, body, authorization), 401, 110);
      expect(await second.sessionReports(roomConnectionId)).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
      await cleanup();
    }
  });
});
