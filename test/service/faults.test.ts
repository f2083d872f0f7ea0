// Fault injection on a real loopback server: every report arrives exactly once, in order, once the
// server recovers within the retry window; otherwise `error` events, and flush() still resolves.
import { startRoomServer, type RoomServer, type ReceivedRequest } from '../support/fakeLoopServer';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { walkRoom } from '../../src/model/step';
import { recordedSession, ev, FAST, type Recorded } from './helpers';

const EVENTS = WORKED_EXAMPLE.map((r) => ev(r.event));
const EXPECTED = walkRoom(EVENTS).map((s) => s.report);
const isStatus = (r: ReceivedRequest) => (r.body as { action?: string })?.action === 'status';

let server: RoomServer;
afterEach(() => server?.close());

async function runExample(rec: Recorded) {
  for (const e of EVENTS) rec.session.send(e);
  await rec.session.flush();
}

function expectExactlyOnceInOrder(rec: Recorded) {
  expect(server.statusBodies()).toEqual(EXPECTED);
  expect(rec.reports.map((r) => r.body)).toEqual(EXPECTED);
  expect(rec.errors).toEqual([]);
}

describe('transient faults are retried until delivered', () => {
  it('503 for the first three attempts (Hawk: each retry is signed afresh, no replayed nonce)', async () => {
    server = await startRoomServer({ faults: [{ times: 3, fault: { status: 503, errno: 201 } }] });
    const rec = recordedSession(server, 'hawk');
    await runExample(rec);
    expectExactlyOnceInOrder(rec);
    expect(server.received.slice(0, 3).map((r) => r.outcome)).toEqual([503, 503, 503]);
    expect(server.received.every((r) => r.authFailure === undefined)).toBe(true);
    expect(rec.reports[0].attempt).toBe(4);
    expect(rec.reports.slice(1).every((r) => r.attempt === 1)).toBe(true);
    rec.session.stop();
  });

  it('429 and 5xx on different reports', async () => {
    server = await startRoomServer({
      faults: [
        { times: 2, when: (r) => r.rawBody.includes('"connections":2'), fault: { status: 429 } },
        { times: 1, when: (r) => r.rawBody.includes('"state":"init"'), fault: { status: 500 } },
        { times: 1, when: (r) => r.rawBody.includes('"recvStreams":1'), fault: { status: 502 } },
      ],
    });
    const rec = recordedSession(server, 'basic');
    await runExample(rec);
    expectExactlyOnceInOrder(rec);
    expect(server.received.filter((r) => r.outcome !== 204).map((r) => r.outcome)).toEqual([429, 429, 502, 500]);
    rec.session.stop();
  });

  it('Retry-After in seconds is honoured', async () => {
    server = await startRoomServer({ faults: [{ times: 1, fault: { status: 503, retryAfter: '1' } }] });
    const rec = recordedSession(server, 'basic');
    rec.session.send(EVENTS[0]);
    await rec.session.flush();
    const [first, second] = server.received;
    expect(second.at - first.at).toBeGreaterThanOrEqual(950);
    expect(server.statusBodies()).toEqual(EXPECTED.slice(0, 1));
    rec.session.stop();
  });

  it('Retry-After as an HTTP date is honoured, and a huge one is capped at retry.maxRetryAfterMs', async () => {
    const inASecond = new Date(Date.now() + 1500).toUTCString(); // second resolution: 0.5 to 1.5 s away
    server = await startRoomServer({
      faults: [
        { times: 1, when: (r) => r.rawBody.includes('"connections":1'), fault: { status: 503, retryAfter: inASecond } },
        { times: 1, when: (r) => r.rawBody.includes('"connections":2'), fault: { status: 429, retryAfter: '3600' } },
      ],
    });
    const rec = recordedSession(server, 'basic', { retry: { ...FAST.retry, maxRetryAfterMs: 50 } });
    rec.session.send(EVENTS[0]);
    await rec.session.flush();
    // capped at 50 ms: so even the date form waits at most the cap
    expect(server.received[1].at - server.received[0].at).toBeLessThan(1000);
    rec.session.send(EVENTS[2]);
    rec.session.send(EVENTS[1]);
    const t = Date.now();
    await rec.session.flush();
    expect(Date.now() - t).toBeLessThan(2000); // not an hour
    expect(server.statusBodies()).toHaveLength(3);
    rec.session.stop();

    // uncapped, the date form does wait
    await server.close();
    server = await startRoomServer({ faults: [{ times: 1, fault: { status: 503, retryAfter: new Date(Date.now() + 2000).toUTCString() } }] });
    const rec2 = recordedSession(server, 'basic');
    rec2.session.send(EVENTS[0]);
    await rec2.session.flush();
    expect(server.received[1].at - server.received[0].at).toBeGreaterThanOrEqual(900);
    rec2.session.stop();
  });

  it('connection reset (socket destroyed without an answer)', async () => {
    server = await startRoomServer({ faults: [{ times: 2, fault: { reset: true } }, { times: 1, when: (r) => r.rawBody.includes('sendrecv'), fault: { reset: true } }] });
    const rec = recordedSession(server, 'basic');
    await runExample(rec);
    expectExactlyOnceInOrder(rec);
    expect(server.received.filter((r) => r.outcome === 'reset')).toHaveLength(3);
    rec.session.stop();
  });

  it('an answer slower than timeoutMs: aborted and retried, applied once', async () => {
    server = await startRoomServer({ faults: [{ times: 1, when: (r) => r.rawBody.includes('"sendStreams":1'), fault: { delayMs: 1000 } }, { times: 1, fault: { hang: true } }] });
    const rec = recordedSession(server, 'basic', { timeoutMs: 300 });
    await runExample(rec);
    expectExactlyOnceInOrder(rec);
    await server.waitFor((s) => s.received.some((r) => r.outcome === 'aborted'));
    expect(server.received.map((r) => r.outcome).filter((o) => o !== 204)).toEqual(['hang', 'aborted']);
    rec.session.stop();
  });

  it('server down, then back on the same port within the retry window', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'hawk', { retry: { attempts: 60, baseDelayMs: 5, maxDelayMs: 20 } });
    rec.session.send(EVENTS[0]);
    await rec.session.flush();
    await server.down();
    for (const e of EVENTS.slice(1)) rec.session.send(e);
    await new Promise((r) => setTimeout(r, 150));
    expect(server.received).toHaveLength(1); // nothing got through while down
    await server.up();
    await rec.session.flush();
    expectExactlyOnceInOrder(rec);
    expect(rec.reports[1].attempt).toBeGreaterThan(1);
    rec.session.stop();
  });
});

