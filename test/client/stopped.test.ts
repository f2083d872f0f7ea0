// A session whose reporting stopped, against a real node:http room server on 127.0.0.1: stats() agree with
// the stop where listeners and flush() see it (nothing left in flight), and leave() after the stop sends
// nothing and resolves as docs/client.md says (reason `failed`, the stop's own reason told before by `error`).
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { createRoomSession, type RoomSessionError, type RoomSessionStats } from '../../src/index';

let server: RoomServer;
beforeAll(async () => {
  server = await startRoomServer();
});
afterAll(() => server.close());

const STOPPED = { waiting: 0, inFlight: false, stopped: true, reporting: 'stopped' };

it('a self-joining session whose join fails: stats() say nothing is in flight in the error listener and after flush()', async () => {
  // A join without credentials this server refuses (401) while the first report waits in flight for it.
  const session = createRoomSession({ roomToken: 'not-this-room', serverUrl: server.serverUrl, join: { displayName: 'Bob' } });
  const seen: Array<{ error: RoomSessionError; stats: RoomSessionStats }> = [];
  session.on('error', (error) => seen.push({ error, stats: session.stats() }));
  session.send('Session.connectionCreated');
  session.send('Publisher.streamCreated');
  expect(session.stats()).toMatchObject({ inFlight: true, waiting: 1, reporting: 'joining' });
  expect(await session.flush()).toEqual({ delivered: 0, dropped: 2 });
  expect(session.stats()).toEqual({ ...STOPPED, delivered: 0, dropped: 2 });
  expect(seen).toHaveLength(1);
  expect(seen[0].error).toMatchObject({ kind: 'stopped', reason: 'join-failed', status: 401, dropped: 2 });
  expect(seen[0].stats).toEqual({ ...STOPPED, delivered: 0, dropped: 2 });
  session.stop();
});

it('a 401 stops reporting: stats() agree in the error listener and after flush(); leave() after it sends nothing', async () => {
  const session = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: 'not-the-token' } });
  const seen: Array<{ error: RoomSessionError; stats: RoomSessionStats }> = [];
  session.on('error', (error) => seen.push({ error, stats: session.stats() }));
  session.send('Session.connectionCreated');
  session.send('Publisher.streamCreated');
  expect(await session.flush()).toEqual({ delivered: 0, dropped: 2 });
  expect(session.stats()).toEqual({ ...STOPPED, delivered: 0, dropped: 2 });
  expect(seen.map((s) => s.error)).toEqual([expect.objectContaining({ kind: 'stopped', reason: 'refused', status: 401, dropped: 2 })]);
  expect(seen[0].stats).toEqual({ ...STOPPED, delivered: 0, dropped: 2 });
  // The stop's reason was told once, by `error`; the leave itself was never sent: `failed`, as documented.
  const before = server.received.length;
  expect(await session.leave()).toEqual({
    ok: false,
    error: { type: 'error', kind: 'stopped', reason: 'failed', message: 'reporting has stopped; request not sent', dropped: 1, request: 'leave', body: { action: 'leave' } },
  });
  expect(server.received.length).toBe(before);
  expect(seen).toHaveLength(1);
  session.stop();
});

it('a join cancelled by `signal` is told as docs/client.md says: one error, stopped, join-failed, "cancelled", no status', async () => {
  const controller = new AbortController();
  const session = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, join: { displayName: 'Bob' }, signal: controller.signal });
  const errors: RoomSessionError[] = [];
  session.on('error', (e) => errors.push(e));
  session.send('Session.connectionCreated');
  controller.abort();
  const joined = await session.ready();
  const cancelled = { type: 'error', kind: 'stopped', reason: 'join-failed', message: 'could not join the room: cancelled', dropped: 1 };
  expect(joined).toEqual({ ok: false, error: expect.objectContaining(cancelled) });
  expect(!joined.ok && joined.error.status).toBeUndefined();
  await session.flush();
  expect(errors).toEqual([expect.objectContaining(cancelled)]);
  expect(errors[0].kind === 'stopped' && errors[0].status).toBeUndefined();
});
