// No secret in output: the session token, the Hawk id and key, the room token and any Authorization
// value never appear in an emitted event, an error, a leave result, or the console.
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import fc from 'fast-check';
import { createRoomSession } from '../../src/service/roomSession';
import { redactor } from '../../src/transport/errors';
import { recordedSession, ev, FAST, type AuthKind } from './helpers';

let server: RoomServer;
afterEach(() => server.close());

function captureConsole() {
  const lines: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' '))));
  return { lines, restore: () => spies.forEach((s) => s.mockRestore()) };
}

it.each<AuthKind>(['basic', 'hawk'])('%s: nothing emitted carries a secret, through every kind of failure', async (kind) => {
  server = await startRoomServer({
    faults: [
      { times: 2, fault: { reset: true } },
      { times: 1, when: (r) => r.rawBody.includes('sendrecv'), fault: { status: 400, errno: 107 } },
      { times: 6, when: (r) => r.rawBody.includes('"state":"init"'), fault: { status: 503 } },
    ],
  });
  const con = captureConsole();
  const emitted: unknown[] = [];
  const rec = recordedSession(server, kind);
  rec.session.subscribe((s) => emitted.push(s.value));
  rec.session.on('report', (r) => emitted.push(r));
  rec.session.on('anomaly', (a) => emitted.push(a));
  rec.session.on('error', (e) => emitted.push(e));
  rec.session.on('report', (r) => {
    if (r.body.state === 'starting' || r.body.state === 'sending') throw new Error(`listener saw ${kind === 'basic' ? server.sessionToken : server.hawk.key}`); // redacted on the way out
  });
  for (const row of WORKED_EXAMPLE) rec.session.send(ev(row.event));
  rec.session.send(ev('Session.streamDestroyed')); // underflow: an anomaly
  rec.session.send(null as never);
  await rec.session.flush();
  emitted.push(await rec.session.leave());

  // and a session that gets stopped by the server (wrong room: 404), and one whose listener throws
  const bad = createRoomSession({ roomToken: 'NoSuchRoom', serverUrl: server.serverUrl, auth: recordedAuth(kind), ...FAST });
  bad.on('error', (e) => emitted.push(e));
  bad.send(ev('Session.connectionCreated'));
  await bad.flush();
  emitted.push(await bad.leave(), bad.stats());
  bad.stop();
  rec.session.stop();
  con.restore();

  // enough happened for this to mean something
  const kinds = emitted.map((e) => (e as { kind?: string }).kind).filter(Boolean);
  expect(kinds).toEqual(expect.arrayContaining(['dropped', 'stopped', 'listener']));
  expect(server.received.length).toBeGreaterThan(10);
  const text = JSON.stringify(emitted) + '\n' + con.lines.join('\n');
  const secrets = [server.sessionToken, server.hawk.id, server.hawk.key, server.roomToken, 'NoSuchRoom', ...server.received.map((r) => String(r.headers.authorization))];
  for (const s of secrets) expect(text).not.toContain(s);
  expect(text).not.toMatch(/Basic [A-Za-z0-9+/=]{8,}|Hawk id=/);
});

function recordedAuth(kind: AuthKind) {
  return kind === 'basic' ? { type: 'basic' as const, sessionToken: server.sessionToken } : { type: 'hawk' as const, credentials: server.hawk };
}

it('option errors name the problem, not the secret', () => {
  const key = 'super-secret-hawk-key-123';
  const attempts = [
    () => createRoomSession({ roomToken: 'room', serverUrl: 'http://x/v1', auth: { type: 'hawk', credentials: { id: 'has"quote', key, algorithm: 'sha256' } } }),
    () => createRoomSession({ roomToken: 'room', serverUrl: 'http://x/v1', auth: { type: 'hawk', credentials: { id: 'id', key, algorithm: 'md5' as never } } }),
    () => createRoomSession({ roomToken: 'room', serverUrl: key, auth: { type: 'basic', sessionToken: 'x' } }),
  ];
  for (const a of attempts) {
    let message = '';
    try {
      a();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^createRoomSession: /);
    expect(message).not.toContain(key);
  }
});

// A standalone join learns its sessionToken after the session started: the redaction reads the secrets when
// it redacts, so a message naming a secret learnt later hides it too (digits only: none is part of "[redacted]").
it('a secret learnt after the session started is redacted too', () => {
  const secret = fc.stringMatching(/^\d{4,12}$/);
  fc.assert(
    fc.property(fc.array(secret, { maxLength: 3 }), secret, fc.string(), (early, late, around) => {
      const secrets = [...early];
      const redact = redactor(secrets);
      secrets.push(late);
      const text = redact(`${around}${late}${around}`);
      return [...early, late].every((s) => !text.includes(s));
    }),
  );
});
