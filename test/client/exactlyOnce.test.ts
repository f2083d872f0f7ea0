// Issue 20 item 1, end to end: a proxy holds every third answer past the client's timeout, so the client
// retries reports the server already stored. With the Idempotency-Key each report is stored exactly once, on
// SQLite, and on PostgreSQL with two server instances taking the requests in turn (a retry reaches the other).
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { createRoomSession } from '../../src/service/roomSession';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { createRoom, registerHawkSession } from '../../src/rooms';
import { startHoldingProxy, type HoldingProxy } from '../support/holdingProxy';
import { freshSqlite, STORES, type FreshStore } from '../support/stores';
import { freshPostgres } from '../support/postgres';
import type { Store } from '../../src/server/store';

const TIMEOUT_MS = 300;

async function storedReports(store: Store) {
  const out = [];
  for await (const r of store.exportReports({})) out.push(r);
  return out;
}

describe.each(STORES)('exactly once through a slow network (%s)', (name) => {
  const stores: FreshStore[] = [];
  const servers: ListeningRoomServer[] = [];
  let proxy: HoldingProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    for (const s of servers.splice(0)) await s.close();
    for (const f of stores.splice(0)) await f.cleanup();
  });

  it('every accepted event is stored once, in order and conformant, although its report was sent more than once', async () => {
    if (name === 'sqlite') stores.push(await freshSqlite());
    else {
      const first = await freshPostgres();
      const { createPostgresStore } = await import('../../src/server/store/postgres/store');
      const second = createPostgresStore(first.url);
      await second.open();
      stores.push(first, { store: second, cleanup: () => second.close() });
    }
    for (const f of stores) servers.push(await listenRoomServer({ store: f.store, limits: 'off' }));
    const direct = servers[0].serverUrl;
    const hawk = await registerHawkSession(direct);
    const { roomToken } = await createRoom({ serverUrl: direct, credentials: hawk.credentials, roomName: 'slow', roomOwner: 'test', maxSize: 3 });
    proxy = await startHoldingProxy(
      servers.map((s) => s.port),
      { hold: (i, req) => req.method === 'POST' && i % 3 === 2, holdMs: TIMEOUT_MS * 2 },
    );
    const session = createRoomSession({
      roomToken,
      serverUrl: proxy.url('/v1'),
      join: { displayName: 'guest' },
      timeoutMs: TIMEOUT_MS,
      retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
    });
    for (const row of WORKED_EXAMPLE) session.send(row.event);
    expect(await session.flush()).toEqual({ delivered: WORKED_EXAMPLE.length, dropped: 0 });
    await session.leave();

    const statuses = proxy.forwarded.filter((f) => f.method === 'POST' && f.path === `/v1/rooms/${roomToken}` && f.idempotencyKey !== undefined);
    const keys = statuses.map((s) => s.idempotencyKey);
    // Reports were sent again (that is the point) ...
    expect(proxy.forwarded.some((f) => f.held)).toBe(true);
    expect(keys.length).toBeGreaterThan(new Set(keys).size);
    // ... and stored once each: the worked example's reports, seq 1..N, every one conformant.
    const stored = await storedReports(stores[0].store);
    expect(stored.map((r) => r.fields.event)).toEqual(WORKED_EXAMPLE.map((row) => row.event));
    expect(stored.map((r) => r.seq)).toEqual(WORKED_EXAMPLE.map((_, i) => i + 1));
    expect(stored.every((r) => r.verdict === 'conformant')).toBe(true);
    if (name === 'postgres') {
      // Some report reached both instances (the proxy sends request i to instance i % 2): the repeat was
      // recognised across them, through the database.
      const instances = new Map<string, Set<number>>();
      proxy.forwarded.forEach((f, i) => f.idempotencyKey && instances.set(f.idempotencyKey, (instances.get(f.idempotencyKey) ?? new Set()).add(i % 2)));
      expect([...instances.values()].some((set) => set.size === 2)).toBe(true);
    }
  }, 120_000);
});
