// Every row of the server spec's error table, the order of checks, and the Hawk and Basic refusals.
import { createRoom, joinRoom, registerHawkSession, type HawkSession } from '../../src/index';
import { HawkSigner } from '../../src/transport/hawk';
import { request as httpRequest } from 'node:http';
import { STORES } from '../support/stores';
import { JSON_TYPE, countReports, expectError, hawkGet, post, raw, startServer, type RawAnswer, type TestServer } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Hawk = require('hawk') as { client: { authenticate(res: { headers: Record<string, string> }, credentials: unknown, artifacts: unknown, options: unknown): { headers: Record<string, Record<string, string>> } } };

const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
const TTL_MS = 1000;

describe.each(STORES)('errors (%s)', (_name, factory) => {
  let server: TestServer;
  let owner: HawkSession;
  let other: HawkSession;
  let room: string;
  let url: string;
  beforeAll(async () => {
    server = await startServer(factory);
    owner = await registerHawkSession(server.serverUrl);
    other = await registerHawkSession(server.serverUrl);
    room = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'errors', roomOwner: 'o', maxSize: 3 })).roomToken;
    url = `${server.serverUrl}/rooms/${room}`;
  });
  afterAll(() => server.stop());
  const guest = () => joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'g' });
  const leave = (token: string) => post(url, { action: 'leave' }, { basic: token });

  describe('the table', () => {
    it('400 107 for a time that names no day, a parameter given twice, until not after since; HEAD where GET; 431 for headers over 16 KiB', async () => {
      const stats = (q: string) => raw(`${server.serverUrl}/stats?${q}`);
      expectError(await stats('since=2026-02-30T00:00:00Z'), 400, 107, /Invalid since/);
      expectError(await stats('since=2026-01-01T00:00:00Z&since=2026-01-02T00:00:00Z'), 400, 107, /given 2 times/);
      expectError(await stats('since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'), 400, 107, /until must be after since/);
      expect((await stats('since=2024-02-29T00:00:00Z&until=2024-03-01T00:00:00Z')).status).toBe(200);
      expectError(await raw(`${server.serverUrl}/traffic?since=2026-04-31T00:00:00Z&until=2026-05-02T00:00:00Z`), 400, 107, /Invalid since/);
      const head = await raw(`${server.serverUrl}/stats`, { method: 'HEAD' });
      expect([head.status, head.text]).toEqual([200, '']);
      const put = await raw(`${server.serverUrl}/stats`, { method: 'PUT' });
      expect([put.status, put.headers.get('Allow')]).toEqual([405, 'GET, HEAD']);
      expectError(await raw(`${server.serverUrl}/stats`, { headers: { 'X-Large': 'a'.repeat(20_000) } }), 431, 999, /16 KiB/);
    });

    it('400 106: not JSON, not an object, not a JSON Content-Type', async () => {
      const g = await guest();
      expectError(await post(url, '{"action":', { basic: g.sessionToken }), 400, 106);
      expectError(await post(url, '[1,2]', { basic: g.sessionToken }), 400, 106);
      expectError(await post(url, 'null', { basic: g.sessionToken }), 400, 106);
      expectError(await raw(url, { method: 'POST', headers: { 'Content-Type': 'text/plain', Authorization: `Basic ${Buffer.from(`${g.sessionToken}:`).toString('base64')}` }, body: JSON.stringify(STATUS) }), 400, 106);
      await leave(g.sessionToken);
    });

    it('400 107: a wrong value, an unknown action, logDomain, an empty event, counters out of range', async () => {
      const g = await guest();
      const b = { basic: g.sessionToken };
      expectError(await post(url, { action: 'dance' }, b), 400, 107, 'Invalid action.');
      expectError(await post(url, { action: 'logDomain', domains: [] }, b), 400, 107, 'Invalid action.');
      expectError(await post(url, { ...STATUS, event: '' }, b), 400, 107);
      expectError(await post(url, { ...STATUS, state: 'x'.repeat(65) }, b), 400, 107);
      expectError(await post(url, { ...STATUS, connections: -1 }, b), 400, 107, 'Invalid connections number.');
      expectError(await post(url, { ...STATUS, sendStreams: 1.5 }, b), 400, 107, 'Invalid sendStreams number.');
      expectError(await post(url, { ...STATUS, recvStreams: 10_001 }, b), 400, 107, 'Invalid recvStreams number.');
      expectError(await post(url, { ...STATUS, connections: '1' }, b), 400, 107, 'Invalid connections number.');
      // A missing status field is 107, the first missing one in the reference order.
      const { event: _e, recvStreams: _r, ...missing } = STATUS;
      expectError(await post(url, missing, b), 400, 107, "'event' field is missing in body.");
      expectError(await post(`${server.serverUrl}/rooms`, { roomName: '', roomOwner: 'o', maxSize: 2 }, { hawk: owner.credentials }), 400, 107);
      expectError(await post(`${server.serverUrl}/rooms`, { roomName: 'r', roomOwner: 'o', maxSize: 6 }, { hawk: owner.credentials }), 400, 107);
      expect(await server.fresh.store.sessionReports(g.roomConnectionId)).toEqual([]);
      await leave(g.sessionToken);
    });

    it('400 108: a missing action, join or room parameter', async () => {
      const g = await guest();
      expectError(await post(url, { event: 'x' }, { basic: g.sessionToken }), 400, 108, 'Missing: action');
      expectError(await post(url, { action: 'join', clientMaxSize: 2 }), 400, 108, 'Missing: displayName');
      expectError(await post(url, { action: 'join', displayName: 'x' }), 400, 108, 'Missing: clientMaxSize');
      expectError(await post(`${server.serverUrl}/rooms`, { roomOwner: 'o', maxSize: 2 }, { hawk: owner.credentials }), 400, 108, 'Missing: roomName');
      await leave(g.sessionToken);
    });

    it('400 121 and 202: clientMaxSize too small; the room full (a spot kept for the owner)', async () => {
      // clientMaxSize 3: a guest's own value bounds the room too (clientMaxSize 2 would leave no spot for the owner).
      const roomy = () => joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'g', clientMaxSize: 3 });
      const a = await roomy();
      expectError(await post(url, { action: 'join', displayName: 'b', clientMaxSize: 1 }), 400, 121);
      const b = await roomy(); // maxSize 3: two guests and the owner's spot
      expectError(await post(url, { action: 'join', displayName: 'c', clientMaxSize: 5 }), 400, 202, 'The room is full.');
      const o = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'owner', clientMaxSize: 5, auth: { type: 'hawk', credentials: owner.credentials } });
      expect(o.roomConnectionId).toBeTruthy();
      for (const t of [a, b]) await leave(t.sessionToken);
      expect((await post(url, { action: 'leave' }, { hawk: owner.credentials })).status).toBe(204);
    });

    it('400 203: status/leave after leave, another room\'s participant, GET by a non-participant', async () => {
      const g = await guest();
      expect((await leave(g.sessionToken)).status).toBe(204);
      expectError(await post(url, STATUS, { basic: g.sessionToken }), 400, 203, "Can't update status for a room you aren't in.");
      expectError(await leave(g.sessionToken), 400, 203);
      const room2 = (await createRoom({ serverUrl: server.serverUrl, credentials: other.credentials, roomName: 'two', roomOwner: 'p' })).roomToken;
      const g2 = await joinRoom({ serverUrl: server.serverUrl, roomToken: room2, displayName: 'x' });
      expectError(await post(url, STATUS, { basic: g2.sessionToken }), 400, 203);
      // A read says it is a read (the errno is Loop's).
      expectError(await hawkGet(url, other.credentials), 400, 203, "Can't read a room you aren't in.");
      expectError(await post(url, STATUS, { hawk: other.credentials }), 400, 203);
      const info = await raw(url, { headers: { Authorization: `Basic ${Buffer.from(`${g2.sessionToken}:`).toString('base64')}` } });
      expectError(info, 400, 203);
    });

    it('401 110: missing, malformed or wrong credentials, with WWW-Authenticate', async () => {
      const cases: RawAnswer[] = [
        await post(url, STATUS),
        await post(url, STATUS, { header: 'Basic !!!' }),
        await post(url, STATUS, { header: 'Bearer abc' }),
        await post(url, STATUS, { basic: 'never-issued-token' }),
        await post(url, STATUS, { header: `Basic ${Buffer.from('x:password').toString('base64')}` }),
        await post(url, STATUS, { header: 'Hawk id="x"' }),
        await post(`${server.serverUrl}/rooms`, { roomName: 'r', roomOwner: 'o', maxSize: 2 }),
      ];
      for (const a of cases) {
        expectError(a, 401, 110);
        expect(a.headers.get('WWW-Authenticate')).toBe('Basic,Hawk');
      }
    });

    it('403 110: deleting a room that is not yours', async () => {
      const a = await hawkGet(url, other.credentials, 'DELETE');
      expectError(a, 403, 110);
    });

    it('404 105: unknown, malformed, deleted and expired room tokens', async () => {
      expectError(await post(`${server.serverUrl}/rooms/AAAAAAAAAAA`, STATUS), 404, 105, 'Token not found.');
      expectError(await post(`${server.serverUrl}/rooms/not-a-token!`, STATUS), 404, 105);
      const r = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'gone', roomOwner: 'o' })).roomToken;
      const g = await joinRoom({ serverUrl: server.serverUrl, roomToken: r, displayName: 'x' });
      expect((await hawkGet(`${server.serverUrl}/rooms/${r}`, owner.credentials, 'DELETE')).status).toBe(204);
      expectError(await post(`${server.serverUrl}/rooms/${r}`, STATUS, { basic: g.sessionToken }), 404, 105);
      const ended = await server.fresh.store.getSession(g.roomConnectionId);
      expect(ended?.endReason).toBe('deleted');
      // An expired room answers as an unknown token.
      const brief = await startServer(factory, { roomExpiryHours: { default: 1 / 3600, max: 1 } });
      try {
        const o = await registerHawkSession(brief.serverUrl);
        const t = (await createRoom({ serverUrl: brief.serverUrl, credentials: o.credentials, roomName: 'brief', roomOwner: 'o' })).roomToken;
        expect((await hawkGet(`${brief.serverUrl}/rooms/${t}`, o.credentials)).status).toBe(200);
        await new Promise((r) => setTimeout(r, 1100));
        expectError(await hawkGet(`${brief.serverUrl}/rooms/${t}`, o.credentials), 404, 105);
      } finally {
        await brief.stop();
      }
    });

    it('404 999 and 405 999: unknown paths, known paths with another method', async () => {
      expectError(await raw(`${server.serverUrl}/nothing`), 404, 999);
      expectError(await raw(`${server.origin}/elsewhere`), 404, 999);
      const a = await raw(`${server.serverUrl}/rooms`, { method: 'GET' });
      expectError(a, 405, 999);
      expect(a.headers.get('Allow')).toBe('POST');
      expectError(await raw(url, { method: 'PUT' }), 405, 999);
    });

    it('410 111 and 203: after the participation expired (refresh, status)', async () => {
      const brief = await startServer(factory, { participantTtlMs: TTL_MS });
      try {
        const o = await registerHawkSession(brief.serverUrl);
        const r = (await createRoom({ serverUrl: brief.serverUrl, credentials: o.credentials, roomName: 'ttl', roomOwner: 'o' })).roomToken;
        const u = `${brief.serverUrl}/rooms/${r}`;
        const g = await joinRoom({ serverUrl: brief.serverUrl, roomToken: r, displayName: 'g' });
        expect(g.expires).toBe(Math.round(TTL_MS / 1000));
        expect((await post(u, STATUS, { basic: g.sessionToken })).status).toBe(204);
        // Any authenticated request extends the expiry.
        expect((await post(u, { action: 'refresh' }, { basic: g.sessionToken })).json()).toEqual({ expires: Math.round(TTL_MS / 1000) });
        await new Promise((res) => setTimeout(res, TTL_MS + 100));
        expectError(await post(u, { action: 'refresh' }, { basic: g.sessionToken }), 410, 111, 'Participation has expired.');
        expectError(await post(u, STATUS, { basic: g.sessionToken }), 400, 203);
        const s = await brief.fresh.store.getSession(g.roomConnectionId);
        expect(s?.endReason).toBe('expired');
        expect(s?.displayName).toBeUndefined();
      } finally {
        await brief.stop();
      }
    });

    it('413 113: a body over 8 KiB, declared or streamed, answered without reading it all', async () => {
      const big = JSON.stringify({ ...STATUS, pad: 'x'.repeat(9000) });
      expectError(await post(url, big), 413, 113);
      // Streamed (no Content-Length): refused as it passes the limit.
      const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(url, { method: 'POST', headers: { 'Content-Type': JSON_TYPE, 'Transfer-Encoding': 'chunked' } }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        req.write('x'.repeat(5000));
        setTimeout(() => req.write('x'.repeat(5000)), 20);
        // Never ended by the client: the server must not wait for the rest.
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).errno).toBe(113);
    });
  });

  describe('the order of checks', () => {
    it('413 before 404, 404 before 401, 401 before 106, 106 before 108/107, those before 203', async () => {
      expectError(await post(`${server.serverUrl}/rooms/AAAAAAAAAAA`, 'x'.repeat(9000)), 413, 113);
      expectError(await post(`${server.serverUrl}/rooms/AAAAAAAAAAA`, 'nope', { basic: 'bad' }), 404, 105);
      expectError(await post(url, 'nope', { basic: 'bad' }), 401, 110);
      expectError(await post(url, 'nope'), 401, 110);
      const g = await guest();
      expect((await leave(g.sessionToken)).status).toBe(204);
      expectError(await post(url, 'nope', { basic: g.sessionToken }), 400, 106);
      expectError(await post(url, {}, { basic: g.sessionToken }), 400, 108);
      expectError(await post(url, { action: 'status' }, { basic: g.sessionToken }), 400, 107);
      expectError(await post(url, STATUS, { basic: g.sessionToken }), 400, 203);
    });
  });

  describe('Hawk', () => {
    const signed = async (body: string, mutate: (header: string) => string = (h) => h, signer = new HawkSigner(owner.credentials)) =>
      mutate(await signer.header({ method: 'POST', url, contentType: JSON_TYPE, body }));
    const send = (header: string, body: string) => raw(url, { method: 'POST', headers: { 'Content-Type': JSON_TYPE, Authorization: header }, body });
    let joined = false;
    beforeAll(async () => {
      await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'owner', auth: { type: 'hawk', credentials: owner.credentials } });
      joined = true;
    });

    it('a correct request passes and the answer carries Server-Authorization', async () => {
      expect(joined).toBe(true);
      const a = await send(await signed(JSON.stringify({ action: 'refresh' })), JSON.stringify({ action: 'refresh' }));
      expect(a.status).toBe(200);
      expect(a.headers.get('Server-Authorization')).toMatch(/^Hawk mac="/);
    });

    it('a wrong MAC', async () => {
      const body = JSON.stringify(STATUS);
      const a = await send(await signed(body, (h) => h.replace(/mac="[^"]+"/, 'mac="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="')), body);
      expectError(a, 401, 110);
    });

    it('the payload changed after signing', async () => {
      const before = await countReports(server);
      const a = await send(await signed(JSON.stringify(STATUS)), JSON.stringify({ ...STATUS, connections: 2 }));
      expectError(a, 401, 110);
      expect(await countReports(server)).toBe(before);
    });

    it('a stale timestamp: 401 with ts and tsm, and the client corrects its clock', async () => {
      const body = JSON.stringify({ action: 'refresh' });
      const stale = new HawkSigner(owner.credentials, -10 * 60_000);
      const a = await send(await signed(body, undefined, stale), body);
      expectError(a, 401, 110);
      expect(a.headers.get('WWW-Authenticate')).toMatch(/^Hawk ts="\d+", tsm="[^"]+", error="Stale timestamp"$/);
      // The hawk library's client parses the challenge and checks its tsm (loop-server's answer had the same shape).
      const challenge = Hawk.client.authenticate({ headers: { 'www-authenticate': a.headers.get('WWW-Authenticate')! } }, { ...owner.credentials, algorithm: 'sha256' }, {} as never, {});
      expect(Math.abs(Number(challenge.headers['www-authenticate'].ts) * 1000 - Date.now())).toBeLessThan(60_000);
      expect(stale.adjustClock(a.headers.get('Date'))).toBe(true);
      expect((await send(await signed(body, undefined, stale), body)).status).toBe(200);
    });

    it('a replayed nonce', async () => {
      const body = JSON.stringify({ action: 'refresh' });
      const header = await signed(body);
      expect((await send(header, body)).status).toBe(200);
      expectError(await send(header, body), 401, 110);
    });

    it('registration with valid Hawk answers 200 and creates nothing; with Basic 401', async () => {
      const a = await raw(`${server.serverUrl}/registration`, {
        method: 'POST',
        headers: { Authorization: await new HawkSigner(owner.credentials).header({ method: 'POST', url: `${server.serverUrl}/registration`, contentType: '', body: '' }) },
      });
      expect(a.status).toBe(200);
      expect(a.headers.get('Hawk-Session-Token')).toBeNull();
      expectError(await post(`${server.serverUrl}/registration`, '', { basic: 'x' }), 401, 110);
    });
  });

  describe('Basic', () => {
    it('a rejoin with Basic credentials ends the previous session (reason rejoined)', async () => {
      const g = await guest();
      const again = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'g2', auth: { type: 'basic', sessionToken: g.sessionToken } });
      expect(again.roomConnectionId).not.toBe(g.roomConnectionId);
      expect((await server.fresh.store.getSession(g.roomConnectionId))?.endReason).toBe('rejoined');
      expectError(await post(url, STATUS, { basic: g.sessionToken }), 400, 203);
      expect((await post(url, STATUS, { basic: again.sessionToken })).status).toBe(204);
      await leave(again.sessionToken);
    });

    it('concurrent rejoins with one Basic token: one joins, the others are refused as an ended session (no phantom sessions)', async () => {
      const g = await guest();
      const before = (await raw(`${server.serverUrl}/stats`)).json().sessions;
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post(url, { action: 'join', displayName: `g${i}`, clientMaxSize: 5 }, { basic: g.sessionToken })));
      const ok = answers.filter((a) => a.status === 200);
      expect(ok).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 200)) expectError(a, 400, 203);
      const after = (await raw(`${server.serverUrl}/stats`)).json().sessions;
      // One session started (the rejoin), one ended (the one it replaced).
      expect([after.started - before.started, after.ended - before.ended]).toEqual([1, 1]);
      expect((await post(url, STATUS, { basic: ok[0].json().sessionToken })).status).toBe(204);
      await leave(ok[0].json().sessionToken);
    });
  });
});

