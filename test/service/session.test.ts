// The session wrapper itself: options, malformed input, listeners, subscribe and inspect.
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { createRoomSession } from '../../src/service/roomSession';
import { recordedSession, ev, FAST } from './helpers';

let server: RoomServer;
beforeAll(async () => {
  server = await startRoomServer();
});
afterAll(() => server.close());

describe('options', () => {
  const good = () => ({ roomToken: 'QzBbvGmIZWU', serverUrl: 'http://127.0.0.1:1/v1', auth: { type: 'basic' as const, sessionToken: 'tok' } });
  it.each([
    ['not an object', null, /options must be an object/],
    ['no room token', { ...good(), roomToken: '' }, /roomToken/],
    ['a room token with a slash', { ...good(), roomToken: 'a/b' }, /roomToken/],
    ['a relative server URL', { ...good(), serverUrl: '/v1' }, /serverUrl is not a valid URL/],
    ['an ftp server URL', { ...good(), serverUrl: 'ftp://x/v1' }, /http: or https:/],
    ['a server URL with a query', { ...good(), serverUrl: 'http://x/v1?a=1' }, /query/],
    ['no auth', { ...good(), auth: undefined }, /auth must be/],
    ['an unknown auth type', { ...good(), auth: { type: 'bearer' } }, /auth.type/],
    ['an empty session token', { ...good(), auth: { type: 'basic', sessionToken: '' } }, /sessionToken/],
    ['Hawk without key', { ...good(), auth: { type: 'hawk', credentials: { id: 'i', algorithm: 'sha256' } } }, /credentials.key/],
    ['a zero timeout', { ...good(), timeoutMs: 0 }, /timeoutMs/],
    ['a fractional maxQueue', { ...good(), maxQueue: 1.5 }, /maxQueue/],
    ['zero attempts', { ...good(), retry: { attempts: 0 } }, /retry.attempts/],
    ['a negative delay', { ...good(), retry: { baseDelayMs: -1 } }, /retry.baseDelayMs/],
    ['a fetch that is not a function', { ...good(), fetch: 'fetch' }, /fetch must be a function/],
  ])('%s is a TypeError naming the option', (_name, options, message) => {
    expect(() => createRoomSession(options as never)).toThrow(TypeError);
    expect(() => createRoomSession(options as never)).toThrow(message);
  });

  it('a trailing slash on serverUrl does not double it', async () => {
    const rec = recordedSession(server, 'basic', { serverUrl: server.serverUrl + '/' });
    rec.session.send(ev('Session.connectionCreated'));
    await rec.session.flush();
    expect(server.received.at(-1)!.path).toBe(`/v1/rooms/${server.roomToken}`);
    rec.session.stop();
  });
});

describe('malformed events never throw; each is one anomaly', () => {
  it.each<[string, unknown, string]>([
    ['null', null, 'object'],
    ['an unknown name alone', 'Session.StreamDestroyed', 'Session.StreamDestroyed'],
    ["XState's reserved xstate.stop alone", 'xstate.stop', 'xstate.stop'],
    ['a number', 42, 'number'],
    ['a numeric type', { type: 7 }, '7'],
    ['an unknown type', { type: 'Session.StreamDestroyed' }, 'Session.StreamDestroyed'],
    ["XState's reserved xstate.stop", { type: 'xstate.stop' }, 'xstate.stop'],
  ])('%s', async (_name, event, shown) => {
    const rec = recordedSession(server, 'basic');
    const before = server.received.length;
    rec.session.send(ev('Session.connectionCreated'));
    expect(() => rec.session.send(event as never)).not.toThrow();
    rec.session.send(ev('Session.connectionCreated'));
    await rec.session.flush();
    expect(rec.anomalies).toEqual([{ type: 'anomaly', reason: 'unknown-event', event: shown }]);
    // the actor is still running and counted the event after it
    expect(rec.session.getSnapshot()).toMatchObject({ status: 'active', value: 'starting', context: { connections: 2 } });
    expect(server.received.length - before).toBe(2);
    rec.session.stop();
  });

  it('an underflow is the machine\'s counter-underflow anomaly, once, and no report', async () => {
    const rec = recordedSession(server, 'basic');
    const before = server.received.length;
    rec.session.send(ev('Publisher.streamDestroyed'));
    await rec.session.flush();
    expect(rec.anomalies).toEqual([{ type: 'anomaly', reason: 'counter-underflow', event: 'Publisher.streamDestroyed' }]);
    expect(server.received.length).toBe(before);
    rec.session.stop();
  });

  it('SDK event objects: only the type reaches the machine', async () => {
    const rec = recordedSession(server, 'basic');
    rec.session.send({ type: 'Session.connectionCreated', connection: { connectionId: 'x' }, target: {} } as never);
    expect(rec.session.getSnapshot().context.connections).toBe(1);
    rec.session.stop();
  });
});

