// Item 3 of issue 20, against the real room server as `serve` runs it (SQLite, 127.0.0.1; needs npm run build): the session owns the join (joins,
// reports, refreshes, leaves), `signal` on the join and on every room helper, room-helper errors that name
// the path used and a typed network error, and a serverUrl without /v1 stopping once with a clear message.
import { createRoom, createRoomSession, joinRoom, registerHawkSession, RoomsApiError, RoomsNetworkError, type RoomSessionError } from '../../src/index';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { join } from 'node:path';
import { hawkGet, raw } from '../server/helpers';
import { startServe, type TrafficServer } from '../traffic/support';

// `serve` as it runs (the visualizer page on the same port: a POST outside /v1 is its 405), from dist/.
let server: TrafficServer;
let roomToken: string;
let owner: Awaited<ReturnType<typeof registerHawkSession>>;
beforeAll(async () => {
  server = await startServe({ dir: join(__dirname, '..', '..', 'dist'), adminToken: 'admin-token-for-tests' });
  owner = await registerHawkSession(server.serverUrl);
});
beforeEach(async () => {
  ({ roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'Join', roomOwner: 'Alice', maxSize: 2 }));
});
afterAll(() => server.stop());

const participants = async () => (await hawkGet(`${server.serverUrl}/rooms/${roomToken}`, owner.credentials)).json().participants as Array<{ displayName: string }>;
const reportsOf = async (id: string) => (await raw(`${server.serverUrl}/sessions/${id}/reports`, { headers: { Authorization: 'Bearer admin-token-for-tests' } })).json();

it('createRoomSession({ join }) joins once, reports every accepted event, refreshes, and leaves', async () => {
  const actions: string[] = [];
  const counting = (input: string, init: RequestInit) => (actions.push(JSON.parse(String(init.body)).action), fetch(input, init));
  const session = createRoomSession({ roomToken, serverUrl: server.serverUrl, join: { displayName: 'Bob' }, refreshEveryMs: 30, fetch: counting });
  const errors: RoomSessionError[] = [];
  session.on('error', (e) => errors.push(e));
  expect(session.stats().reporting).toBe('joining');
  // Events before the join answered wait for it.
  for (const row of WORKED_EXAMPLE) session.send(row.event);
  const joined = await session.ready();
  expect(joined).toMatchObject({ ok: true, room: { roomToken, expires: 300 } });
  expect(session.room()).toEqual(joined.ok && joined.room);
  expect(await participants()).toEqual([expect.objectContaining({ displayName: 'Bob' })]);
  // flush() counts what it waited for (reports the queue already delivered are not among them): none dropped.
  expect(await session.flush()).toMatchObject({ dropped: 0 });
  // A refresh goes by (refreshEveryMs), then the leave ends the participation.
  await new Promise((r) => setTimeout(r, 80));
  expect((await session.leave()).ok).toBe(true);
  session.stop();
  expect(errors).toEqual([]);
  expect(await participants()).toEqual([]);
  expect(actions[0]).toBe('join');
  expect(actions.filter((a) => a === 'join')).toHaveLength(1);
  expect(actions).toContain('refresh');
  expect(actions.at(-1)).toBe('leave');
  const id = joined.ok ? joined.room.roomConnectionId! : '';
  const stored = await reportsOf(id);
  expect(stored.reports.map((r: { report: { state: string } }) => r.report.state)).toEqual(WORKED_EXAMPLE.map((r) => r.state));
  expect(stored.reports.every((r: { verdict: string }) => r.verdict === 'conformant')).toBe(true);
});

it('a Hawk user joins with join + auth and reports with Hawk', async () => {
  const session = createRoomSession({ roomToken, serverUrl: server.serverUrl, auth: { type: 'hawk', credentials: owner.credentials }, join: { displayName: 'Alice' } });
  session.send('Session.connectionCreated');
  expect((await session.ready()).ok).toBe(true);
  expect(await session.flush()).toEqual({ delivered: 1, dropped: 0 });
  expect((await session.leave()).ok).toBe(true);
  session.stop();
});

it('a refused join stops the session once (reason join-failed, the status and errno); leave() sends nothing', async () => {
  // maxSize 2: fill the room (however the server counts its capacity), then one more is refused.
  await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'A' });
  await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'B' }).catch(() => {});
  const session = createRoomSession({ roomToken, serverUrl: server.serverUrl, join: { displayName: 'C' } });
  const errors: RoomSessionError[] = [];
  session.on('error', (e) => errors.push(e));
  session.send('Session.connectionCreated');
  const joined = await session.ready();
  expect(joined.ok).toBe(false);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ kind: 'stopped', reason: 'join-failed', status: 400, dropped: 1 });
  expect(errors[0].message).toMatch(/could not join the room: RoomsApiError: POST \/v1\/rooms\/:roomToken: HTTP 400 errno 202/);
  expect(errors[0].message).not.toContain(roomToken);
  expect(await session.leave()).toMatchObject({ ok: false, error: { reason: 'join-failed' } });
  session.stop();
});

