// Staying in the room: {"action":"refresh"} on a timer (expires/3 by default), against a real room server.
import { startRoomServer, type ReceivedRequest, type RoomServer } from '../support/fakeLoopServer';
import { createRoomSession } from '../../src/service/roomSession';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { walkRoom } from '../../src/model/step';
import { recordedSession, authFor, type AuthKind } from './helpers';

const action = (r: ReceivedRequest) => (r.body as { action?: string } | undefined)?.action;
const refreshes = (s: RoomServer) => s.received.filter((r) => action(r) === 'refresh');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EVENTS = WORKED_EXAMPLE.slice(0, 4).map((r) => r.event);

let server: RoomServer;
afterEach(() => server?.close());

describe.each<AuthKind>(['basic', 'hawk'])('%s auth', (kind) => {
  it('refreshes every expires/3 with the exact body, between reports, until leave; none after', async () => {
    server = await startRoomServer({ expires: 0.09 }); // the client is told 90 ms: a refresh every 30 ms
    const rec = recordedSession(server, kind, { expires: 0.09 });
    for (const e of EVENTS) rec.session.send(e);
    await server.waitFor((s) => refreshes(s).length >= 3);
    for (const e of EVENTS) rec.session.send(e);
    await rec.session.flush();
    const left = await rec.session.leave();
    expect(left).toMatchObject({ ok: true, status: 204 });
    const leaveAt = server.received.findIndex((r) => action(r) === 'leave');
    await pause(200); // over six refresh periods
    expect(server.received.slice(leaveAt + 1)).toEqual([]);
    for (const r of refreshes(server)) {
      expect(r.rawBody).toBe('{"action":"refresh"}');
      expect(r.auth).toBe(kind);
      expect(r.outcome).toBe(200);
      expect(r.problems).toEqual([]);
    }
    // Refreshes do not disturb the reports: exactly the model's, in order.
    expect(server.statusBodies()).toEqual(walkRoom([...EVENTS, ...EVENTS]).filter((s) => s.accepted).map((s) => s.report));
    expect(rec.errors).toEqual([]);
    rec.session.stop();
  });
});

it("takes each refresh answer's expires as the new one", async () => {
  server = await startRoomServer({ expires: 3600 });
  const rec = recordedSession(server, 'basic', { expires: 0.03 }); // first refresh after 10 ms; then in 20 minutes
  await server.waitFor((s) => refreshes(s).length >= 1);
  await pause(200); // twenty periods of the first expires
  expect(refreshes(server)).toHaveLength(1);
  rec.session.stop();
  expect(rec.errors).toEqual([]);
});

it('refreshEveryMs overrides expires/3; stop() ends refreshing', async () => {
  server = await startRoomServer({ expires: 3600 });
  const rec = recordedSession(server, 'basic', { expires: 3600, refreshEveryMs: 15 });
  await server.waitFor((s) => refreshes(s).length >= 3);
  rec.session.stop();
  const count = server.received.length;
  await pause(150);
  expect(server.received.length).toBe(count);
});

it('no expires, no refreshEveryMs: never refreshes', async () => {
  server = await startRoomServer();
  const rec = recordedSession(server, 'basic');
  rec.session.send('Session.connectionCreated');
  await pause(100);
  await rec.session.flush();
  expect(server.received.map(action)).toEqual(['status']);
  rec.session.stop();
});

it('a 410 on refresh (participation expired) stops reporting with one error, and refreshing too', async () => {
  server = await startRoomServer({ faults: [{ when: (r) => action(r) === 'refresh', fault: { status: 410, errno: 111 } }] });
  const rec = recordedSession(server, 'hawk', { refreshEveryMs: 15 });
  rec.session.send('Session.connectionCreated');
  await server.waitFor((s) => refreshes(s).length === 1);
  await server.waitFor(() => rec.errors.length > 0);
  const count = server.received.length;
  rec.session.send('Session.connectionCreated');
  await pause(150);
  expect(server.received.length).toBe(count);
  expect(rec.errors).toHaveLength(1);
  expect(rec.errors[0]).toMatchObject({ kind: 'stopped', status: 410, errno: 111 });
  expect(rec.session.stats().reporting).toBe('stopped');
  expect(rec.reports.map((r) => r.body.state)).toEqual(['waiting']);
  rec.session.stop();
});

it('a refresh after a leave elsewhere is 410 from the fixture: the session stops', async () => {
  server = await startRoomServer();
  const other = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: authFor(server, 'basic') });
  await other.leave();
  const rec = recordedSession(server, 'basic', { refreshEveryMs: 10 });
  await server.waitFor(() => rec.errors.length > 0);
  expect(rec.errors).toEqual([expect.objectContaining({ kind: 'stopped', status: 410, errno: 111 })]);
  expect(rec.errors[0].message).toContain('Participation has expired.');
  rec.session.stop();
  other.stop();
});

it.each([
  [{ expires: 0 }, /expires must be a finite number > 0/],
  [{ expires: '300' }, /expires must be/],
  [{ refreshEveryMs: -5 }, /refreshEveryMs must be/],
  [{ refreshEveryMs: Infinity }, /refreshEveryMs must be/],
  [{ leaveOnPageHide: 'yes' }, /leaveOnPageHide must be a boolean/],
  [{ leaveOnPageHide: true }, /leaveOnPageHide: needs a browser page/],
])('option %j is a TypeError', (extra, message) => {
  const options = { roomToken: 'QzBbvGmIZWU', serverUrl: 'http://127.0.0.1:1/v1', auth: { type: 'basic' as const, sessionToken: 'tok' }, ...extra };
  expect(() => createRoomSession(options as never)).toThrow(TypeError);
  expect(() => createRoomSession(options as never)).toThrow(message);
});
