// Report idempotency (issue 20, item 1): a status report sent again with the same Idempotency-Key (a retry whose
// first answer the client never got) answers 204 without being stored or judged again; across processes too.
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { listenRoomServer } from '../../src/server/server';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { freshPostgres, pgAvailable } from '../support/postgres';
import { basicAuthorization } from '../../src/transport/basic';
import { STORES } from '../support/stores';
import { expectError, JSON_TYPE, raw, startServer } from './helpers';

const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
const NEXT = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 2, sendStreams: 0, recvStreams: 0 };

/** A status report over raw HTTP, with an Idempotency-Key header when given. */
function report(url: string, token: string, body: object, key?: string) {
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, Authorization: basicAuthorization(token) };
  if (key !== undefined) headers['Idempotency-Key'] = key;
  return raw(url, { method: 'POST', headers, body: JSON.stringify(body) });
}

async function guest(serverUrl: string) {
  const owner = await registerHawkSession(serverUrl);
  const { roomToken } = await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'idem', roomOwner: 'o', maxSize: 5 });
  const g = await joinRoom({ serverUrl, roomToken, displayName: 'g' });
  return { url: `${serverUrl}/rooms/${roomToken}`, token: g.sessionToken, id: g.roomConnectionId };
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

(pgAvailable() ? describe : describe.skip)('Idempotency-Key across two server processes on one PostgreSQL database', () => {
  it('a report retried on the other process is stored once, even when both arrive together', async () => {
    const fresh = await freshPostgres();
    const second = createPostgresStore(fresh.url);
    await second.open();
    const a = await listenRoomServer({ store: fresh.store, port: 0, secret: 'shared-secret-for-idempotency' });
    const b = await listenRoomServer({ store: second, port: 0, secret: 'shared-secret-for-idempotency' });
    try {
      const g = await guest(a.serverUrl);
      const onB = g.url.replace(a.serverUrl, b.serverUrl);
      expect((await report(g.url, g.token, STATUS, 'k1')).status).toBe(204);
      expect((await report(onB, g.token, STATUS, 'k1')).status).toBe(204);
      const together = await Promise.all([report(g.url, g.token, NEXT, 'k2'), report(onB, g.token, NEXT, 'k2'), report(g.url, g.token, NEXT, 'k2')]);
      expect(together.map((r) => r.status)).toEqual([204, 204, 204]);
      const stored = await second.sessionReports(g.id);
      expect(stored.map((r) => [r.seq, r.fields.connections])).toEqual([[1, 1], [2, 2]]);
    } finally {
      await a.close();
      await b.close();
      await second.close();
      await fresh.cleanup();
    }
  });
});
