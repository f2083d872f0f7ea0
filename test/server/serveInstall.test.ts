// `serve` as an operator installs and stops it: with only the packages the README's install line names (no `ws`),
// and stopped cleanly (the SQLite store left as one file, every report in it).
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { post } from './helpers';
import { ROOT, serveCli, spawnServe, useCliRun } from './process';

const run = useCliRun('loop-room-install-');

/** The built package with every installed package but `ws` beside it (as `npm install` without ws leaves it). */
function packageWithoutWs(): string {
  const pkg = join(run.temp, 'pkg');
  cpSync(join(ROOT, 'dist'), join(pkg, 'dist'), { recursive: true });
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  mkdirSync(join(pkg, 'node_modules'));
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'ws' || name.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(pkg, 'node_modules', name));
  }
  return pkg;
}

/** A WebSocket handshake's answer, when it is not an upgrade (fetch does not send these headers). */
function upgradeTo(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function report(serverUrl: string, n: number): Promise<void> {
  const owner = await registerHawkSession(serverUrl);
  const { roomToken } = await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'r', roomOwner: 'o', maxSize: 2 });
  const { sessionToken } = await joinRoom({ serverUrl, roomToken, displayName: 'g', clientMaxSize: 2 });
  for (let i = 0; i < n; i++) {
    const connections = i % 2 === 0 ? 1 : 0;
    const a = await post(`${serverUrl}/rooms/${roomToken}`, { action: 'status', event: connections ? 'Session.connectionCreated' : 'Session.connectionDestroyed', state: connections ? 'waiting' : 'init', connections, sendStreams: 0, recvStreams: 0 }, { basic: sessionToken });
    if (a.status !== 204) throw new Error(`report answered ${a.status}: ${a.text}`);
  }
}

it('runs without the optional `ws`: the API and the page are served, the live view says what to install', async () => {
  const pkg = packageWithoutWs();
  const child = await spawnServe(process.execPath, [join(pkg, 'dist', 'cli.cjs'), 'serve', '--port', '0', '--db', join(run.temp, 'nows.db')], { NODE_PATH: '' });
  run.children.push(child);
  await report(child.serverUrl, 3);
  const page = await fetch(`${child.origin}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<html');
  // The relay's WebSocket is refused with the reason (a browser shows the page's own "cannot connect").
  const watch = await upgradeTo(`${child.origin}/watch`);
  expect(watch.status).toBe(503);
  expect(watch.text).toContain('npm install ws');
  expect(child.stderr()).toContain("the live view needs the optional package 'ws': npm install ws");
  child.child.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
});

it('a clean stop leaves the SQLite store as one file holding every report (the WAL checkpointed and removed)', async () => {
  const db = join(run.temp, 'stop.db');
  const child = await serveCli(['--port', '0', '--db', db]);
  run.children.push(child);
  await report(child.serverUrl, 20);
  child.child.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
  expect(existsSync(`${db}-wal`) ? statSync(`${db}-wal`).size : 0).toBe(0);
  expect(child.stderr()).not.toContain('-wal file kept');
  // The file alone, copied where no -wal can follow it, holds them all.
  const copy = join(run.temp, 'copied.db');
  copyFileSync(db, copy);
  const Database = loadBetterSqlite3();
  const c = new Database(copy, { readonly: true });
  try {
    expect((c.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n).toBe(20);
  } finally {
    c.close();
  }
});

it('a stop that cannot fold the WAL in (another process has the database open) says so; the reports are all there', async () => {
  const db = join(run.temp, 'kept.db');
  const child = await serveCli(['--port', '0', '--db', db]);
  run.children.push(child);
  await report(child.serverUrl, 5);
  const Database = loadBetterSqlite3();
  const other = new Database(db);
  try {
    other.prepare('SELECT count(*) AS n FROM reports').get();
    child.child.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
    expect(existsSync(`${db}-wal`)).toBe(true);
    expect(child.stderr()).toContain(`store: SQLite ${db}: stopped with its -wal file kept`);
    expect((other.prepare('SELECT count(*) AS n FROM reports').get() as { n: number }).n).toBe(5);
  } finally {
    other.close();
  }
});
