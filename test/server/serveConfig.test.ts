// How `serve` is configured and what it writes (server spec section 8): every flag as LOOP_ROOM_STATE_<FLAG>
// (a flag wins), --log-format json (one JSON object per stderr line, the access log among them, no scrapes),
// repeated failures logged rate-limited, and a port in use found before any database file is made.
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { UsageError, parseArgs } from '../../src/cli/args';
import { withEnvironment } from '../../src/cli/config';
import { createOperatorLog, rateLimited } from '../../src/server/log';
import { PG_URL_PARAMETERS } from '../../src/server/store/postgres/connection';
import { ThreadedSqliteStore } from '../../src/server/store/sqlite/threaded';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { post, startServer } from './helpers';
import { CLI, runCli, serveCli, spawnServe, useCliRun, type ServeChild } from './process';

const { temp, children } = useCliRun('loop-room-config-');

async function stop(s: ServeChild): Promise<void> {
  s.child.kill('SIGTERM');
  expect((await s.exited).code).toBe(0);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('configuration from the environment', () => {
  const known = { port: 'value', db: 'value', store: 'value', strict: 'switch', 'admin-token': 'value' } as const;
  const parse = (argv: string[], env: Record<string, string>) => withEnvironment(parseArgs(argv, known), known, env).flags;

  it('takes LOOP_ROOM_STATE_<FLAG> for every flag; a flag on the command line wins', () => {
    expect(parse([], { LOOP_ROOM_STATE_PORT: '8080', LOOP_ROOM_STATE_ADMIN_TOKEN: 't', LOOP_ROOM_STATE_STRICT: 'true' })).toEqual({ port: '8080', 'admin-token': 't', strict: true });
    expect(parse(['--port', '9'], { LOOP_ROOM_STATE_PORT: '8080' })).toEqual({ port: '9' });
    expect(parse([], { LOOP_ROOM_STATE_STRICT: '0' })).toEqual({});
    expect(() => parse([], { LOOP_ROOM_STATE_STRICT: 'maybe' })).toThrow(UsageError);
    // Other variables of the prefix are not flags of this command: left alone.
    expect(parse([], { LOOP_ROOM_STATE_SECRET: 'x' })).toEqual({});
  });

  it('LOOP_ROOM_STATE_STORE takes a file path or a URL; --db or --store on the command line sets it aside', () => {
    expect(parse([], { LOOP_ROOM_STATE_STORE: '/var/lib/rooms.db' })).toEqual({ store: 'sqlite:/var/lib/rooms.db' });
    expect(parse([], { LOOP_ROOM_STATE_STORE: 'postgres://u@h/db' })).toEqual({ store: 'postgres://u@h/db' });
    expect(parse(['--db', 'x.db'], { LOOP_ROOM_STATE_STORE: 'postgres://u@h/db' })).toEqual({ db: 'x.db' });
    expect(() => parse([], { LOOP_ROOM_STATE_STORE: 'a.db', LOOP_ROOM_STATE_DB: 'b.db' })).toThrow(/LOOP_ROOM_STATE_DB and LOOP_ROOM_STATE_STORE/);
    // Both on the command line: a usage error (exit 2), as every other wrong combination of flags.
    expect(() => parse(['--db', 'x.db', '--store', 'sqlite:y.db'], {})).toThrow(UsageError);
  });

  it('a LOOP_ROOM_STATE_ variable that is no setting is refused with the one it may mean (not left at the default)', () => {
    expect(() => parse([], { LOOP_ROOM_STATE_PROT: '8080' })).toThrow(/LOOP_ROOM_STATE_PROT is not a setting of this command; did you mean LOOP_ROOM_STATE_PORT\?/);
    expect(() => parse([], { LOOP_ROOM_STATE_WHATEVER: '1' })).toThrow(UsageError);
    // The HMAC key and npm start's switch are read elsewhere; other prefixes are not ours.
    expect(parse([], { LOOP_ROOM_STATE_SECRET: 's', LOOP_ROOM_STATE_NO_BUILD: '1', LOOP_ROOM_PORT: '1' })).toEqual({});
  });

  it('serve listens on LOOP_ROOM_STATE_PORT with the store of LOOP_ROOM_STATE_STORE', async () => {
    const port = await freePort();
    const db = join(temp, 'env.db');
    const s = await spawnServe(process.execPath, [CLI, 'serve'], { LOOP_ROOM_STATE_PORT: String(port), LOOP_ROOM_STATE_STORE: db, LOOP_ROOM_STATE_ACCESS_LOG: '1' });
    children.push(s);
    expect(s.serverUrl).toBe(`http://127.0.0.1:${port}/v1`);
    expect(s.stdout()).toContain(`store: SQLite ${db}`);
    await stop(s);
    expect(existsSync(db)).toBe(true);
    // The flag wins.
    const t = await spawnServe(process.execPath, [CLI, 'serve', '--port', '0', '--db', join(temp, 'flag.db')], { LOOP_ROOM_STATE_PORT: String(port), LOOP_ROOM_STATE_STORE: db });
    children.push(t);
    expect(t.serverUrl).not.toBe(`http://127.0.0.1:${port}/v1`);
    expect(t.stdout()).toContain('flag.db');
    await stop(t);
  });

  it("a join answers loop-server's apiKey and sessionId when serve is given them (LOOP_ROOM_STATE_MEDIA_API_KEY too), not otherwise", async () => {
    const joinAnswer = async (s: ServeChild) => {
      const owner = await registerHawkSession(s.serverUrl);
      const room = await createRoom({ serverUrl: s.serverUrl, credentials: owner.credentials, roomName: 'm', roomOwner: 'o' });
      const res = await post(`${s.serverUrl}/rooms/${room.roomToken}`, { action: 'join', displayName: 'g', clientMaxSize: 2 });
      expect(res.status).toBe(200);
      return res.json() as Record<string, unknown>;
    };
    const s = await spawnServe(process.execPath, [CLI, 'serve', '--port', '0', '--db', join(temp, 'media.db'), '--media-session-id', '1_MX4'], { LOOP_ROOM_STATE_MEDIA_API_KEY: '44669102' });
    children.push(s);
    expect(await joinAnswer(s)).toMatchObject({ apiKey: '44669102', sessionId: '1_MX4' });
    await stop(s);
    const plain = await spawnServe(process.execPath, [CLI, 'serve', '--port', '0', '--db', join(temp, 'media.db')]);
    children.push(plain);
    expect(Object.keys(await joinAnswer(plain)).sort()).toEqual(['expires', 'roomConnectionId', 'sessionToken']);
    await stop(plain);
    const lone = await runCli(['serve', '--port', '0', '--db', join(temp, 'media.db'), '--media-session-id', 'x']);
    expect([lone.code, lone.stderr]).toEqual([2, expect.stringContaining('--media-session-id needs --media-api-key')]);
  });
});

describe('logs', () => {
  it('--log-format json: every stderr line one JSON object with time, level, msg; the access log there too, without scrapes', async () => {
    const s = await serveCli(['--port', '0', '--db', join(temp, 'json.db'), '--log-format', 'json', '--access-log']);
    children.push(s);
    expect((await fetch(`${s.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${s.origin}/metrics`)).status).toBe(200);
    s.child.kill('SIGHUP');
    await stop(s);
    const lines = s.stderr().split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of entries) {
      expect(Number.isNaN(Date.parse(String(e.time)))).toBe(false);
      expect(['info', 'warn', 'error']).toContain(e.level);
      expect(typeof e.msg).toBe('string');
    }
    expect(entries.filter((e) => e.msg === 'request').map((e) => [e.route, e.status])).toEqual([['/v1/registration', 200]]);
    expect(entries.some((e) => String(e.msg).includes('migration'))).toBe(true);
    expect(entries.some((e) => e.level === 'warn' && String(e.msg).includes('SIGHUP'))).toBe(true);
    // stdout keeps the startup lines only.
    expect(s.stdout()).not.toMatch(/^\{/m);
  });

  it('text stays the default: plain operator lines on stderr, the access log on stdout without scrapes', async () => {
    const s = await serveCli(['--port', '0', '--db', join(temp, 'text.db'), '--access-log']);
    children.push(s);
    expect((await fetch(`${s.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
    expect((await fetch(`${s.origin}/metrics`)).status).toBe(200);
    await stop(s);
    expect(s.stderr()).toMatch(/^store: applied schema migration 1/m);
    expect(s.stderr()).not.toMatch(/^\{/m);
    const access = s.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { action: string });
    expect(access.map((e) => e.action)).toEqual(['registration']);
  });

  it('repeated failures are rate-limited: a read-only store gives a few lines, not one per failed commit', async () => {
    const lines: string[] = [];
    const log = createOperatorLog('text', { err: (t) => lines.push(t), out: () => {} }, { intervalMs: 60_000 });
    const dir = mkdtempSync(join(temp, 'full-'));
    // The store logs through the operator log, as serve's does (from its writer thread).
    const sqlite = new ThreadedSqliteStore({ path: join(dir, 'full.db'), log: (l) => log.line(l) });
    await sqlite.open();
    const server = await startServer(async () => ({ store: sqlite, cleanup: () => sqlite.close() }), { log: (l) => log.line(l) });
    try {
      const owner = await registerHawkSession(server.serverUrl);
      const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'full', roomOwner: 'o' });
      const g = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'g' });
      await sqlite.pragma('query_only = ON');
      const before = lines.length;
      const body = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
      let refused = 0;
      for (let i = 0; i < 60; i++) if ((await post(`${server.serverUrl}/rooms/${roomToken}`, body, { basic: g.sessionToken })).status === 503) refused++;
      expect(refused).toBe(60);
      const failures = lines.slice(before).filter((l) => /fail/.test(l));
      expect(failures.length).toBeGreaterThanOrEqual(1);
      // Each names the file, and what to check for a read-only one.
      for (const f of failures) expect(f).toContain(join(dir, 'full.db'));
      expect(failures[0]).toMatch(/SQLITE_READONLY: check that this process may write the file/);
      expect(failures.length).toBeLessThanOrEqual(3);
    } finally {
      await sqlite.pragma('query_only = OFF');
      await server.stop();
    }
  });

  it('rateLimited: one line per kind per interval, then the count held back', () => {
    let t = 0;
    const out: string[] = [];
    const line = rateLimited((m) => out.push(m), 1000, () => t);
    for (let i = 0; i < 50; i++) line(`store: write failed (SQLITE_FULL) ${i}`);
    line('something else');
    t = 1500;
    line('store: write failed (SQLITE_FULL) 99');
    expect(out).toEqual(['store: write failed (SQLITE_FULL) 0', 'something else', 'store: write failed (SQLITE_FULL) 99 (49 more like it in the last 2 s not logged)']);
  });
});

describe('SQLite errors', () => {
  it('name the file, and a lock the busy timeout it waited', async () => {
    const missing = join(temp, 'no-such-folder', 'rooms.db');
    const r = await runCli(['serve', '--port', '0', '--db', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`SQLite store ${missing}: Cannot open database because the directory does not exist`);

    const lines: string[] = [];
    const path = join(temp, 'busy.db');
    const store = new ThreadedSqliteStore({ path, busyTimeoutMs: 50, log: (l) => lines.push(l) });
    await store.open();
    const holder = new (loadBetterSqlite3())(path);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      await expect(store.createRoom({ token: 't', name: 'n', owner: 'o', ownerHmac: 'h', maxSize: 2, createdAt: 0, expiresAt: 1 })).rejects.toThrow(`the SQLite store ${path} is unavailable (SQLITE_BUSY, after the busy timeout of 50 ms)`);
      expect(lines.join('\n')).toContain(`store: SQLite ${path}: begin failed (SQLITE_BUSY, after the busy timeout of 50 ms)`);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      await store.close();
    }
  });
});

describe('a port in use', () => {
  let holder: Server;
  afterAll(() => new Promise<void>((r) => holder.close(() => r())));

  it('is found before the store is opened: no database file is made, exit 1 with a message naming --port', async () => {
    holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const { port } = holder.address() as { port: number };
    const db = join(temp, 'never.db');
    const r = await runCli(['serve', '--port', String(port), '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is in use: pass --port`));
    expect(existsSync(db)).toBe(false);
    expect(r.stderr).not.toMatch(/migration/);
    // With --log-format json the last words are a JSON line too.
    const json = await runCli(['serve', '--port', String(port), '--db', db, '--log-format', 'json']);
    expect(json.code).toBe(1);
    expect(json.stderr.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string })).toEqual([
      expect.objectContaining({ level: 'error', msg: expect.stringContaining(`port ${port} on 127.0.0.1 is in use`) }),
    ]);
  });
});