describe('a server that never recovers', () => {
  it('yields dropped errors, not a hang; later reports get one attempt until one gets through', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'basic');
    await server.down();
    for (const e of EVENTS.slice(0, 3)) rec.session.send(e);
    await rec.session.flush();
    const dropped = rec.errors.filter((e) => e.kind === 'dropped');
    expect(dropped).toHaveLength(rec.errors.length);
    expect(dropped.map((e) => [e.kind, e.request, e.attempts])).toEqual([
      ['dropped', 'status', 6],
      ['dropped', 'status', 1],
      ['dropped', 'status', 1],
    ]);
    expect(dropped.map((e) => e.body)).toEqual(EXPECTED.slice(0, 3));
    expect(rec.errors[0].message).toMatch(/network error/);
    await server.up();
    rec.session.send(EVENTS[3]);
    await rec.session.flush();
    expect(server.statusBodies()).toEqual(EXPECTED.slice(3, 4));
    expect(rec.session.stats()).toMatchObject({ delivered: 1, dropped: 3, reporting: 'active' });
    rec.session.stop();
  });

  it('503 for ever: flush resolves with errors carrying status and errno', async () => {
    server = await startRoomServer({ faults: [{ fault: { status: 503, errno: 201 } }] });
    const rec = recordedSession(server, 'basic');
    rec.session.send(EVENTS[0]);
    await rec.session.flush();
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'dropped', status: 503, errno: 201, attempts: 6 })]);
    expect(server.received).toHaveLength(6);
    rec.session.stop();
  });
});

