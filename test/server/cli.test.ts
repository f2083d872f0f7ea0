// `npm start`, `loop-room-state serve` and `export` as a user runs them: one port for API, metrics and the
// visualizer (page and live relay); a signal to npm's process stops the server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { createRoom, createRoomSession, joinRoom, registerHawkSession } from '../../src/index';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { runCli, serveCli, spawnServe, requireBuilt } from './process';

let dir: string;
beforeAll(() => {
  requireBuilt();
  dir = mkdtempSync(join(tmpdir(), 'loop-room-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const portClosed = (origin: string) =>
  new Promise<boolean>((resolve) => {
    const u = new URL(origin);
    const s = connect(Number(u.port), u.hostname);
    s.on('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(true));
  });

describe.each(['SIGINT', 'SIGTERM'] as const)('npm start, stopped with %s to npm', (signal) => {
  it('serves API, metrics, the visualizer page and its live relay on one port, then stops', async () => {
    const db = join(dir, `start-${signal}.db`);
    const s = await spawnServe('npm', ['start', '--silent', '--', '--port', '0', '--db', db], { LOOP_ROOM_STATE_NO_BUILD: '1' });
    try {
      expect((await fetch(`${s.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
      const page = await fetch(`${s.origin}/`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect((await fetch(`${s.origin}/metrics`)).status).toBe(200);
      // A client without the base path (Loop's /v0, or the root) gets the API's JSON error naming it, not the page's.
      for (const path of ['/registration', '/v0/rooms/QzBbvGmIZWU', '/']) {
        const outside = await fetch(`${s.origin}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
        expect([path, outside.status, await outside.json()]).toEqual([path, 404, { code: 404, errno: 999, error: 'Not found: the API is under /v1 (a client\'s serverUrl ends with it).' }]);
      }
      const ws = new WebSocket(`${s.origin.replace('http', 'ws')}/watch`);
      const first = await new Promise<string>((resolve, reject) => {
        ws.on('message', (d) => resolve(String(d)));
        ws.on('error', reject);
      });
      expect(JSON.parse(first).type).toBe('sessions');
      ws.close();
    } finally {
      s.child.kill(signal);
    }
    const exit = await Promise.race([s.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('npm did not exit')), 10_000))]).finally(() => {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    });
    expect(exit.code === 0 || exit.signal === signal || exit.code === 128 + (signal === 'SIGINT' ? 2 : 15)).toBe(true);
    // The server went with npm: nothing listens on the port any more.
    await new Promise((r) => setTimeout(r, 200));
    expect(await portClosed(s.origin)).toBe(true);
  });
});

describe('serve and export', () => {
  it('serve refuses a non-loopback address without an admin token', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'x.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/admin token/);
  });

  it('serve refuses a --public-url that is not an http(s) origin', async () => {
    for (const url of ['https://rooms.example.test/api', 'ftp://rooms.example.test', 'rooms.example.test']) {
      const r = await runCli(['serve', '--port', '0', '--db', join(dir, 'x.db'), '--public-url', url]);
      expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`--public-url takes an origin such as https://rooms.example.com (no path), got '${url}'`)]);
    }
  });

  it('export prints every stored report, oldest first, filtered by room and time, without secrets', async () => {
    const db = join(dir, 'export.db');
    const s = await serveCli(['--port', '0', '--db', db]);
    let tokens: string[] = [];
    let roomToken = '';
    try {
      const owner = await registerHawkSession(s.serverUrl);
      roomToken = (await createRoom({ serverUrl: s.serverUrl, credentials: owner.credentials, roomName: 'x', roomOwner: 'o' })).roomToken;
      const other = (await createRoom({ serverUrl: s.serverUrl, credentials: owner.credentials, roomName: 'y', roomOwner: 'o' })).roomToken;
      const g = await joinRoom({ serverUrl: s.serverUrl, roomToken, displayName: 'g' });
      const g2 = await joinRoom({ serverUrl: s.serverUrl, roomToken: other, displayName: 'g2' });
      tokens = [owner.sessionToken, owner.credentials.id, owner.credentials.key, g.sessionToken, g2.sessionToken];
      for (const [t, r] of [[g.sessionToken, roomToken], [g2.sessionToken, other]]) {
        const session = createRoomSession({ roomToken: r, serverUrl: s.serverUrl, auth: { type: 'basic', sessionToken: t } });
        for (const row of WORKED_EXAMPLE.slice(0, 3)) session.send({ type: row.event });
        await session.flush();
        session.stop();
      }
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    const all = await runCli(['export', '--db', db]);
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(6);
    expect(Object.keys(lines[0])).toEqual(['room', 'session', 'seq', 'receivedAt', 'report', 'verdict']);
    expect(lines[0].report).toEqual({ action: 'status', ...WORKED_EXAMPLE.slice(0, 1).map(({ event, state, connections, sendStreams, recvStreams }) => ({ event, state, connections, sendStreams, recvStreams }))[0] });
    const times = lines.map((l) => Date.parse(l.receivedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const mine = await runCli(['export', '--db', db, '--room', roomToken]);
    // `room` is the room's id, the same on every line of a room, never its token (spec section 3).
    const ids = mine.stdout.trim().split('\n').map((l) => JSON.parse(l).room);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(lines.map((l) => l.room)).size).toBe(2);
    expect(all.stdout).not.toContain(roomToken);
    const future = await runCli(['export', '--db', db, '--since', '2999-01-01T00:00:00Z']);
    expect(future.stdout).toBe('');
    for (const t of tokens) expect(all.stdout + all.stderr + s.stdout() + s.stderr()).not.toContain(t);
    const bad = await runCli(['export', '--db', db, '--since', 'yesterday']);
    expect(bad.code).toBe(2);
  });
});
