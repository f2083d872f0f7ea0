// Conformance (server spec section 2): the memoized lookup agrees with the machine; generated vectors are
// all conformant through createRoomSession; deliberately wrong clients get exactly the spec's verdicts,
// and with --strict are refused and not stored.
import { ROOM_EVENTS, ROOM_STATES, isRoomEventType } from '../../machines/domain';
import { createRoomSession, createRoom, joinRoom, registerHawkSession, type HawkSession } from '../../src/index';
import fc from 'fast-check';
import { askMachine, checkReport, KEY_COUNTER_MAX, machineAnswer } from '../../src/server/conformance';
import { generateTestCases } from '../../src/testgen/generate';
import { STORES } from '../support/stores';
import { expectError, post, raw, startServer, type TestServer } from './helpers';

// Well past the count the memo keys counters up to: a guard on a larger count would show here.
const BOUND = 2 * KEY_COUNTER_MAX + 2;

describe('the memoized lookup', () => {
  it(`agrees with the machine on every (state, counters, event) with counters up to ${BOUND}`, () => {
    let n = 0;
    // Fill the memo in one order, check it in another, so a key mix-up cannot hide.
    const configs = ROOM_STATES.flatMap((state) =>
      [...Array((BOUND + 1) ** 3).keys()].map((i) => ({ state, connections: i % (BOUND + 1), sendStreams: Math.floor(i / (BOUND + 1)) % (BOUND + 1), recvStreams: Math.floor(i / (BOUND + 1) ** 2) })),
    );
    for (const c of configs) for (const e of ROOM_EVENTS) machineAnswer(c, e);
    for (const c of [...configs].reverse()) {
      for (const e of ROOM_EVENTS) {
        expect(machineAnswer(c, e)).toEqual(askMachine(c, e));
        n++;
      }
    }
    expect(n).toBe(ROOM_STATES.length * (BOUND + 1) ** 3 * ROOM_EVENTS.length);
  });

  it('agrees with the machine at any counts, however large (property)', () => {
    const count = fc.oneof(fc.nat(8), fc.nat(1_000_000));
    fc.assert(
      fc.property(fc.constantFrom(...ROOM_STATES), count, count, count, fc.constantFrom(...ROOM_EVENTS), (state, connections, sendStreams, recvStreams, e) => {
        const c = { state, connections, sendStreams, recvStreams };
        expect(machineAnswer(c, e)).toEqual(askMachine(c, e));
      }),
      { numRuns: 2000 },
    );
  });

  it('checkReport: verdict order and snapshot reset (section 2)', () => {
    const init = { state: 'init' as const, connections: 0, sendStreams: 0, recvStreams: 0 };
    // Unknown event and unknown state: the event wins; the snapshot stays.
    expect(checkReport(init, { event: 'X', state: 'nowhere', connections: 0, sendStreams: 0, recvStreams: 0 })).toEqual({ verdict: 'unknown-event', next: init });
    // Unknown state with a rejected event: unknown-state first; the snapshot stays.
    expect(checkReport(init, { event: 'Session.connectionDestroyed', state: 'nowhere', connections: 0, sendStreams: 0, recvStreams: 0 }).verdict).toBe('unknown-state');
    // Rejected beats wrong counters; the snapshot resets to the report.
    const r = checkReport(init, { event: 'Session.connectionDestroyed', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 });
    expect(r).toEqual({ verdict: 'rejected-event', expected: init, next: { state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 } });
    // Wrong counters beat wrong state.
    expect(checkReport(init, { event: 'Session.connectionCreated', state: 'init', connections: 2, sendStreams: 0, recvStreams: 0 }).verdict).toBe('wrong-counters');
    expect(checkReport(init, { event: 'Session.connectionCreated', state: 'init', connections: 1, sendStreams: 0, recvStreams: 0 }).verdict).toBe('wrong-state');
  });
});

interface Wrong {
  name: string;
  reports: Array<[event: string, state: string, c: number, s: number, r: number]>;
  verdicts: string[];
}

