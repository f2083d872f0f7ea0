// Issue 17, written as the attacks: admin data reached through a proxy on the same host, DNS rebinding, CORS for
// Origin null, non-canonical paths around a proxy's rules, and room tokens in admin views. Each passed on the code
// before the fix (the attack got its data); each must now be refused.
import { request } from 'node:http';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { main } from '../../src/cli/main';
import { post, raw, startServer, type TestServer } from './helpers';
import { STORES } from '../support/stores';

const [, sqlite] = STORES[0];
const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };

/** A GET whose path and headers go out exactly as given (fetch would normalize the path). */
function rawGet(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ADMIN_PATHS = ['/metrics', '/v1/stats', '/v1/traffic', '/v1/sessions/x/reports', '/v1/traffic/sessions/x'];

describe('admin data without an admin token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(sqlite, { trustedProxies: ['127.0.0.1'] });
  });
  afterAll(() => server.stop());

  it('answers this machine naming its own host', async () => {
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, 'localhost']) {
      expect([host, (await rawGet(server, '/v1/stats', { Host: host })).status]).toEqual([host, 200]);
    }
  });

  it('refuses a DNS-rebound name in Host (a page of attacker.example resolved to 127.0.0.1)', async () => {
    for (const path of ADMIN_PATHS) {
      const a = await rawGet(server, path, { Host: 'attacker.example' });
      expect([path, a.status, JSON.parse(a.text).errno]).toEqual([path, 403, 110]);
    }
  });

  it('refuses the internet through a proxy on this machine (X-Forwarded-For of a trusted proxy names the client)', async () => {
    for (const path of ADMIN_PATHS) {
      const a = await rawGet(server, path, { Host: `127.0.0.1:${server.port}`, 'X-Forwarded-For': '203.0.113.7' });
      expect([path, a.status]).toEqual([path, 403]);
    }
  });

  it('serve refuses --public-url (a proxied server) without an admin token', async () => {
    const err: string[] = [];
    const saved = process.env.LOOP_ROOM_STATE_ADMIN_TOKEN;
    delete process.env.LOOP_ROOM_STATE_ADMIN_TOKEN;
    try {
      const code = await main(['serve', '--port', '0', '--public-url', 'https://rooms.example.com'], { out: () => {}, err: (t) => err.push(t) });
      expect(code).toBe(2);
      expect(err.join('\n')).toMatch(/--public-url.*admin token/);
    } finally {
      if (saved !== undefined) process.env.LOOP_ROOM_STATE_ADMIN_TOKEN = saved;
    }
  });
});

describe('serve flags for limits and proxies', () => {
  it.each([
    [['--limits', 'maybe'], /--limits takes off/],
    [['--trusted-proxy', 'proxy.example'], /--trusted-proxy takes IP addresses/],
    [['--max-registrations', '0'], /--max-registrations must be/],
    [['--max-rooms-per-session', 'x'], /--max-rooms-per-session must be/],
    [['--max-reports-per-session', '1.5'], /--max-reports-per-session must be an integer/],
    [['--max-relay-connections', '-1'], /--max-relay-connections must be/],
  ])('refuses %j', async (args, message) => {
    const err: string[] = [];
    const code = await main(['serve', '--port', '0', ...args], { out: () => {}, err: (t) => err.push(t) });
    expect([code, err.join('\n')]).toEqual([2, expect.stringMatching(message)]);
  });
});

describe('CORS', () => {
  it('never grants Origin null or an unconfigured origin, on admin data or the API', async () => {
    const server = await startServer(sqlite, { corsOrigins: ['https://app.example'] });
    try {
      for (const path of ['/v1/traffic', '/v1/traffic/stream', '/v1/stats', '/metrics', '/v1/rooms/AAAAAAAAAAA']) {
        for (const origin of ['null', `http://127.0.0.1:${server.port + 1}`, 'http://localhost:8080', 'https://evil.example']) {
          const pre = await raw(`${server.origin}${path}`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
          expect([path, origin, pre.headers.get('access-control-allow-origin')]).toEqual([path, origin, null]);
          if (path.endsWith('/stream')) continue; // a stream does not end: its preflight is the check
          const get = await raw(`${server.origin}${path}`, { headers: { Origin: origin } });
          expect([path, origin, get.headers.get('access-control-allow-origin')]).toEqual([path, origin, null]);
        }
      }
      const ok = await raw(`${server.origin}/v1/traffic`, { headers: { Origin: 'https://app.example' } });
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    } finally {
      await server.stop();
    }
  });
});

describe('canonical paths', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(sqlite);
  });
  afterAll(() => server.stop());

  it.each([
    '/v1\\stats',
    '/v1/./stats',
    '/v1/rooms/%2e%2e/stats',
    '/v1/rooms/%2E%2E/stats',
    '/v1/rooms/../stats',
    '//v1/stats',
    '/v1//stats',
    '/v1/%73tats',
    '/v1%2fstats',
    '/%6detrics',
    '/v1/traffic/./',
    '/v1/rooms/..%2fstats',
  ])('%s is 404 errno 999, never the admin route behind it', async (path) => {
    const a = await rawGet(server, path);
    expect([a.status, JSON.parse(a.text).errno]).toEqual([404, 999]);
  });

  it('the canonical forms still answer', async () => {
    expect((await rawGet(server, '/v1/stats')).status).toBe(200);
    expect((await rawGet(server, '/metrics')).status).toBe(200);
    expect((await rawGet(server, '/v1/stats?since=2026-01-01T00:00:00Z')).status).toBe(200);
  });
});

describe.each(STORES)('room ids instead of room tokens (%s)', (_name, factory) => {
  it('no admin view gives the token of a room with a non-conformant report (it would let anyone join)', async () => {
    const server = await startServer(factory);
    try {
      const owner = await registerHawkSession(server.serverUrl);
      const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'r', roomOwner: 'o' });
      const guest = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'g' });
      expect((await post(`${server.serverUrl}/rooms/${roomToken}`, { ...STATUS, state: 'nowhere' }, { basic: guest.sessionToken })).status).toBe(204);
      // The attack: stats name an example session; its reports named the room token.
      const stats = (await raw(`${server.serverUrl}/stats`)).json();
      const example = stats.nonConformance[0].exampleSession;
      expect(example).toBe(guest.roomConnectionId);
      const views = [
        JSON.stringify(stats),
        (await raw(`${server.serverUrl}/sessions/${example}/reports`)).text,
        (await raw(`${server.serverUrl}/traffic/sessions/${example}`)).text,
        (await raw(`${server.serverUrl}/traffic`)).text,
        (await raw(`${server.origin}/metrics`)).text,
      ];
      for (const v of views) expect(v).not.toContain(roomToken);
      const reports = (await raw(`${server.serverUrl}/sessions/${example}/reports`)).json();
      const replay = (await raw(`${server.serverUrl}/traffic/sessions/${example}`)).json();
      expect(reports.room).toMatch(/^[0-9a-f]{32}$/);
      expect(reports.reports[0].room).toBe(reports.room);
      expect(replay.room).toBe(reports.room);
    } finally {
      await server.stop();
    }
  });
});
