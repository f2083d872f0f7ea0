/*
 * deploy/nginx/loop-room-state.conf in front of two `serve` processes on one PostgreSQL (server spec section 8):
 * Debian's nginx (/usr/sbin/nginx) with the shipped file (only its addresses and log paths rewritten), a
 * throw-away PostgreSQL cluster, real processes of the built CLI. Checks that the admin paths are closed from
 * the public side, that room tokens stay out of nginx's logs, and that a rolling SIGTERM restart under load
 * loses nothing: every report is answered 2xx and stored exactly once. The counts are printed and written to
 * test/deploy/.rolling-restart.json. NGINX_DEBUG=1 keeps the nginx folder and logs at info level.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { basicAuthorization } from '../../src/transport/basic';
import { usePgCluster } from '../support/postgres';
import { findTool } from '../support/tools';
import { CLI, ROOT, requireBuilt, runCli, spawnServe, type ServeChild } from '../server/process';

const nginxBin = findTool('nginx', ['/usr/sbin/nginx']);
const describeNginx = nginxBin ? describe : describe.skip;
const pg = usePgCluster();
const ADMIN = 'nginx-test-admin-token';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, what: string, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The answer's status, or the socket error's code. */
function postStatus(url: string, headers: Record<string, string>, body: string, agent: Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'response error'));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'request error'));
    req.end(body);
  });
}

