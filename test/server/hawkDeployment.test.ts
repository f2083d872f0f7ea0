// Hawk as deployed: (1) replay protection shared by every server on one database (two server instances on
// one SQLite file or one PostgreSQL database, as several `serve` processes would be), and (2) a server behind
// a TLS-terminating reverse proxy (a real node:http proxy in front), with and without publicUrl.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { createRoom, joinRoom, registerHawkSession, type HawkSession } from '../../src/index';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import type { Store } from '../../src/server/store';
import { HawkSigner } from '../../src/transport/hawk';
import { freshPostgres, pgAvailable } from '../support/postgres';
import { freshSqlite, STORES } from '../support/stores';
import { JSON_TYPE, countReports, expectError, httpPost, startServer, type RawAnswer } from './helpers';

const STATUS = JSON.stringify({ action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 });

/** Two opened stores on one database, and how many nonce claims it holds. */
interface SharedDb {
  a: Store;
  b: Store;
  nonceRows(): Promise<number>;
  cleanup(): Promise<void>;
}

const SHARED: Array<[string, () => Promise<SharedDb>]> = [
  [
    'sqlite',
    async () => {
      const first = await freshSqlite();
      const b = new SqliteStore({ path: first.path });
      await b.open();
      return {
        a: first.store,
        b,
        nonceRows: async () => {
          const db = new BetterSqlite3(first.path, { readonly: true });
          try {
            return Number((db.prepare('SELECT COUNT(*) AS n FROM hawk_nonces').get() as { n: number }).n);
          } finally {
            db.close();
          }
        },
        cleanup: async () => {
          await b.close();
          await first.cleanup();
        },
      };
    },
  ],
  ...(pgAvailable()
    ? [
        [
          'postgres',
          async () => {
            const first = await freshPostgres();
            const { createPostgresStore } = await import('../../src/server/store/postgres/store');
            const b = createPostgresStore(first.url);
            await b.open();
            return {
              a: first.store,
              b,
              nonceRows: async () => {
                const c = new Client({ connectionString: first.url });
                await c.connect();
                try {
                  return Number((await c.query('SELECT COUNT(*)::int AS n FROM hawk_nonces')).rows[0].n);
                } finally {
                  await c.end();
                }
              },
              cleanup: async () => {
                await b.close();
                await first.cleanup();
              },
            };
          },
        ] as [string, () => Promise<SharedDb>],
      ]
    : []),
];

const answer = (r: { status: number; headers: Record<string, unknown>; text: string }): RawAnswer => ({
  status: r.status,
  headers: new Headers(Object.entries(r.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []))),
  text: r.text,
  json: () => JSON.parse(r.text),
});

