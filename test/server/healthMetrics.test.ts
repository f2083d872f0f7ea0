// Operating the server (server spec section 8): /health and /ready for load balancers, and /metrics an SRE can
// alert on: 200 during a store outage with loop_room_store_up, request latency, build info, process metrics,
// and promtool-clean on a real scrape.
import { SQLITE_MIGRATIONS } from '../../src/server/store/sqlite/migrations';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { registerHawkSession } from '../../src/index';
import { readiness } from '../../src/server/health';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { freshSqlite } from '../support/stores';
import { raw, startServer, type TestServer } from './helpers';
import { findTool, itWith } from '../support/tools';

const promtool = findTool('promtool');

let sqlite: Awaited<ReturnType<typeof freshSqlite>>['sqlite'];
let path: string;
let server: TestServer;
beforeAll(async () => {
  const fresh = await freshSqlite();
  ({ sqlite, path } = fresh);
  server = await startServer(async () => fresh, { adminToken: 'ops-admin', retryAfterSeconds: 3 });
});
afterAll(() => server.stop());

const ADMIN = { Authorization: 'Bearer ops-admin' };

/** A request with exactly these headers (fetch always sends a Host of its URL's). */
function rawHttp(port: number, lines: string[]): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('end', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d+)/.exec(data)?.[1]), text: data.slice(data.indexOf('\r\n\r\n') + 4) }));
    socket.on('error', reject);
  });
}

function withHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/health and /ready', () => {
  it('answer small bodies without auth, for any Host or none', async () => {
    const health = await raw(`${server.origin}/health`);
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await raw(`${server.origin}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
    expect(ready.text.length).toBeLessThan(64);
    for (const path of ['/health', '/ready']) {
      expect(await withHost(server.port, path, 'rooms.example.com')).toBe(200);
      expect(await withHost(server.port, path, 'evil.example:81')).toBe(200);
      // HAProxy's default check: HTTP/1.0, no Host at all.
      expect((await rawHttp(server.port, [`GET ${path} HTTP/1.0`])).status).toBe(200);
      expect((await rawHttp(server.port, [`OPTIONS ${path} HTTP/1.0`])).status).toBe(405);
      expect((await rawHttp(server.port, [`HEAD ${path} HTTP/1.1`, 'Host: x'])).status).toBe(200);
      expect((await raw(`${server.origin}${path}`, { method: 'POST' })).status).toBe(405);
    }
  });

  it('/ready is 503 with Retry-After while the store is down, /health stays 200; both recover', async () => {
    await sqlite.close();
    try {
      const ready = await raw(`${server.origin}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.json()).toEqual({ status: 'unavailable', reason: 'store unavailable' });
      expect(ready.headers.get('Retry-After')).toBe('3');
      expect((await raw(`${server.origin}/health`)).status).toBe(200);
    } finally {
      await sqlite.open();
    }
    expect((await raw(`${server.origin}/ready`)).status).toBe(200);
  });

  it('/ready is 503 once the schema is not the one this process migrated to', async () => {
    // Another connection, as a newer server process would be.
    const db = new (loadBetterSqlite3())(path);
    const table = 'schema_migrations';
    const before = await sqlite.schemaVersion();
    db.exec(`INSERT INTO ${table} (version, name, applied_at) VALUES (${before + 1}, 'from a newer server', 0)`);
    try {
      expect(await sqlite.schemaVersion()).toBe(before + 1);
      const ready = await raw(`${server.origin}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.json().reason).toBe('schema changed');
    } finally {
      db.exec(`DELETE FROM ${table} WHERE version = ${before + 1}`);
      db.close();
    }
    expect((await raw(`${server.origin}/ready`)).status).toBe(200);
  });

  it('a draining process is not ready', async () => {
    const store = { schemaVersion: async () => 3 } as never;
    expect(await readiness({ store, schemaVersion: 3, draining: () => true })).toEqual({ ready: false, reason: 'shutting down' });
    expect(await readiness({ store, schemaVersion: 3, draining: () => false })).toEqual({ ready: true });
    const hung = { schemaVersion: () => new Promise(() => {}) } as never;
    expect(await readiness({ store: hung, schemaVersion: 3, draining: () => false, timeoutMs: 50 })).toEqual({ ready: false, reason: 'store unavailable' });
  });
});

describe('/metrics', () => {
  const scrape = async () => {
    const a = await raw(`${server.origin}/metrics`, { headers: ADMIN });
    return { status: a.status, text: a.text };
  };
  const value = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('answers 200 during a store outage, with loop_room_store_up 0, and keeps the stored figures', async () => {
    await registerHawkSession(server.serverUrl);
    const up = await scrape();
    expect(up.status).toBe(200);
    expect(value(up.text, 'loop_room_store_up')).toBe(1);
    const sessionsLine = up.text.split('\n').find((l) => l.startsWith('loop_room_sessions{'));
    expect(sessionsLine).toBeDefined();
    await sqlite.close();
    try {
      const down = await scrape();
      expect(down.status).toBe(200);
      expect(value(down.text, 'loop_room_store_up')).toBe(0);
      // Stored figures as last read: nothing vanishes from Prometheus's view during the outage.
      expect(down.text).toContain(sessionsLine);
    } finally {
      await sqlite.open();
    }
    expect(value((await scrape()).text, 'loop_room_store_up')).toBe(1);
  });

  it('has the request latency histogram by action, build info, and the process and Node metrics', async () => {
    expect((await raw(`${server.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
    const { text } = await scrape();
    expect(value(text, 'loop_room_request_duration_seconds_count{action="registration"}')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^loop_room_request_duration_seconds_bucket\{le="0\.005",action="registration"\} \d+$/m);
    expect(text).toMatch(new RegExp(`^loop_room_build_info\\{version="[^"]+",schema="${Math.max(...SQLITE_MIGRATIONS.map((m) => m.version))}"\\} 1$`, 'm'));
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^${name} `, 'm'));
    }
  });

  itWith(promtool)('is clean for promtool check metrics (a real scrape)', async () => {
    expect((await raw(`${server.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
    const { text } = await scrape();
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      const child = execFile(promtool!, ['check', 'metrics'], (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
      child.stdin!.end(text);
    });
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });
});
