// Issue 17, per-client limits, written as the floods the review ran (2,000 registrations in 1.4 s from one address,
// 1,000 rooms from one Hawk session, 2,000 reports from one participant): over a limit, 429 errno 116 with
// Retry-After; `limits: 'off'` lets them through; behind a trusted proxy each forwarded client has its own count.
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { DEFAULT_LIMITS, OpenCounter, WindowCounter } from '../../src/server/limits';
import { expectError, hawkGet, post, raw, startServer, type RawAnswer } from './helpers';
import { STORES } from '../support/stores';

const [, sqlite] = STORES[0];
const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };

function expectTooMany(a: RawAnswer): void {
  expectError(a, 429, 116, 'Too many requests.');
  expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
}

const register = (url: string, headers: Record<string, string> = {}) => raw(`${url}/registration`, { method: 'POST', headers });

describe('new Hawk sessions per client address per minute', () => {
  it(`a burst from one address stops at the default (${DEFAULT_LIMITS.registrationsPerMinute}); other addresses behind a trusted proxy are not held up`, async () => {
    const server = await startServer(sqlite, { trustedProxies: ['127.0.0.1'] });
    try {
      const burst: RawAnswer[] = [];
      for (let i = 0; i < DEFAULT_LIMITS.registrationsPerMinute + 5; i++) burst.push(await register(server.serverUrl, { 'X-Forwarded-For': '198.51.100.1' }));
      expect(burst.slice(0, DEFAULT_LIMITS.registrationsPerMinute).every((a) => a.status === 200)).toBe(true);
      for (const a of burst.slice(DEFAULT_LIMITS.registrationsPerMinute)) expectTooMany(a);
      expect((await register(server.serverUrl, { 'X-Forwarded-For': '198.51.100.2' })).status).toBe(200);
      // A client that names itself in X-Forwarded-For past the proxy changes nothing: the proxy's entry counts.
      expectTooMany(await register(server.serverUrl, { 'X-Forwarded-For': '203.0.113.50, 198.51.100.1' }));
    } finally {
      await server.stop();
    }
  });

  it("an untrusted client's X-Forwarded-For is ignored; --limits off lets the burst through", async () => {
    const limited = await startServer(sqlite, { limits: { registrationsPerMinute: 3 } });
    const open = await startServer(sqlite, { limits: 'off' });
    try {
      for (let i = 0; i < 3; i++) expect((await register(limited.serverUrl, { 'X-Forwarded-For': `192.0.2.${i}` })).status).toBe(200);
      expectTooMany(await register(limited.serverUrl, { 'X-Forwarded-For': '192.0.2.99' }));
      for (let i = 0; i < 20; i++) expect((await register(open.serverUrl)).status).toBe(200);
    } finally {
      await limited.stop();
      await open.stop();
    }
  });
});

describe.each(STORES)('rooms per Hawk session, reports per session (%s)', (_name, factory) => {
  it('refuses the room past the limit, and the report past the limit; deleting a room makes room again', async () => {
    const server = await startServer(factory, { limits: { roomsPerHawkSession: 3, reportsPerSession: 4 } });
    try {
      const owner = await registerHawkSession(server.serverUrl);
      const rooms: string[] = [];
      for (let i = 0; i < 3; i++) rooms.push((await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: `r${i}`, roomOwner: 'o' })).roomToken);
      const body = { roomName: 'one more', roomOwner: 'o', maxSize: 2 };
      expectTooMany(await post(`${server.serverUrl}/rooms`, body, { hawk: owner.credentials }));
      // Another Hawk session has its own count.
      const other = await registerHawkSession(server.serverUrl);
      expect((await post(`${server.serverUrl}/rooms`, body, { hawk: other.credentials })).status).toBe(201);

      const g = await joinRoom({ serverUrl: server.serverUrl, roomToken: rooms[0], displayName: 'g' });
      const url = `${server.serverUrl}/rooms/${rooms[0]}`;
      for (let i = 0; i < 4; i++) expect((await post(url, STATUS, { basic: g.sessionToken })).status).toBe(204);
      expectTooMany(await post(url, STATUS, { basic: g.sessionToken }));
      expect((await server.fresh.store.getSession(g.roomConnectionId))?.reportCount).toBe(4);

      const del = await hawkGet(url, owner.credentials, 'DELETE');
      expect(del.status).toBe(204);
      expect((await post(`${server.serverUrl}/rooms`, body, { hawk: owner.credentials })).status).toBe(201);
    } finally {
      await server.stop();
    }
  });
});

describe('the counters', () => {
  it('WindowCounter: the limit per window, the wait until the window ends, then a fresh window; keys apart', () => {
    const c = new WindowCounter(2, 60_000);
    expect([c.hit('a', 0), c.hit('a', 1), c.hit('a', 2)]).toEqual([0, 0, 59_998]);
    expect(c.hit('b', 2)).toBe(0);
    expect(c.hit('a', 60_000)).toBe(0);
    expect(new WindowCounter(Infinity, 1).hit('a', 0)).toBe(0);
  });

  it('WindowCounter: memory stays bounded however many addresses come', () => {
    const c = new WindowCounter(1, 60_000, 100);
    for (let i = 0; i < 10_000; i++) c.hit(`k${i}`, i);
    expect((c as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(100);
  });

  it('OpenCounter: places per key, given back', () => {
    const c = new OpenCounter(2);
    expect([c.take('a'), c.take('a'), c.take('a'), c.take('b')]).toEqual([true, true, false, true]);
    c.release('a');
    expect(c.take('a')).toBe(true);
  });
});