describe.each(SHARED)('Hawk replays across servers on one database (%s)', (_name, shared) => {
  let db: SharedDb;
  let one: ListeningRoomServer;
  let two: ListeningRoomServer;
  let owner: HawkSession;
  let room: string;
  beforeAll(async () => {
    db = await shared();
    one = await listenRoomServer({ store: db.a });
    two = await listenRoomServer({ store: db.b });
    owner = await registerHawkSession(one.serverUrl);
    room = (await createRoom({ serverUrl: one.serverUrl, credentials: owner.credentials, roomName: 'replay', roomOwner: 'o', maxSize: 3 })).roomToken;
    await joinRoom({ serverUrl: one.serverUrl, roomToken: room, displayName: 'o', auth: { type: 'hawk', credentials: owner.credentials } });
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await db?.cleanup();
  });

  // Signed for the first server's URL; sent to either with that Host, as a load balancer passes it on.
  const signedUrl = () => `${one.serverUrl}/rooms/${room}`;
  const sign = (body: string) => new HawkSigner(owner.credentials).header({ method: 'POST', url: signedUrl(), contentType: JSON_TYPE, body });
  const send = async (to: ListeningRoomServer, authorization: string, body: string) =>
    answer(await httpPost(undefined, `${to.serverUrl}/rooms/${room}`, { Host: new URL(one.origin).host, 'Content-Type': JSON_TYPE, Authorization: authorization }, body));
  const reports = () => countReports({ fresh: { store: db.a, cleanup: async () => {} } });

  it('a status report replayed to the other server is refused (401 errno 110) and not stored twice', async () => {
    const before = await reports();
    const header = await sign(STATUS);
    expect((await send(one, header, STATUS)).status).toBe(204);
    expectError(await send(two, header, STATUS), 401, 110);
    // The other way round, and a fresh signature is still welcome at the second server.
    const again = await sign(STATUS);
    expect((await send(two, again, STATUS)).status).toBe(204);
    expectError(await send(one, again, STATUS), 401, 110);
    expect(await reports()).toBe(before + 2);
  });

  it("a status report's nonce is claimed in the commit that stores it (one commit, not two)", async () => {
    db.a.takeCommitTimes?.();
    const before = await reports();
    const header = await sign(STATUS);
    expect((await send(one, header, STATUS)).status).toBe(204);
    expect(db.a.takeCommitTimes?.()).toHaveLength(1);
    expect(await reports()).toBe(before + 1);
    expectError(await send(two, header, STATUS), 401, 110);
  });

  it('a refused request still claims its nonce: replayed elsewhere, it is 401', async () => {
    const body = JSON.stringify({ action: 'status', event: 'nonsense' });
    const header = await sign(body);
    expect((await send(one, header, body)).status).toBe(400);
    expectError(await send(two, header, body), 401, 110);
  });

  it('the same request sent to both servers at once passes exactly once', async () => {
    const body = JSON.stringify({ action: 'refresh' });
    for (let i = 0; i < 8; i++) {
      const header = await sign(body);
      const answers = await Promise.all([send(one, header, body), send(two, header, body)]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    }
  });

  it('claims are atomic across stores, and old ones are deleted', async () => {
    const windowMs = 120_000;
    const t0 = 1_000_000;
    const claim = { idHmac: 'h'.repeat(64), nonce: `n-${Math.random()}`, ts: '1000' };
    expect(await db.a.claimHawkNonce!(claim, t0, windowMs)).toBe(true);
    expect(await db.b.claimHawkNonce!(claim, t0 + 1, windowMs)).toBe(false);
    expect(await db.a.claimHawkNonce!({ ...claim, ts: '1001' }, t0 + 2, windowMs)).toBe(true);
    expect(await db.b.claimHawkNonce!({ ...claim, idHmac: 'k'.repeat(64) }, t0 + 3, windowMs)).toBe(true);
    // Nonces are the client's text: quotes and backslashes are data, not SQL.
    const odd = { ...claim, nonce: `a'b\\c"; DROP TABLE hawk_nonces; --`, ts: "1'" };
    expect(await db.a.claimHawkNonce!(odd, t0 + 4, windowMs)).toBe(true);
    expect(await db.b.claimHawkNonce!(odd, t0 + 5, windowMs)).toBe(false);
    // Everything claimed so far (these and the requests above, at real times) is older than the window then.
    const later = Date.now() + windowMs + 10_000;
    expect(await db.a.claimHawkNonce!({ ...claim, nonce: 'later' }, later, windowMs)).toBe(true);
    expect(await db.nonceRows()).toBe(1);
  });
});

// ---- behind a TLS-terminating reverse proxy --------------------------------------------------------------

/** A plain-HTTP reverse proxy (as nginx behind TLS termination): forwards to `target`, Host set to `host`. */
async function startProxy(target: string, host: string): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server: Server = createServer((req, res) => {
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host, 'x-forwarded-proto': 'https' } },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe.each(STORES)('Hawk behind a TLS-terminating proxy (%s)', (_name, factory) => {
  // The client signs for the public URL (https, port 443 implied); the proxy speaks plain HTTP to the server.
  const PUBLIC = 'https://Rooms.Example.test';

  async function attempt(options: { publicUrl?: string; proxyHost: string; signFor: string }): Promise<{ status: number; errno?: number; serverAuthorization?: unknown }> {
    const server = await startServer(factory, options.publicUrl ? { publicUrl: options.publicUrl } : {});
    const proxy = await startProxy(server.origin, options.proxyHost);
    try {
      const owner = await registerHawkSession(server.serverUrl);
      const body = JSON.stringify({ roomName: 'via proxy', roomOwner: 'o', maxSize: 3 });
      const path = '/v1/rooms';
      const authorization = await new HawkSigner(owner.credentials).header({ method: 'POST', url: `${options.signFor}${path}`, contentType: JSON_TYPE, body });
      const r = await httpPost(undefined, `${proxy.url}${path}`, { 'Content-Type': JSON_TYPE, Authorization: authorization }, body);
      return { status: r.status, errno: r.status === 201 ? undefined : JSON.parse(r.text).errno, serverAuthorization: r.headers['server-authorization'] };
    } finally {
      await proxy.close();
      await server.stop();
    }
  }

  it('with publicUrl: a request signed for https://host (port 443) passes through the proxy', async () => {
    const ok = await attempt({ publicUrl: PUBLIC, proxyHost: 'rooms.example.test', signFor: 'https://rooms.example.test' });
    expect(ok.status).toBe(201);
    expect(ok.serverAuthorization).toMatch(/^Hawk mac=/);
    // Whatever Host the proxy sends (here its upstream's address): publicUrl decides.
    expect((await attempt({ publicUrl: PUBLIC, proxyHost: '127.0.0.1:1', signFor: 'https://rooms.example.test' })).status).toBe(201);
    // A client that signed for another port or host is still refused.
    expect(await attempt({ publicUrl: PUBLIC, proxyHost: 'rooms.example.test', signFor: 'https://rooms.example.test:8443' })).toMatchObject({ status: 401, errno: 110 });
    expect(await attempt({ publicUrl: PUBLIC, proxyHost: 'rooms.example.test', signFor: 'https://other.example.test' })).toMatchObject({ status: 401, errno: 110 });
  });

  it('without publicUrl the same request is refused (401 errno 110): the Host has no port, so 80 is assumed', async () => {
    expect(await attempt({ proxyHost: 'rooms.example.test', signFor: 'https://rooms.example.test' })).toMatchObject({ status: 401, errno: 110 });
  });

  it('without publicUrl, a Host without a port means 80, whatever its case', async () => {
    expect((await attempt({ proxyHost: 'Rooms.Example.TEST', signFor: 'http://rooms.example.test' })).status).toBe(201);
    expect((await attempt({ proxyHost: 'rooms.example.test:8080', signFor: 'http://rooms.example.test:8080' })).status).toBe(201);
  });

  it('publicUrl must be an http(s) origin', async () => {
    const fresh = await factory();
    try {
      await expect(listenRoomServer({ store: fresh.store, publicUrl: 'https://rooms.example.test/api' })).rejects.toThrow(/origin/);
      await expect(listenRoomServer({ store: fresh.store, publicUrl: 'ftp://rooms.example.test' })).rejects.toThrow(/http/);
    } finally {
      await fresh.cleanup();
    }
  });
});
