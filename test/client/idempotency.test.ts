// Item 1 of issue 20, the client side: every request carries an Idempotency-Key that stays the same across
// its retries and differs between requests. Proven through a proxy holding every third answer past the
// client's timeout, in front of a real node:http room server that records what arrived.
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { startHoldingProxy, type HoldingProxy } from '../support/holdingProxy';
import { createRoomSession } from '../../src/service/roomSession';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';

let server: RoomServer;
let proxy: HoldingProxy;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
});

const TIMEOUT_MS = 150;

it.each(['basic', 'hawk'] as const)('%s: a report whose answer came too late is retried with the same key; each report has its own', async (kind) => {
  server = await startRoomServer();
  proxy = await startHoldingProxy(server.port, { hold: (i) => i % 3 === 2, holdMs: TIMEOUT_MS * 3 });
  const session = createRoomSession({
    roomToken: server.roomToken,
    serverUrl: proxy.url('/v1'),
    auth: kind === 'basic' ? { type: 'basic', sessionToken: server.sessionToken } : { type: 'hawk', credentials: server.hawk },
    timeoutMs: TIMEOUT_MS,
    retry: { attempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
  });
  const errors: unknown[] = [];
  session.on('error', (e) => errors.push(e));
  for (const row of WORKED_EXAMPLE) session.send(row.event);
  expect(await session.flush()).toEqual({ delivered: WORKED_EXAMPLE.length, dropped: 0 });
  expect(errors).toEqual([]);

  // The room server got some reports twice (the held answers' retries): that is what the key is for.
  const statuses = server.received.filter((r) => (r.body as { action?: string })?.action === 'status');
  expect(statuses.length).toBeGreaterThan(WORKED_EXAMPLE.length);
  // Compared by arrival: a retry repeats the previous request's key, a new report has a new one.
  const keys = statuses.map((r) => r.idempotencyKey!);
  expect(keys.every((k) => /^"[A-Za-z0-9_-]{16}\.\d+"$/.test(k))).toBe(true);
  const distinct = [...new Set(keys)];
  expect(distinct).toHaveLength(WORKED_EXAMPLE.length);
  // Retries are consecutive (one request in flight) and carry the same body.
  for (let i = 1; i < statuses.length; i++) {
    if (keys[i] === keys[i - 1]) expect(statuses[i].rawBody).toBe(statuses[i - 1].rawBody);
  }
  expect(distinct.length).toBeLessThan(keys.length);
  // In order: the keys' sequence numbers rise with the events.
  const seq = distinct.map((k) => Number(k.slice(1, -1).split('.')[1]));
  expect(seq).toEqual([...seq].sort((a, b) => a - b));
  // The proxy held the answers that were retried.
  expect(proxy.forwarded.filter((f) => f.held).length).toBeGreaterThan(0);
  await session.leave();
  session.stop();
});

it('two sessions never share a key; the leave and refreshes carry keys too', async () => {
  server = await startRoomServer();
  const make = () =>
    createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: server.sessionToken }, refreshEveryMs: 20, retry: { baseDelayMs: 1, maxDelayMs: 5 } });
  const a = make();
  const b = make();
  a.send('Session.connectionCreated');
  b.send('Session.connectionCreated');
  await server.waitFor((s) => s.received.filter((r) => (r.body as { action?: string })?.action === 'refresh').length >= 2);
  await a.leave();
  await b.leave();
  a.stop();
  b.stop();
  const keys = server.received.map((r) => r.idempotencyKey);
  expect(keys.every((k) => typeof k === 'string')).toBe(true);
  expect(new Set(keys).size).toBe(keys.length);
  const prefixes = new Set(keys.map((k) => k!.slice(1).split('.')[0]));
  expect(prefixes.size).toBe(2);
});

it('idempotencyKey: false sends no key (for a cross-origin server whose CORS answer does not allow it)', async () => {
  server = await startRoomServer();
  const s = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: server.sessionToken }, idempotencyKey: false });
  s.send('Session.connectionCreated');
  expect(await s.flush()).toEqual({ delivered: 1, dropped: 0 });
  s.stop();
  expect(server.received.map((r) => r.idempotencyKey)).toEqual([undefined]);
});

it("simulate-traffic's doubled-report fault sends both copies without a key, as a client of the time would", async () => {
  const { faultyFetch } = await import('../../src/cli/simulateTraffic');
  server = await startRoomServer();
  const s = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: server.sessionToken }, fetch: faultyFetch({ kind: 'doubled-report', at: 1 }) });
  s.send('Session.connectionCreated');
  s.send('Publisher.streamCreated');
  expect(await s.flush()).toEqual({ delivered: 2, dropped: 0 });
  s.stop();
  expect(server.received.map((r) => r.idempotencyKey === undefined)).toEqual([false, true, true]);
  expect(server.received[1].rawBody).toBe(server.received[2].rawBody);
});
