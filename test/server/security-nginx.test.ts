// docs/deployment.md's nginx example, run for real in front of a room server: the admin paths (in every spelling)
// answer 404 on the public side, clients still work through it, and nginx's access log holds no room token.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { post, startServer, type TestServer } from './helpers';
import { STORES } from './stores';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const [, sqlite] = STORES[0];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The docs' nginx block, pointed at this server and this directory (plain HTTP on a free port). */
function docsConfig(dir: string, listen: number, upstream: number): string {
  const md = readFileSync(join(__dirname, '..', '..', 'docs', 'deployment.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(md)?.[1];
  if (!block) throw new Error('docs/deployment.md has no nginx block');
  const body = block
    .replace(/upstream loop_room_state \{[\s\S]*?\}/, `upstream loop_room_state {\n  server 127.0.0.1:${upstream};\n  keepalive 4;\n}`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${listen};`)
    .replace('/var/log/nginx/loop-room-state.log', join(dir, 'access.log'));
  return `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')};\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path ${dir};\n  proxy_temp_path ${dir};\n${body}\n}\n`;
}

function rawGet(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: 'rooms.example.test' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

// In CI the nginx example must be checked (npm test installs nginx): leaving it out there would hide it.
if (process.env.CI && !NGINX) throw new Error('CI is set but nginx was not found (scripts/ensure-nginx.sh installs it)');
const describeNginx = NGINX ? describe : describe.skip;

describeNginx("the docs' nginx example", () => {
  let server: TestServer;
  let dir: string;
  let nginx: ChildProcess;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-nginx-'));
    server = await startServer(sqlite, { adminToken: 'nginx-test-admin', trustedProxies: ['127.0.0.1'] });
    port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), docsConfig(dir, port, server.port));
    const check = spawnSync(NGINX!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t: ${check.stderr}`);
    nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off; master_process off;'], { stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      if (await rawGet(port, '/').then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  }, 30_000);

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('blocks the admin paths, in every spelling, on the public side', async () => {
    for (const path of ['/metrics', '/v1/stats', '/v1/traffic', '/v1/traffic/stream', '/v1/sessions/x/reports', '/v1/traffic/sessions/x', '/watch', '/inspect', '/v1/./stats', '/v1//stats', '/v1/%73tats', '//v1/stats', '/v1/rooms/../stats', '/v1\\stats', '/metrics?x=1']) {
      expect([path, await rawGet(port, path)]).toEqual([path, 404]);
    }
  });

  it('lets clients through and logs routes, never a room token', async () => {
    const via = `http://127.0.0.1:${port}/v1`;
    expect((await fetch(`${via}/registration`, { method: 'POST' })).status).toBe(200);
    // (Hawk through a proxy is hawk-deployment.test.ts's; the room is made directly.)
    const owner = await registerHawkSession(server.serverUrl);
    const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'n', roomOwner: 'o' });
    const guest = await joinRoom({ serverUrl: via, roomToken, displayName: 'g' });
    expect((await post(`${via}/rooms/${roomToken}`, { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 }, { basic: guest.sessionToken })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 100));
    const log = readFileSync(join(dir, 'access.log'), 'utf8');
    expect(log).toContain('"POST /v1/rooms/:token" 204');
    expect(log).toContain('"GET other" 404');
    for (const secret of [roomToken, guest.sessionToken, guest.roomConnectionId]) expect(log).not.toContain(secret);
  });
});
