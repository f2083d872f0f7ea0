// Property: for random event sequences (valid, underflowing and unknown), the bodies the server received
// equal the model's accepted transitions, one for one, and every rejection surfaced as one anomaly.
import fc from 'fast-check';
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { ROOM_EVENTS } from '../../machines/domain';
import { walkRoom } from '../../src/model/step';
import { recordedSession } from './helpers';

let server: RoomServer;
beforeAll(async () => {
  server = await startRoomServer();
});
afterAll(() => server.close());

const anEvent = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ROOM_EVENTS).map((type) => ({ type })) },
  { weight: 1, arbitrary: fc.constantFrom('Session.StreamDestroyed', 'Sesssion.connectionCreated', 'sessionDisconnected', 'xstate.stop', '').map((type) => ({ type })) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 42, 'Session.connectionCreated', { type: 7 }, {}) },
);

it('received bodies == walkRoom(events) accepted reports, one for one (both auth schemes)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(anEvent, { maxLength: 40 }), fc.constantFrom('basic' as const, 'hawk' as const), async (events, kind) => {
      const start = server.received.length;
      const rec = recordedSession(server, kind);
      for (const e of events) rec.session.send(e as never);
      await rec.session.flush();
      rec.session.stop();
      const steps = walkRoom(events);
      const got = server.received.slice(start);
      expect(got.map((r) => r.body)).toEqual(steps.filter((s) => s.accepted).map((s) => s.report));
      expect(got.every((r) => r.outcome === 204 && r.auth === kind)).toBe(true);
      expect(rec.anomalies).toEqual(steps.filter((s) => !s.accepted).map((s) => s.anomaly));
      expect(rec.errors).toEqual([]);
      expect(rec.session.getSnapshot().context).toEqual(steps.length ? steps[steps.length - 1].counters : { connections: 0, sendStreams: 0, recvStreams: 0 });
    }),
    { numRuns: 150 },
  );
});

it('with random transient faults (fewer in a row than the retry bound), still exactly once and in order', async () => {
  const aFault = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(500, 502, 503, 429, 408).map((status) => ({ status })) },
    { weight: 1, arbitrary: fc.constant({ reset: true as const }) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...ROOM_EVENTS).map((type) => ({ type })), { maxLength: 25 }), fc.array(aFault, { maxLength: 60 }), async (events, schedule) => {
      // at most 5 faults in a row: the session below makes 6 attempts per report
      let run = 0;
      const faults = schedule.map((f) => (f && ++run <= 5 ? f : ((run = 0), undefined)));
      const start = server.received.length;
      server.setFaults((r) => faults[r.index - start]);
      const rec = recordedSession(server, 'hawk');
      for (const e of events) rec.session.send(e);
      await rec.session.flush();
      rec.session.stop();
      server.setFaults(undefined);
      const expected = walkRoom(events).filter((s) => s.accepted).map((s) => s.report);
      const got = server.received.slice(start).filter((r) => r.outcome === 204).map((r) => r.body);
      expect(got).toEqual(expected);
      expect(rec.reports.map((r) => r.body)).toEqual(expected);
      expect(rec.errors).toEqual([]);
    }),
    { numRuns: 60 },
  );
});