describe('refusals', () => {
  it('400 on one report drops that one with its status and errno; the next ones arrive', async () => {
    server = await startRoomServer({ faults: [{ when: (r) => r.rawBody.includes('sendrecv'), fault: { status: 400, errno: 107 } }] });
    const rec = recordedSession(server, 'basic');
    await runExample(rec);
    expect(server.statusBodies()).toEqual(EXPECTED.filter((b) => b!.state !== 'sendrecv'));
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'dropped', request: 'status', status: 400, errno: 107, attempts: 1, body: EXPECTED[3] })]);
    expect(server.received.filter(isStatus)).toHaveLength(8); // the refused one was not retried
    rec.session.stop();
  });

  it('404 (unknown room, errno 105) stops reporting: nothing more is sent', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'basic', { roomToken: 'NoSuchRoom' });
    await runExample(rec);
    expect(server.received).toHaveLength(1);
    expect(server.received[0].outcome).toBe(404);
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'stopped', status: 404, errno: 105 })]);
    expect(rec.errors[0].kind === 'stopped' && rec.errors[0].dropped).toBeGreaterThanOrEqual(1);
    expect(rec.session.stats().reporting).toBe('stopped');
    // events still move the machine, and still send nothing
    rec.session.send(EVENTS[0]);
    await rec.session.flush();
    expect(rec.session.getSnapshot().context.connections).toBe(1);
    expect(await rec.session.leave()).toMatchObject({ ok: false, error: { kind: 'stopped' } });
    expect(server.received).toHaveLength(1);
    rec.session.stop();
  });

  it('401 (wrong session token, errno 110) stops reporting', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'basic', { auth: { type: 'basic', sessionToken: 'not-the-token' } });
    await runExample(rec);
    expect(server.received).toHaveLength(1);
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'stopped', status: 401, errno: 110 })]);
    rec.session.stop();
  });

  it.each([403, 410])('%i stops reporting', async (status) => {
    server = await startRoomServer({ faults: [{ times: 1, when: (r) => r.index === 2, fault: { status } }] });
    const rec = recordedSession(server, 'hawk');
    await runExample(rec);
    expect(server.received).toHaveLength(3);
    expect(server.statusBodies()).toEqual(EXPECTED.slice(0, 2));
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'stopped', status })]);
    rec.session.stop();
  });

  it('Hawk with a wrong key is refused by the verifier (401) and stops reporting', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'hawk', { auth: { type: 'hawk', credentials: { ...server.hawk, key: 'wrong-key-wrong-key' } } });
    await runExample(rec);
    expect(server.received.map((r) => r.authFailure)).toEqual([expect.stringContaining('Bad mac')]);
    expect(rec.errors[0]).toMatchObject({ kind: 'stopped', status: 401, errno: 110 });
    rec.session.stop();
  });
});

describe('Hawk clock skew', () => {
  it('a clock 10 minutes slow: one stale-timestamp 401, the clock is taken from the server Date header, then all is delivered', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'hawk', { auth: { type: 'hawk', credentials: server.hawk, localtimeOffsetMsec: -600_000 } });
    await runExample(rec);
    expectExactlyOnceInOrder(rec);
    expect(server.received[0]).toMatchObject({ outcome: 401, authFailure: expect.stringContaining('Stale timestamp') });
    expect(server.received.slice(1).every((r) => r.outcome === 204)).toBe(true);
    expect(rec.reports[0].attempt).toBe(1); // the re-signed try is not counted as a retry
    rec.session.stop();
  });

  it('a skewed clock with a wrong key still stops after the one re-signed try', async () => {
    server = await startRoomServer();
    const rec = recordedSession(server, 'hawk', { auth: { type: 'hawk', credentials: { ...server.hawk, key: 'wrong-key-wrong-key' }, localtimeOffsetMsec: 600_000 } });
    await runExample(rec);
    expect(server.received.map((r) => r.outcome)).toEqual([401, 401]);
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'stopped', status: 401 })]);
    rec.session.stop();
  });
});

describe('the queue bound', () => {
  it('overflow drops the oldest waiting reports and says how many, once', async () => {
    server = await startRoomServer({ faults: [{ times: 1, fault: { delayMs: 150 } }] });
    const rec = recordedSession(server, 'basic', { maxQueue: 3 });
    await runExample(rec);
    // the first was in flight; of the seven that queued behind it, the newest three were kept
    expect(server.statusBodies()).toEqual([EXPECTED[0], ...EXPECTED.slice(5)]);
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'overflow', dropped: 4 })]);
    expect(rec.session.stats()).toMatchObject({ delivered: 4, dropped: 4 });
    rec.session.stop();
  });
});

describe('stop()', () => {
  it('aborts the request in flight, discards the queue with one error, and flush() resolves', async () => {
    server = await startRoomServer({ faults: [{ fault: { hang: true } }] });
    const rec = recordedSession(server, 'basic', { timeoutMs: 10000 });
    for (const e of EVENTS) rec.session.send(e);
    // nothing can arrive, but flush must still resolve once stop() is called
    const flushed = rec.session.flush();
    await server.waitFor((s) => s.received.length === 1);
    rec.session.stop();
    expect(await flushed).toEqual({ delivered: 0, dropped: 8 });
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'discarded', dropped: 8 })]);
    rec.session.send(EVENTS[0]);
    expect(rec.errors[1]).toMatchObject({ kind: 'stopped' });
  });
});