describe.each(STORES)('CORS (%s)', (_name, factory) => {
  it('answers preflights and exposes headers to allowed origins only', async () => {
    const server = await startServer(factory, { corsOrigins: ['http://app.example'] });
    try {
      const pre = await raw(`${server.serverUrl}/rooms/AAAAAAAAAAA`, { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('Access-Control-Allow-Origin')).toBe('http://app.example');
      expect(pre.headers.get('Access-Control-Allow-Headers')).toBe('Authorization, Content-Type, Idempotency-Key');
      const reg = await raw(`${server.serverUrl}/registration`, { method: 'POST', headers: { Origin: 'http://app.example' } });
      expect(reg.headers.get('Access-Control-Expose-Headers')).toContain('Hawk-Session-Token');
      const error = await raw(`${server.serverUrl}/rooms/AAAAAAAAAAA`, { method: 'POST', headers: { Origin: 'http://app.example' } });
      expect([error.status, error.headers.get('Access-Control-Allow-Origin')]).toEqual([404, 'http://app.example']);
      const other = await raw(`${server.serverUrl}/rooms/AAAAAAAAAAA`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
      expect([other.status, other.headers.get('Access-Control-Allow-Origin')]).toEqual([405, null]);
    } finally {
      await server.stop();
    }
  });
});