describeNginx('nginx in front of two processes', () => {
  const temp = mkdtempSync(join(tmpdir(), 'loop-room-nginx-'));
  const backends: Array<{ port: number; child?: ServeChild }> = [];
  let nginx: ChildProcess | undefined;
  let publicUrl = '';
  let storeUrl = '';

  const serve = async (i: number) => {
    const s = await spawnServe(process.execPath, [
      CLI, 'serve', '--port', String(backends[i].port), '--store', storeUrl, '--public-url', publicUrl, '--admin-token', ADMIN,
      '--participant-ttl', '3600', '--max-room-size', '100', '--shutdown-grace', '20',
    ]);
    backends[i].child = s;
    return s;
  };

  beforeAll(async () => {
    requireBuilt();
    storeUrl = `${await pg().createDatabase()}?pool_size=8`;
    const nginxPort = await freePort();
    publicUrl = `http://127.0.0.1:${nginxPort}`;
    for (let i = 0; i < 2; i++) backends.push({ port: await freePort() });
    // The first process migrates the database; the second starts on it.
    await serve(0);
    await serve(1);

    // The shipped file, with this run's addresses and log paths.
    let conf = readFileSync(join(ROOT, 'deploy', 'nginx', 'loop-room-state.conf'), 'utf8');
    const rewrite = (from: RegExp, to: string) => {
      expect(conf).toMatch(from);
      conf = conf.replace(from, to);
    };
    rewrite(/server 127\.0\.0\.1:5000 /, `server 127.0.0.1:${backends[0].port} `);
    rewrite(/server 127\.0\.0\.1:5001 /, `server 127.0.0.1:${backends[1].port} `);
    rewrite(/listen 80;/, `listen 127.0.0.1:${nginxPort};`);
    rewrite(/\/var\/log\/nginx\/loop-room-state\.access\.log/, join(temp, 'access.log'));
    rewrite(/\/var\/log\/nginx\/loop-room-state\.error\.log crit/, `${join(temp, 'error.log')} ${process.env.NGINX_DEBUG ? 'info' : 'crit'}`);
    writeFileSync(join(temp, 'loop-room-state.conf'), conf);
    for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      mkdirSync(join(temp, d));
      chmodSync(join(temp, d), 0o777);
    }
    const isRoot = process.getuid?.() === 0;
    writeFileSync(
      join(temp, 'nginx.conf'),
      [
        // As root, nginx's workers run as `nobody`: the temp folders above are writable for it.
        isRoot ? 'user nobody nogroup;' : '',
        'worker_processes 1;',
        'daemon off;',
        `pid ${join(temp, 'nginx.pid')};`,
        `error_log ${join(temp, 'nginx-main.error.log')} warn;`,
        'events { worker_connections 1024; }',
        'http {',
        `  client_body_temp_path ${join(temp, 'body')};`,
        `  proxy_temp_path ${join(temp, 'proxy')};`,
        `  fastcgi_temp_path ${join(temp, 'fastcgi')};`,
        `  uwsgi_temp_path ${join(temp, 'uwsgi')};`,
        `  scgi_temp_path ${join(temp, 'scgi')};`,
        `  access_log off;`,
        `  include ${join(temp, 'loop-room-state.conf')};`,
        '}',
      ].join('\n'),
    );
    nginx = spawn(nginxBin!, ['-e', join(temp, 'nginx-main.error.log'), '-p', temp, '-c', join(temp, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let nginxErr = '';
    nginx.stderr!.on('data', (d) => (nginxErr += d));
    await waitFor(async () => (await fetch(`${publicUrl}/v1/registration`, { method: 'POST' })).status === 200, `nginx to answer (${nginxErr})`);
  }, 120_000);

  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    for (const b of backends) b.child?.child.kill('SIGKILL');
    if (!process.env.NGINX_DEBUG) rmSync(temp, { recursive: true, force: true });
  });

  it('the public side answers the room API only: admin paths, health and the visualizer are 404 there', async () => {
    const admin = { Authorization: `Bearer ${ADMIN}` };
    for (const path of ['/metrics', '/v1/stats', '/v1/traffic', '/v1/traffic/stream', '/v1/sessions/x/reports', '/v1/traffic/sessions/x', '/health', '/ready', '/', '/watch', '/inspect', '/v1/rooms/x/../../metrics', '/v1//stats']) {
      const a = await fetch(`${publicUrl}${path}`, { headers: admin });
      expect([path, a.status]).toEqual([path, 404]);
      await a.arrayBuffer();
    }
    // The same paths answer on a process's own address (where Prometheus and operators go).
    expect((await fetch(`http://127.0.0.1:${backends[0].port}/metrics`, { headers: admin })).status).toBe(200);
    // And the API works through the proxy, Hawk included (checked against the public URL).
    const owner = await registerHawkSession(`${publicUrl}/v1`);
    const { roomToken } = await createRoom({ serverUrl: `${publicUrl}/v1`, credentials: owner.credentials, roomName: 'n', roomOwner: 'o' });
    expect(roomToken).toBeTruthy();
  });

  it('a rolling SIGTERM restart under load loses nothing: every report answered 2xx and stored exactly once', async () => {
    const serverUrl = `${publicUrl}/v1`;
    const owner = await registerHawkSession(serverUrl);
    const { roomToken } = await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'rolling', roomOwner: 'o', maxSize: 100 });
    const clients = 32;
    const guests = [];
    for (let i = 0; i < clients; i++) guests.push(await joinRoom({ serverUrl, roomToken, displayName: `g${i}`, clientMaxSize: 100 }));
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const counts = { sent: 0, ok: 0, failed: 0 };
    const failures = new Map<string, number>();
    const okBySession = new Map<string, number>();
    let running = true;
    const started = performance.now();
    const loops = guests.map(async (g) => {
      const headers = { Authorization: basicAuthorization(g.sessionToken), 'Content-Type': 'application/json' };
      for (let n = 0; running && n < 20_000; n++) {
        const connections = n % 2 === 0 ? 1 : 0;
        const body = JSON.stringify({ action: 'status', event: connections ? 'Session.connectionCreated' : 'Session.connectionDestroyed', state: connections ? 'waiting' : 'init', connections, sendStreams: 0, recvStreams: 0 });
        counts.sent++;
        const status = await postStatus(`${serverUrl}/rooms/${roomToken}`, headers, body, agent);
        if (status === 204) {
          counts.ok++;
          okBySession.set(g.roomConnectionId, (okBySession.get(g.roomConnectionId) ?? 0) + 1);
        } else {
          counts.failed++;
          failures.set(String(status), (failures.get(String(status)) ?? 0) + 1);
        }
      }
    });

    const exits: unknown[] = [];
    await new Promise((r) => setTimeout(r, 1000));
    // One process after the other: SIGTERM, wait for its exit, start it again, wait until it is ready.
    for (let i = 0; i < 2; i++) {
      const old = backends[i].child!;
      old.child.kill('SIGTERM');
      exits.push(await old.exited);
      // eslint-disable-next-line no-console
      if (process.env.NGINX_DEBUG) console.log(`process ${i} stderr:\n${old.stderr()}`);
      await serve(i);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${backends[i].port}/ready`)).status === 200, `process ${i} to be ready`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    running = false;
    await Promise.all(loops);
    const seconds = (performance.now() - started) / 1000;
    agent.destroy();

    // What was stored, per session, read back with export.
    const exported = await runCli(['export', '--store', storeUrl]);
    expect(exported.code).toBe(0);
    const storedBySession = new Map<string, number>();
    for (const line of exported.stdout.split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as { session: string };
      storedBySession.set(r.session, (storedBySession.get(r.session) ?? 0) + 1);
    }
    let duplicates = 0;
    let lost = 0;
    for (const g of guests) {
      const stored = storedBySession.get(g.roomConnectionId) ?? 0;
      const ok = okBySession.get(g.roomConnectionId) ?? 0;
      duplicates += Math.max(0, stored - ok);
      lost += Math.max(0, ok - stored);
    }
    const summary = { sent: counts.sent, ok2xx: counts.ok, non2xx: counts.failed, failures: Object.fromEntries(failures), duplicatesStored: duplicates, acknowledgedButLost: lost, seconds: Math.round(seconds * 10) / 10, perSecond: Math.round(counts.sent / seconds) };
    // eslint-disable-next-line no-console
    console.log(`rolling restart through nginx: ${JSON.stringify(summary)}`);
    writeFileSync(join(ROOT, 'test', 'deploy', '.rolling-restart.json'), `${JSON.stringify(summary)}\n`);
    expect(exits).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);
    // Load really ran across both restarts (the rate depends on the machine).
    expect(counts.sent).toBeGreaterThan(200);
    expect({ non2xx: counts.failed, failures: Object.fromEntries(failures), duplicates, lost }).toEqual({ non2xx: 0, failures: {}, duplicates: 0, lost: 0 });

    // No room token or session token in nginx's logs.
    const logs = readFileSync(join(temp, 'access.log'), 'utf8') + readFileSync(join(temp, 'error.log'), 'utf8');
    expect(logs).toContain('/v1/rooms/:token');
    expect(logs).not.toContain(roomToken);
    for (const g of guests) expect(logs).not.toContain(g.sessionToken);
  }, 180_000);
});
