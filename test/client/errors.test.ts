// Item 5 of issue 20 against a real node:http room server: errors a union on `kind`, flush() counting what was
// delivered and dropped, `idle` when the queue drains, answers from outside the API stopping reporting once,
// and unknown options refused in plain JS too.
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { createRoomSession, type RoomSessionError } from '../../src/index';
import { joinRoom } from '../../src/rooms';

let server: RoomServer;
afterEach(() => server?.close());

const basic = (s: RoomServer) => ({ roomToken: s.roomToken, serverUrl: s.serverUrl, auth: { type: 'basic' as const, sessionToken: s.sessionToken }, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });

it('unknown options are a TypeError naming the option, as a plain-JS caller would pass them', () => {
  const o = { roomToken: 'r', serverUrl: 'http://127.0.0.1:9/v1', auth: { type: 'basic', sessionToken: 'tok' } };
  expect(() => createRoomSession({ ...o, leaveOnPagehide: true } as never)).toThrow(/unknown option "leaveOnPagehide"/);
  expect(() => createRoomSession({ ...o, join: { displayname: 'x' } } as never)).toThrow(/join: unknown option "displayname"/);
  expect(() => createRoomSession({ ...o, signal: {} } as never)).toThrow(/signal must be an AbortSignal/);
  expect(() => createRoomSession({ roomToken: 'r', serverUrl: 'http://127.0.0.1:9/v1' } as never)).toThrow(/auth must be .*\(or give join/);
});

it('flush() says how many were delivered and dropped; idle fires when the queue drains', async () => {
  // The second report is refused (400): dropped, the others delivered.
  server = await startRoomServer({ faults: [{ when: (r) => r.index === 1, fault: { status: 400, errno: 107 } }] });
  const s = createRoomSession(basic(server));
  const idle: unknown[] = [];
  const errors: RoomSessionError[] = [];
  s.on('idle', (i) => idle.push(i));
  s.on('error', (e) => errors.push(e));
  s.send('Session.connectionCreated');
  s.send('Publisher.streamCreated');
  s.send('Session.connectionCreated');
  expect(await s.flush()).toEqual({ delivered: 2, dropped: 1 });
  await new Promise((r) => setTimeout(r, 10));
  expect(idle).toEqual([{ type: 'idle', delivered: 2, dropped: 1 }]);
  // The union narrows on kind: a dropped request always names the request, its body and attempts.
  const e = errors[0];
  if (e.kind !== 'dropped') throw new Error(`expected a dropped error, got ${e.kind}`);
  expect([e.request, e.status, e.errno, e.attempts]).toEqual(['status', 400, 107, 1]);
  expect(e.body).toMatchObject({ event: 'Publisher.streamCreated' });
  s.send('Session.connectionDestroyed');
  expect(await s.flush()).toEqual({ delivered: 1, dropped: 0 });
  await new Promise((r) => setTimeout(r, 10));
  expect(idle).toHaveLength(2);
  s.stop();
});

it.each([
  ['404 errno 999 (a path outside the API)', (s: RoomServer) => `http://127.0.0.1:${s.port}/v2`, 404],
  ['a web page (200 text/html)', (s: RoomServer) => s.serverUrl, 200],
])('%s stops reporting once, naming serverUrl and the /v1 prefix', async (_name, url, status) => {
  server = await startRoomServer();
  // A static host's fallback answers its index.html: a fetch wrapper passes the request to the server and
  // answers with such a page instead.
  const fetchFn =
    status === 200
      ? async (input: string, init: RequestInit) => {
          const res = await fetch(input, init);
          await res.text();
          return new Response('<!doctype html><title>app</title>', { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
        }
      : undefined;
  const s = createRoomSession({ ...basic(server), serverUrl: url(server), ...(fetchFn ? { fetch: fetchFn } : {}) });
  const errors: RoomSessionError[] = [];
  s.on('error', (e) => errors.push(e));
  for (const t of ['Session.connectionCreated', 'Publisher.streamCreated', 'Session.connectionCreated'] as const) s.send(t);
  expect(await s.flush()).toEqual({ delivered: 0, dropped: 3 });
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ kind: 'stopped', reason: 'not-the-api', status, dropped: 3 });
  expect(errors[0].message).toContain(`serverUrl (${url(server)})`);
  expect(errors[0].message).toContain('/v1 prefix');
  expect(errors[0].message).not.toContain(server.roomToken);
  expect(server.received).toHaveLength(1);
  s.stop();
});

it('a joinRoom refused by the server names the path used, never the room token', async () => {
  server = await startRoomServer();
  const err = await joinRoom({ serverUrl: `http://127.0.0.1:${server.port}/api`, roomToken: server.roomToken, displayName: 'x' }).catch((e) => e);
  expect(err).toMatchObject({ name: 'RoomsApiError', status: 404, errno: 999, notTheApi: true });
  expect(err.message).toMatch(/^POST \/api\/rooms\/:roomToken: HTTP 404 errno 999/);
  expect(err.message).toContain(`serverUrl (http://127.0.0.1:${server.port}/api)`);
});