// Each a client bug; verdicts as the spec's table says, report by report.
const WRONG: Wrong[] = [
  {
    name: 'a missed event (Publisher.streamCreated never reported)',
    reports: [
      ['Session.connectionCreated', 'waiting', 1, 0, 0],
      ['Session.connectionCreated', 'sending', 2, 1, 0],
      ['Session.streamCreated', 'sendrecv', 2, 1, 1],
    ],
    verdicts: ['conformant', 'wrong-counters', 'conformant'],
  },
  {
    name: 'a doubled event',
    reports: [
      ['Session.connectionCreated', 'waiting', 1, 0, 0],
      ['Session.connectionCreated', 'waiting', 1, 0, 0],
      ['Publisher.streamCreated', 'waiting', 1, 1, 0],
    ],
    verdicts: ['conformant', 'wrong-counters', 'conformant'],
  },
  {
    name: 'a wrong state',
    reports: [
      ['Session.connectionCreated', 'starting', 1, 0, 0],
      ['Session.connectionCreated', 'starting', 2, 0, 0],
    ],
    verdicts: ['wrong-state', 'conformant'],
  },
  {
    name: 'an underflow',
    reports: [
      ['Session.connectionDestroyed', 'init', 0, 0, 0],
      ['Session.connectionCreated', 'waiting', 1, 0, 0],
    ],
    verdicts: ['rejected-event', 'conformant'],
  },
  {
    name: 'unknown names (the snapshot stays after an unknown state)',
    reports: [
      ['Session.StreamDestroyed', 'init', 0, 0, 0],
      ['Session.connectionCreated', 'Waiting', 1, 0, 0],
      ['Session.connectionCreated', 'waiting', 1, 0, 0],
      ['Session.Nope', 'nowhere', 0, 0, 0],
    ],
    verdicts: ['unknown-event', 'unknown-state', 'conformant', 'unknown-event'],
  },
];

const body = ([event, state, connections, sendStreams, recvStreams]: Wrong['reports'][number]) => ({ action: 'status', event, state, connections, sendStreams, recvStreams });

