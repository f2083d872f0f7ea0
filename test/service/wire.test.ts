// Spec section 1 on the wire, and the worked example of section 5, against a real room server.
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { recordedSession, ev, type AuthKind } from './helpers';

const bodies = WORKED_EXAMPLE.map((r) => ({ action: 'status', event: r.event, state: r.state, connections: r.connections, sendStreams: r.sendStreams, recvStreams: r.recvStreams }));

let server: RoomServer;
beforeEach(async () => {
  server = await startRoomServer({ roomToken: 'QzBbvGmIZWU' });
});
afterEach(() => server.close());

describe.each<AuthKind>(['basic', 'hawk'])('the worked example, %s auth', (kind) => {
  it('arrives as one report per row, exact bodies, in order, with a valid Authorization', async () => {
    const { session, reports, errors, anomalies } = recordedSession(server, kind);
    for (const row of WORKED_EXAMPLE) session.send(ev(row.event));
    await session.flush();

    expect(server.received).toHaveLength(8);
    for (const r of server.received) {
      expect(r.method).toBe('POST');
      expect(r.path).toBe('/v1/rooms/QzBbvGmIZWU');
      expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(r.auth).toBe(kind);
      expect(r.outcome).toBe(204);
      expect(r.problems).toEqual([]);
      // exactly the six fields, in the spec's order
      expect(Object.keys(JSON.parse(r.rawBody))).toEqual(['action', 'event', 'state', 'connections', 'sendStreams', 'recvStreams']);
    }
    if (kind === 'basic') {
      const expected = 'Basic ' + Buffer.from(`${server.sessionToken}:`).toString('base64');
      for (const r of server.received) expect(r.headers.authorization).toBe(expected);
    } else {
      for (const r of server.received) expect(String(r.headers.authorization)).toMatch(/^Hawk id="[^"]+", ts="\d+", nonce="[^"]+", hash="[^"]+", mac="[^"]+"$/);
    }
    expect(server.statusBodies()).toEqual(bodies);
    expect(reports.map((r) => r.body)).toEqual(bodies);
    expect(reports.every((r) => r.attempt === 1 && r.status === 204)).toBe(true);
    expect(errors).toEqual([]);
    expect(anomalies).toEqual([]);
    session.stop();
  });

  it('a leave after row 7 sends rows 1-7, then {"action":"leave"}, and nothing for row 8', async () => {
    const { session, reports, errors } = recordedSession(server, kind);
    for (const row of WORKED_EXAMPLE.slice(0, 7)) session.send(ev(row.event));
    const left = await session.leave();
    expect(left).toEqual({ ok: true, status: 204, attempts: 1 });
    session.send(ev(WORKED_EXAMPLE[7].event));
    // the machine still moves after the leave
    expect(session.getSnapshot().value).toBe('init');
    await session.flush();
    await new Promise((r) => setTimeout(r, 50));

    expect(server.received.map((r) => r.body)).toEqual([...bodies.slice(0, 7), { action: 'leave' }]);
    expect(server.received.every((r) => r.outcome === 204 && r.auth === kind)).toBe(true);
    expect(reports).toHaveLength(7);
    expect(errors).toEqual([]);
    expect(session.stats().reporting).toBe('left');
    session.stop();
  });
});

it('events sent after leave() was called are not reported, even before the leave completes', async () => {
  const { session } = recordedSession(server, 'basic');
  session.send(ev('Session.connectionCreated'));
  const leaving = session.leave();
  session.send(ev('Publisher.streamCreated'));
  expect(session.getSnapshot().context.sendStreams).toBe(1);
  await leaving;
  expect(server.received.map((r) => (r.body as { action: string }).action)).toEqual(['status', 'leave']);
  expect(await session.leave()).toEqual({ ok: true, status: 204, attempts: 1 }); // idempotent: no second leave
  expect(server.received).toHaveLength(2);
  session.stop();
});

it('a status report the server does not accept after leaving never happens: the server would answer 400/203', async () => {
  // The test server enforces the reference rule; prove it, so the test above means something.
  const { session } = recordedSession(server, 'basic');
  await session.leave();
  const res = await fetch(`${server.serverUrl}/rooms/${server.roomToken}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: 'Basic ' + Buffer.from(`${server.sessionToken}:`).toString('base64') },
    body: JSON.stringify(bodies[0]),
  });
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ errno: 203 });
  session.stop();
});
