// (b) End to end: generated cases through createRoomSession (the package's public API) against the real
// local room server (node:http on 127.0.0.1, port chosen at run time). Each accepted step must arrive as one
// status report with the vector's body, in order; each rejected step as one anomaly and no request.
// The package's client entry (what `import ... from 'loop-room-state'` gives), from source.
import { createRoomSession, type RoomAnomaly, type RoomAuth } from '../../src/index';
import { generateTestCases, type TestCase } from '../../src/testing';
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';

/** Short bounds: the server answers at once, nothing here should wait on a retry. */
const FAST = { timeoutMs: 2000, retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } };

/** The body spec section 1 says a step's report carries, written from the vector's own fields. */
const bodyOf = (s: TestCase['steps'][number]) => ({
  action: 'status', event: s.event, state: s.state, connections: s.connections, sendStreams: s.sendStreams, recvStreams: s.recvStreams,
});

async function runCase(c: TestCase, authKind: 'basic' | 'hawk') {
  const server: RoomServer = await startRoomServer();
  try {
    const auth: RoomAuth = authKind === 'basic' ? { type: 'basic', sessionToken: server.sessionToken } : { type: 'hawk', credentials: server.hawk };
    const session = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth, ...FAST });
    const anomalies: RoomAnomaly[] = [];
    const errors: unknown[] = [];
    session.on('anomaly', (a) => anomalies.push(a));
    session.on('error', (e) => errors.push(e));
    c.steps.forEach((step, i) => {
      session.send({ type: step.event });
      const { value, context } = session.getSnapshot();
      const at = `${c.id} step ${i + 1} (${step.event})`;
      expect({ at, state: value, ...context }).toEqual({ at, state: step.state, connections: step.connections, sendStreams: step.sendStreams, recvStreams: step.recvStreams });
    });
    await session.flush();
    const left = await session.leave();
    expect(left.ok).toBe(true);
    expect(errors).toEqual([]);
    expect(server.statusBodies()).toEqual(c.steps.filter((s) => s.accepted).map(bodyOf));
    expect(anomalies.map((a) => a.event)).toEqual(c.steps.filter((s) => !s.accepted).map((s) => s.event));
    // Every request authenticated, answered 204, with no wire-format deviation; the leave came last.
    expect(server.received.map((r) => [r.auth, r.outcome, r.problems])).toEqual(server.received.map(() => [authKind, 204, []]));
    expect(server.received.at(-1)!.body).toEqual({ action: 'leave' });
    session.stop();
  } finally {
    await server.close();
  }
}

describe('generated vectors end to end: createRoomSession against the local room server', () => {
  const tour = generateTestCases({ maxCount: 3 });
  it.each(tour.map((c) => [c.id, c] as const))('transition tour %s (Basic auth)', async (_id, c) => {
    await runCase(c, 'basic');
  });

  const walks = generateTestCases({ seed: 20261126, walks: 4, walkLength: 40, maxCount: 3 });
  it.each(walks.map((c) => [c.id, c] as const))('seeded random walk %s (Hawk auth)', async (_id, c) => {
    await runCase(c, 'hawk');
  });
});