describe('listeners', () => {
  it('subscribe gets snapshots; a throwing observer becomes an error event, not a crash', async () => {
    const rec = recordedSession(server, 'basic');
    const seen: string[] = [];
    const sub = rec.session.subscribe((s) => {
      seen.push(s.value as string);
      if (s.value === 'starting') throw new Error('observer bug');
    });
    rec.session.send(ev('Session.connectionCreated'));
    rec.session.send(ev('Session.connectionCreated'));
    rec.session.send(ev('Session.streamCreated'));
    sub.unsubscribe();
    rec.session.send(ev('Session.streamDestroyed'));
    await rec.session.flush();
    expect(seen).toEqual(['waiting', 'starting', 'receiving']);
    expect(rec.errors).toEqual([expect.objectContaining({ kind: 'listener', message: expect.stringContaining('observer bug') })]);
    expect(rec.reports).toHaveLength(4);
    rec.session.stop();
  });

  it('an observer that sends from inside a notification: both events counted and reported, in order', async () => {
    const rec = recordedSession(server, 'basic');
    const start = server.received.length;
    rec.session.subscribe((s) => {
      if (s.value === 'waiting' && s.context.sendStreams === 0) rec.session.send(ev('Publisher.streamCreated'));
    });
    rec.session.on('anomaly', () => rec.session.send(ev('Session.streamCreated')));
    rec.session.send(ev('Session.connectionCreated'));
    rec.session.send(ev('Session.streamDestroyed')); // underflow: its anomaly listener sends a valid event
    await rec.session.flush();
    expect(server.received.slice(start).map((r) => (r.body as { event: string }).event)).toEqual(['Session.connectionCreated', 'Publisher.streamCreated', 'Session.streamCreated']);
    expect(rec.session.getSnapshot().context).toEqual({ connections: 1, sendStreams: 1, recvStreams: 1 });
    rec.session.stop();
  });

  it('on() with an unknown event name or a non-function is a TypeError (a typo would otherwise never fire)', () => {
    const rec = recordedSession(server, 'basic');
    expect(() => rec.session.on('reports' as never, () => {})).toThrow(/unknown event "reports"/);
    expect(() => rec.session.on('error', 'log' as never)).toThrow(/must be a function/);
    rec.session.stop();
  });

  it('on() returns an unsubscribe; a throwing error listener is swallowed', async () => {
    const rec = recordedSession(server, 'basic');
    const anomalies: unknown[] = [];
    const sub = rec.session.on('anomaly', (a) => anomalies.push(a));
    rec.session.on('error', () => {
      throw new Error('error listener bug');
    });
    rec.session.on('anomaly', () => {
      throw new Error('anomaly listener bug');
    });
    rec.session.send(ev('Session.connectionDestroyed'));
    sub.unsubscribe();
    rec.session.send(ev('Session.connectionDestroyed'));
    expect(anomalies).toHaveLength(1);
    expect(rec.errors.map((e) => e.kind)).toEqual(['listener', 'listener']);
    rec.session.stop();
  });
});

it('inspect is passed to the actor: it sees every event and snapshot', async () => {
  const inspected: { type: string; event?: { type: string } }[] = [];
  const session = createRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: server.sessionToken }, ...FAST, inspect: (e: { type: string; event?: { type: string } }) => inspected.push(e) });
  session.send(ev('Session.connectionCreated'));
  await session.flush();
  expect(inspected.filter((e) => e.type === '@xstate.event').map((e) => e.event!.type)).toEqual(['xstate.init', 'Session.connectionCreated']);
  expect(inspected.some((e) => e.type === '@xstate.snapshot')).toBe(true);
  session.stop();
});

it('stats() tells where reporting stands', async () => {
  const rec = recordedSession(server, 'basic');
  expect(rec.session.stats()).toEqual({ waiting: 0, inFlight: false, delivered: 0, dropped: 0, stopped: false, reporting: 'active' });
  rec.session.send(ev('Session.connectionCreated'));
  expect(rec.session.stats()).toMatchObject({ inFlight: true });
  await rec.session.leave();
  expect(rec.session.stats()).toEqual({ waiting: 0, inFlight: false, delivered: 2, dropped: 0, stopped: false, reporting: 'left' });
  rec.session.stop();
  expect(rec.session.stats().reporting).toBe('left');
});

describe('event types given alone', () => {
  it('session.send(type) reports exactly as session.send({ type }); reserved and unknown names are anomalies', async () => {
    const own = await startRoomServer();
    const rec = recordedSession(own, 'basic');
    const unknownInput: unknown = 'xstate.stop';
    rec.session.send('Session.connectionCreated');
    rec.session.send({ type: 'Publisher.streamCreated' });
    rec.session.send(unknownInput);
    rec.session.send('Bogus' as string);
    rec.session.send('Session.connectionCreated');
    await rec.session.flush();
    expect(rec.reports.map((r) => [r.body.event, r.body.state])).toEqual([
      ['Session.connectionCreated', 'waiting'],
      ['Publisher.streamCreated', 'waiting'],
      ['Session.connectionCreated', 'sending'],
    ]);
    expect(rec.anomalies.map((a) => [a.reason, a.event])).toEqual([
      ['unknown-event', 'xstate.stop'],
      ['unknown-event', 'Bogus'],
    ]);
    expect(rec.session.getSnapshot().status).toBe('active');
    expect(own.statusBodies()).toEqual(rec.reports.map((r) => r.body));
    rec.session.stop();
    await own.close();
  });
});
