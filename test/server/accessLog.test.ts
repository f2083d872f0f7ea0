// The access log (`serve --access-log`): one entry per answered API request, naming the route and never
// the path as sent (room tokens and session ids are in paths), with the action, status and errno.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import type { AccessLogEntry } from '../../src/server/accessLog';
import { STORES } from '../support/stores';
import { post, raw, startServer } from './helpers';
import { serveCli, requireBuilt } from './process';

const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
const [, sqlite] = STORES[0];

it('logs each answered request once, by route, with action, status and errno, and no secret', async () => {
  const entries: AccessLogEntry[] = [];
  const server = await startServer(sqlite, { accessLog: (e) => entries.push(e), adminToken: 'access-log-admin' });
  try {
    const owner = await registerHawkSession(server.serverUrl);
    const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'log', roomOwner: 'o' });
    const guest = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'g' });
    const url = `${server.serverUrl}/rooms/${roomToken}`;
    expect((await post(url, STATUS, { basic: guest.sessionToken })).status).toBe(204);
    expect((await post(url, { ...STATUS, connections: -1 }, { basic: guest.sessionToken })).status).toBe(400);
    expect((await post(`${server.serverUrl}/rooms/not-a-room-but-secret-looking`, STATUS, { basic: guest.sessionToken })).status).toBe(404);
    expect((await raw(`${server.serverUrl}/sessions/some-session-id/reports`)).status).toBe(401);
    expect((await raw(`${server.serverUrl}/nothing/here/${roomToken}`)).status).toBe(404);
    expect((await raw(`${server.serverUrl}/registration`, { method: 'PUT' })).status).toBe(405);
    expect((await raw(`${server.serverUrl}/traffic`, { headers: { Authorization: 'Bearer access-log-admin' } })).status).toBe(200);
    expect((await raw(`${server.serverUrl}/traffic/sessions/some-session-id`)).status).toBe(401);
    expect((await raw(`${server.origin}/metrics`, { headers: { Authorization: 'Bearer access-log-admin' } })).status).toBe(200);

    const v1 = new URL(server.serverUrl).pathname;
    expect(entries.map(({ method, route, action, status, errno }) => ({ method, route, action, status, ...(errno === undefined ? {} : { errno }) }))).toEqual([
      { method: 'POST', route: `${v1}/registration`, action: 'registration', status: 200 },
      { method: 'POST', route: `${v1}/rooms`, action: 'create', status: 201 },
      { method: 'POST', route: `${v1}/rooms/:token`, action: 'join', status: 200 },
      { method: 'POST', route: `${v1}/rooms/:token`, action: 'status', status: 204 },
      { method: 'POST', route: `${v1}/rooms/:token`, action: 'status', status: 400, errno: 107 },
      { method: 'POST', route: `${v1}/rooms/:token`, action: 'other', status: 404, errno: 105 },
      { method: 'GET', route: `${v1}/sessions/:id/reports`, action: 'session-reports', status: 401, errno: 110 },
      { method: 'GET', route: `${v1}/*`, action: 'other', status: 404, errno: 999 },
      { method: 'PUT', route: `${v1}/registration`, action: 'other', status: 405, errno: 999 },
      { method: 'GET', route: `${v1}/traffic`, action: 'traffic', status: 200 },
      { method: 'GET', route: `${v1}/traffic/sessions/:id`, action: 'traffic', status: 401, errno: 110 },
      { method: 'GET', route: '/metrics', action: 'metrics', status: 200 },
    ]);
    for (const e of entries) {
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(e.ms).toBeGreaterThanOrEqual(0);
    }
    const text = JSON.stringify(entries);
    for (const secret of [roomToken, guest.sessionToken, owner.credentials.id, owner.credentials.key, 'secret-looking', 'some-session-id', 'access-log-admin']) {
      expect(text).not.toContain(secret);
    }
  } finally {
    await server.stop();
  }
});

/** Writes `request` on a new connection and reads the whole answer (the server closes it). */
function rawExchange(origin: string, request: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (d) => (answer += d));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

it('answers what is no whole request (malformed, CONNECT) with a JSON error, counted and logged without a route', async () => {
  const entries: AccessLogEntry[] = [];
  const server = await startServer(sqlite, { accessLog: (e) => entries.push(e) });
  try {
    const malformed = await rawExchange(server.origin, 'GET /v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(malformed).toMatch(/^HTTP\/1\.1 400 /);
    const tunnel = await rawExchange(server.origin, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(tunnel).toMatch(/^HTTP\/1\.1 405 /);
    expect(tunnel).toContain('"errno":');
    expect(entries.map(({ method, route, action, status }) => ({ method, route, action, status }))).toEqual([
      { method: '-', route: '-', action: 'other', status: 400 },
      { method: 'CONNECT', route: '-', action: 'other', status: 405 },
    ]);
    expect(JSON.stringify(entries)).not.toContain('example.com');
  } finally {
    await server.stop();
  }
});

it('serve --access-log prints one JSON line per request on stdout', async () => {
  requireBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'loop-room-access-'));
  const s = await serveCli(['--port', '0', '--db', join(dir, 'a.db'), '--access-log']);
  try {
    expect((await fetch(`${s.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
    let line: AccessLogEntry | undefined;
    for (let i = 0; i < 200 && !line; i++) {
      line = s
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as AccessLogEntry)
        .find((e) => e.action === 'registration');
      if (!line) await new Promise((r) => setTimeout(r, 25));
    }
    expect(line).toMatchObject({ method: 'POST', route: '/v1/registration', action: 'registration', status: 200 });
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