describe.each(STORES)('conformance over HTTP (%s)', (_name, factory) => {
  describe('default: every report stored with its verdict', () => {
    let server: TestServer;
    let owner: HawkSession;
    let roomToken: string;
    beforeAll(async () => {
      server = await startServer(factory);
      owner = await registerHawkSession(server.serverUrl);
      roomToken = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'c', roomOwner: 'o', maxSize: 5 })).roomToken;
    });
    afterAll(() => server.stop());

    it('every generated test vector (generate-tests --max-count 3) is conformant through createRoomSession', async () => {
      const cases = generateTestCases({ maxCount: 3 });
      expect(cases.length).toBeGreaterThan(0);
      let reports = 0;
      for (const c of cases) {
        const joined = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: c.id });
        const session = createRoomSession({ roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: joined.sessionToken }, timeoutMs: 2000 });
        const errors: unknown[] = [];
        session.on('error', (e) => errors.push(e));
        for (const step of c.steps) session.send({ type: step.event as never });
        await session.flush();
        expect((await session.leave()).ok).toBe(true);
        expect(errors).toEqual([]);
        const stored = (await server.fresh.store.sessionReports(joined.roomConnectionId)).map((r) => [r.verdict, r.fields.event, r.fields.state, r.fields.connections, r.fields.sendStreams, r.fields.recvStreams]);
        const accepted = c.steps.filter((s) => s.accepted && isRoomEventType(s.event));
        expect(stored).toEqual(accepted.map((s) => ['conformant', s.event, s.state, s.connections, s.sendStreams, s.recvStreams]));
        reports += stored.length;
      }
      expect(reports).toBe(cases.flatMap((c) => c.steps.filter((s) => s.accepted)).length);
    });

    it('a report that passes through starting (waiting -> starting -> sending in one step) counts starting as reached in the funnel', async () => {
      const before = (await raw(`${server.serverUrl}/stats`)).json().funnel.starting as number;
      const joined = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'through' });
      const steps = [
        ['Session.connectionCreated', 'waiting', 1, 0, 0],
        ['Publisher.streamCreated', 'waiting', 1, 1, 0],
        ['Session.connectionCreated', 'sending', 2, 1, 0],
      ] as const;
      for (const [event, state, connections, sendStreams, recvStreams] of steps) {
        expect((await post(`${server.serverUrl}/rooms/${roomToken}`, { action: 'status', event, state, connections, sendStreams, recvStreams }, { basic: joined.sessionToken })).status).toBe(204);
      }
      const stored = await server.fresh.store.getSession(joined.roomConnectionId);
      expect(stored?.snapshot.state).toBe('sending');
      expect(Object.keys(stored!.firstReached).sort()).toEqual(['init', 'sending', 'starting', 'waiting']);
      expect((await raw(`${server.serverUrl}/stats`)).json().funnel.starting).toBe(before + 1);
      expect((await post(`${server.serverUrl}/rooms/${roomToken}`, { action: 'leave' }, { basic: joined.sessionToken })).status).toBe(204);
    });

    it.each(WRONG)('$name: verdicts exactly as the spec says', async ({ reports, verdicts }) => {
      const joined = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'wrong' });
      for (const r of reports) expect((await post(`${server.serverUrl}/rooms/${roomToken}`, body(r), { basic: joined.sessionToken })).status).toBe(204);
      const stored = await server.fresh.store.sessionReports(joined.roomConnectionId);
      expect(stored.map((r) => r.verdict)).toEqual(verdicts);
      expect((await post(`${server.serverUrl}/rooms/${roomToken}`, { action: 'leave' }, { basic: joined.sessionToken })).status).toBe(204);
    });

    it('/v1/stats lists the non-conformance: verdict, from, event, expected, reported, count, an example session', async () => {
      const stats = (await raw(`${server.serverUrl}/stats`)).json();
      const missed = stats.nonConformance.find((n: { verdict: string; from: string }) => n.verdict === 'wrong-counters' && n.from === 'waiting');
      expect(missed).toMatchObject({
        event: 'Session.connectionCreated',
        expected: { state: 'starting', connections: 2, sendStreams: 0, recvStreams: 0 },
        reported: { state: 'sending', connections: 2, sendStreams: 1, recvStreams: 0 },
        count: 1,
      });
      expect(await server.fresh.store.getSession(missed.exampleSession)).toBeDefined();
      expect(stats.nonConformance.map((n: { verdict: string }) => n.verdict).sort()).toEqual(
        ['rejected-event', 'unknown-event', 'unknown-event', 'unknown-state', 'wrong-counters', 'wrong-counters', 'wrong-state'].sort(),
      );
    });

    it('metrics labels stay bounded: unknown names are "other"', async () => {
      const text = (await raw(`${server.origin}/metrics`)).text;
      expect(text).toMatch(/loop_room_status_reports_total\{event="other",state="init",verdict="unknown-event"\} \d+/);
      expect(text).not.toContain('Session.StreamDestroyed');
      expect(text).not.toContain('nowhere');
    });
  });

  describe('--strict: a non-conformant report is refused and not stored', () => {
    let server: TestServer;
    let roomToken: string;
    beforeAll(async () => {
      server = await startServer(factory, { strict: true });
      const owner = await registerHawkSession(server.serverUrl);
      roomToken = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'c', roomOwner: 'o', maxSize: 5 })).roomToken;
    });
    afterAll(() => server.stop());

    it.each(WRONG)('$name', async ({ reports, verdicts }) => {
      const joined = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'strict' });
      const kept: string[] = [];
      let state = 'init';
      for (const [i, r] of reports.entries()) {
        const a = await post(`${server.serverUrl}/rooms/${roomToken}`, body(r), { basic: joined.sessionToken });
        if (verdicts[i] === 'conformant' && a.status === 204) {
          kept.push(r[0]);
          state = r[1];
        } else {
          expectError(a, 400, 107, `Invalid event '${r[0]}' for state '${state}'.`);
        }
      }
      const stored = await server.fresh.store.sessionReports(joined.roomConnectionId);
      expect(stored.every((s) => s.verdict === 'conformant')).toBe(true);
      expect(stored.map((s) => s.fields.event)).toEqual(kept);
      await post(`${server.serverUrl}/rooms/${roomToken}`, { action: 'leave' }, { basic: joined.sessionToken });
    });
  });

  it('GET of an unknown session\'s reports is 404', async () => {
    const server = await startServer(factory);
    try {
      const a = await raw(`${server.serverUrl}/sessions/nope/reports`);
      expect(a.status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
