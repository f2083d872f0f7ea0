// `loop-room-state backup --db PATH --to FILE` (server spec section 8): a consistent online copy of a live SQLite
// store, safe under load. Reports are written the whole time; the copy opens, passes SQLite's integrity check and
// holds every report acknowledged before the backup began.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { post, startServer } from './helpers';
import { requireBuilt, runCli } from './process';

const temp = mkdtempSync(join(tmpdir(), 'loop-room-backup-'));
beforeAll(() => requireBuilt());
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const EVENTS = ['Session.connectionCreated', 'Session.connectionDestroyed'] as const;

it('copies a store under load: the copy has every report acknowledged before the backup began', async () => {
  const path = join(temp, 'live.db');
  const store = new SqliteStore({ path });
  await store.open();
  const server = await startServer(async () => ({ store, cleanup: () => store.close() }), { maxRoomSize: 10 });
  try {
    const owner = await registerHawkSession(server.serverUrl);
    const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'b', roomOwner: 'o', maxSize: 10 });
    const guests = [];
    for (let i = 0; i < 6; i++) guests.push(await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: `g${i}`, clientMaxSize: 10 }));
    // Each guest reports as fast as it is answered; acknowledged[i] counts its 204s.
    const acknowledged = guests.map(() => 0);
    let writing = true;
    const writers = guests.map(async (g, i) => {
      for (let n = 0; writing && n < 5000; n++) {
        const connections = n % 2 === 0 ? 1 : 0;
        const a = await post(`${server.serverUrl}/rooms/${roomToken}`, { action: 'status', event: EVENTS[n % 2], state: connections ? 'waiting' : 'init', connections, sendStreams: 0, recvStreams: 0 }, { basic: g.sessionToken });
        if (a.status !== 204) throw new Error(`report answered ${a.status}: ${a.text}`);
        acknowledged[i]++;
      }
    });
    while (acknowledged.reduce((a, b) => a + b, 0) < 200) await new Promise((r) => setTimeout(r, 20));
    const before = [...acknowledged];
    const copy = join(temp, 'copy.db');
    const r = await runCli(['backup', '--db', path, '--to', copy]);
    const during = acknowledged.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0);
    writing = false;
    await Promise.all(writers);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Backed up .* to .*copy\.db \(\d+ pages, integrity checked\)/);
    // The load went on while the backup ran.
    expect(during).toBeGreaterThan(0);

    const db = new (loadBetterSqlite3())(copy, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const counts = new Map((db.prepare('SELECT session, COUNT(*) AS n, MAX(seq) AS top FROM reports GROUP BY session').all() as Array<{ session: string; n: number; top: number }>).map((row) => [row.session, row]));
      guests.forEach((g, i) => {
        const row = counts.get(g.roomConnectionId);
        expect(row?.n ?? 0).toBeGreaterThanOrEqual(before[i]);
        // No gap: the copy is one moment of the store, not pages of different moments.
        expect(row?.top).toBe(row?.n);
      });
    } finally {
      db.close();
    }
    // The copy is a store a server opens.
    const reopened = new SqliteStore({ path: copy });
    await reopened.open();
    expect((await reopened.sessionReports(guests[0].roomConnectionId)).length).toBeGreaterThanOrEqual(before[0]);
    await reopened.close();
  } finally {
    await server.stop();
  }
});

it('refuses to overwrite, and says what is missing', async () => {
  const existing = join(temp, 'exists.db');
  const s = new SqliteStore({ path: existing });
  await s.open();
  await s.close();
  const over = await runCli(['backup', '--db', existing, '--to', existing]);
  expect(over.code).toBe(1);
  expect(over.stderr).toMatch(/exists already/);
  const none = await runCli(['backup', '--db', join(temp, 'none.db'), '--to', join(temp, 'x.db')]);
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/no such database file/);
  expect(existsSync(join(temp, 'x.db'))).toBe(false);
  expect((await runCli(['backup', '--db', existing])).code).toBe(2);
});

it('refuses a PostgreSQL URL without echoing it, and names a missing folder', async () => {
  const existing = join(temp, 'exists2.db');
  const s = new SqliteStore({ path: existing });
  await s.open();
  await s.close();
  const url = await runCli(['backup', '--db', 'postgres://loop:s3cret-pw@127.0.0.1:5432/rooms', '--to', join(temp, 'pg.db')]);
  expect(url.code).toBe(2);
  expect(url.stderr).toMatch(/pg_dump/);
  expect(url.stderr + url.stdout).not.toContain('s3cret-pw');
  const folder = join(temp, 'no', 'such');
  const missing = await runCli(['backup', '--db', existing, '--to', join(folder, 'x.db')]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain(`the folder ${folder} does not exist`);
});