it('an aborted signal cancels the join; aborted later, the session leaves and stops', async () => {
  const early = new AbortController();
  const a = createRoomSession({ roomToken, serverUrl: server.serverUrl, join: { displayName: 'Early' }, signal: early.signal });
  early.abort();
  const r = await a.ready();
  expect(r).toMatchObject({ ok: false, error: { kind: 'stopped', reason: 'join-failed' } });
  expect(!r.ok && r.error.message).toMatch(/cancelled/);

  const late = new AbortController();
  const b = createRoomSession({ roomToken, serverUrl: server.serverUrl, join: { displayName: 'Late' }, signal: late.signal });
  expect((await b.ready()).ok).toBe(true);
  expect((await participants()).map((p) => p.displayName)).toContain('Late');
  late.abort();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const left = await b.leave();
  expect(left.ok).toBe(true);
  expect(b.stats().reporting).toBe('left');
  expect((await participants()).map((p) => p.displayName)).not.toContain('Late');
});

describe('room helpers', () => {
  it('take a signal: an aborted one rejects with its reason, before or during the request', async () => {
    const before = new AbortController();
    before.abort();
    await expect(registerHawkSession(server.serverUrl, { signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'x', roomOwner: 'y', signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'x', signal: before.signal })).rejects.toMatchObject({ name: 'AbortError' });
    const during = new AbortController();
    const slowFetch = (_input: string, init: RequestInit) => new Promise<Response>((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const pending = joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'x', fetch: slowFetch, signal: during.signal });
    during.abort(new Error('user went away'));
    await expect(pending).rejects.toThrow('user went away');
    expect(await participants()).toEqual([]);
  });

  it('name the path used and say what to fix when serverUrl lacks /v1 (404 errno 999 from the server)', async () => {
    const origin = server.serverUrl.replace(/\/v1$/, '');
    const err = await joinRoom({ serverUrl: origin, roomToken, displayName: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(RoomsApiError);
    expect(err).toMatchObject({ status: 404, errno: 999, notTheApi: true });
    expect(err.message).toMatch(/^POST \/rooms\/:roomToken: HTTP 404 errno 999/);
    expect(err.message).toContain(`serverUrl (${origin})`);
    expect(err.message).toContain('/v1 prefix');
    expect(err.message).not.toContain(roomToken);
    const known = await joinRoom({ serverUrl: server.serverUrl, roomToken: 'NoSuchRoom1', displayName: 'x' }).catch((e) => e);
    expect(known).toMatchObject({ name: 'RoomsApiError', status: 404, errno: 105, notTheApi: false });
    expect(known.message).toMatch(/^POST \/v1\/rooms\/:roomToken: HTTP 404 errno 105/);
  });

  it('throw a RoomsNetworkError (with fetch error as cause) when nothing answers', async () => {
    const err = await registerHawkSession('http://127.0.0.1:9/v1').catch((e) => e);
    expect(err).toBeInstanceOf(RoomsNetworkError);
    expect(err.message).toMatch(/^POST \/v1\/registration: no answer from 127\.0\.0\.1:9: TypeError: fetch failed/);
    expect(err.cause).toMatchObject({ name: 'TypeError' });
  });
});

it('a session whose serverUrl lacks /v1 stops once, naming serverUrl and the /v1 prefix', async () => {
  const { sessionToken } = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'Bob' });
  const origin = server.serverUrl.replace(/\/v1$/, '');
  const session = createRoomSession({ roomToken, serverUrl: origin, auth: { type: 'basic', sessionToken } });
  const errors: RoomSessionError[] = [];
  session.on('error', (e) => errors.push(e));
  for (const row of WORKED_EXAMPLE) session.send(row.event);
  expect(await session.flush()).toEqual({ delivered: 0, dropped: WORKED_EXAMPLE.length });
  expect(errors).toHaveLength(1);
  const e = errors[0];
  expect(e).toMatchObject({ kind: 'stopped', reason: 'not-the-api', status: 404, dropped: WORKED_EXAMPLE.length });
  expect(e.message).toContain(`serverUrl (${origin})`);
  expect(e.message).toContain('/v1 prefix');
  expect(e.message).not.toContain(sessionToken);
  expect(session.stats().reporting).toBe('stopped');
  session.stop();
});