describe('a store URL', () => {
  it('with an option sqlite: does not take is refused, not made part of a new file name', async () => {
    const db = join(temp, 'typo.db');
    const r = await runCli(['serve', '--port', '0', '--store', `sqlite:${db}?read_timout_ms=5`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("takes one option, read_timeout_ms; got 'read_timout_ms'");
    expect(readdirSync(temp).filter((f) => f.startsWith('typo'))).toEqual([]);
  });

  it('sqlite://NAME is refused with the two spellings it may have meant', async () => {
    const r = await runCli(['serve', '--port', '0', '--store', 'sqlite://rooms.db']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('write sqlite:rooms.db for a path relative to the working folder, or sqlite:///rooms.db for /rooms.db');
  });

  it('that is not a URL says so for --store, without echoing its password', async () => {
    const r = await runCli(['serve', '--port', '0', '--store', 'postgres://loop:s3cret-pw@127.0.0.1:99999/rooms']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--store: not a valid PostgreSQL URL');
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw');
  });

  it('with a parameter node-postgres does not know is refused before connecting (a misspelt sslmode would connect without TLS)', async () => {
    // Port 1 on 127.0.0.1: any attempt to connect would fail with ECONNREFUSED instead of these messages.
    const typo = await runCli(['serve', '--port', '0', '--store', 'postgres://loop:s3cret-pw@127.0.0.1:1/rooms?sslmod=verify-full']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain("the store URL has a parameter node-postgres does not know: 'sslmod'");
    expect(typo.stderr + typo.stdout).not.toContain('s3cret-pw');
    // node-postgres's own timeouts would override the server's (a URL's parameters win): ours are named instead.
    const theirs = await runCli(['serve', '--port', '0', '--store', 'postgres://127.0.0.1:1/rooms?statement_timeout=0']);
    expect(theirs.code).toBe(1);
    expect(theirs.stderr).toContain('the store URL sets statement_timeout with statement_timeout_ms (milliseconds)');
    expect(`${typo.stderr}${theirs.stderr}`).not.toMatch(/ECONNREFUSED/);
  });

  it('the parameters it lets through are the ones the installed node-postgres reads', () => {
    // Every name pg-connection-string copies into the config or pg's ConnectionParameters reads with val(): a new
    // one in an upgrade must be listed (or taken over, as the timeouts are), an old one gone must be dropped.
    const source = (file: string) => readFileSync(require.resolve(file), 'utf8');
    const read = new Set([
      ...[...source('pg-connection-string').matchAll(/config\.(\w+)/g)].map((m) => m[1]),
      ...[...source('pg/lib/connection-parameters.js').matchAll(/val\('(\w+)'/g)].map((m) => m[1]),
    ]);
    const taken = new Set(['statement_timeout', 'lock_timeout', 'query_timeout']);
    expect([...read].filter((n) => !taken.has(n)).sort()).toEqual([...PG_URL_PARAMETERS].filter((n) => !['db', 'encoding'].includes(n)).sort());
  });

  it('with an address this machine does not have fails before a database file is made, port 0 too', async () => {
    const db = join(temp, 'noaddr.db');
    const r = await runCli(['serve', '--port', '0', '--host', '192.0.2.1', '--admin-token', 'x'.repeat(32), '--db', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/EADDRNOTAVAIL/);
    expect(existsSync(db)).toBe(false);
  });
});
