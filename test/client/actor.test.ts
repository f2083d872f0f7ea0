// Item 4 of issue 20: fromRoomSession as XState actor logic under createActor, invoke and spawn, against a real
// node:http room server; the actor's snapshot follows the session's; emitted events reach actor.on; the
// inspector option is XState's inspection type.
import { assign, createActor, setup, type ActorRefFrom, type InspectionEvent } from 'xstate';
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { fromRoomSession, type RoomSessionLogic } from '../../src/index';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { createRoom, registerHawkSession } from '../../src/index';
import { listenRoomServer } from '../../src/server/server';
import { freshSqlite } from '../support/stores';

let server: RoomServer;
beforeEach(async () => {
  server = await startRoomServer();
});
afterEach(() => server.close());

const options = () => ({ roomToken: server.roomToken, serverUrl: server.serverUrl, auth: { type: 'basic' as const, sessionToken: server.sessionToken } });
const statusBodies = () => server.statusBodies().map((b) => (b as { state: string }).state);
const leaves = () => server.delivered().filter((r) => (r.body as { action?: string }).action === 'leave').length;

it('createActor: the snapshot follows the session, emitted reports reach on(), room.leave makes it done', async () => {
  const inspected: InspectionEvent[] = [];
  const actor = createActor(fromRoomSession({ ...options(), inspect: (e: InspectionEvent) => inspected.push(e) }));
  const reports: unknown[] = [];
  actor.on('report', (r) => reports.push(r.body.state));
  actor.start();
  expect(actor.getSnapshot()).toMatchObject({ status: 'active', value: 'init', reporting: 'active' });
  for (const row of WORKED_EXAMPLE.slice(0, 4)) actor.send({ type: row.event });
  expect(actor.getSnapshot()).toMatchObject({ value: 'sendrecv', context: { connections: 2, sendStreams: 1, recvStreams: 1 } });
  await server.waitFor(() => reports.length === 4);
  expect(statusBodies()).toEqual(WORKED_EXAMPLE.slice(0, 4).map((r) => r.state));
  const done = new Promise((resolve) => actor.subscribe({ complete: () => resolve(actor.getSnapshot()) }));
  actor.send({ type: 'room.leave' });
  expect(await done).toMatchObject({ status: 'done', output: { ok: true, status: 204 }, reporting: 'left' });
  expect(leaves()).toBe(1);
  // The inspector saw the session's own machine.
  expect(inspected.some((e) => e.type === '@xstate.snapshot')).toBe(true);
});

it('createActor with input: the input is merged over the options; a bad option fails the start', () => {
  const logic = fromRoomSession({ serverUrl: 'http://127.0.0.1:9/v1' });
  const actor = createActor(logic, { input: { roomToken: 'r', auth: { type: 'basic', sessionToken: 'token' } } });
  actor.start();
  expect(actor.getSnapshot().status).toBe('active');
  actor.stop();
  const bad = createActor(fromRoomSession({ serverUrl: 'nope' }), { input: { roomToken: 'r' } });
  const errors: unknown[] = [];
  bad.subscribe({ error: (e) => errors.push(e) });
  bad.start();
  expect(bad.getSnapshot().status).toBe('error');
  expect(String(errors[0])).toMatch(/TypeError: createRoomSession: serverUrl is not a valid URL/);
});

it('invoke: the parent forwards SDK events to the invoked session; leaving the state leaves the room', async () => {
  const call = setup({
    types: { events: {} as { type: 'sdk'; event: (typeof WORKED_EXAMPLE)[number]['event'] } | { type: 'hangUp' }, input: {} as { roomToken: string; serverUrl: string; sessionToken: string } },
    actors: { room: fromRoomSession() },
  }).createMachine({
    context: ({ input }) => input,
    initial: 'inCall',
    states: {
      inCall: {
        invoke: {
          id: 'room',
          src: 'room',
          input: ({ context }) => ({ roomToken: context.roomToken, serverUrl: context.serverUrl, auth: { type: 'basic', sessionToken: context.sessionToken } }),
        },
        on: {
          sdk: { actions: ({ event, self }) => (self.getSnapshot().children.room as ActorRefFrom<RoomSessionLogic>).send({ type: event.event }) },
          hangUp: 'ended',
        },
      },
      ended: { type: 'final' },
    },
  });
  const parent = createActor(call, { input: { roomToken: server.roomToken, serverUrl: server.serverUrl, sessionToken: server.sessionToken } }).start();
  const child = parent.getSnapshot().children.room as ActorRefFrom<RoomSessionLogic>;
  for (const row of WORKED_EXAMPLE.slice(0, 3)) parent.send({ type: 'sdk', event: row.event });
  expect(child.getSnapshot()).toMatchObject({ value: 'sending', context: { connections: 2, sendStreams: 1 } });
  await server.waitFor(() => server.statusBodies().length === 3);
  parent.send({ type: 'hangUp' });
  expect(child.getSnapshot().status).toBe('stopped');
  await server.waitFor(() => leaves() === 1);
  expect(statusBodies()).toEqual(WORKED_EXAMPLE.slice(0, 3).map((r) => r.state));
});

it('spawn: sessions kept in context, each reporting on its own; a left one is done, with the leave result as output', async () => {
  const app = setup({
    types: { context: {} as { rooms: ActorRefFrom<RoomSessionLogic>[] }, events: {} as { type: 'open'; sessionToken: string } },
    actors: { room: fromRoomSession({ roomToken: server.roomToken, serverUrl: server.serverUrl }) },
  }).createMachine({
    context: { rooms: [] },
    on: {
      open: { actions: assign({ rooms: ({ context, event, spawn }) => [...context.rooms, spawn('room', { input: { auth: { type: 'basic', sessionToken: event.sessionToken } } })] }) },
    },
  });
  const actor = createActor(app).start();
  actor.send({ type: 'open', sessionToken: server.sessionToken });
  actor.send({ type: 'open', sessionToken: server.sessionToken });
  const [a, b] = actor.getSnapshot().context.rooms;
  a.send({ type: 'Session.connectionCreated' });
  b.send({ type: 'Session.connectionCreated' });
  b.send({ type: 'Session.connectionCreated' });
  expect([a.getSnapshot().value, b.getSnapshot().value]).toEqual(['waiting', 'starting']);
  await server.waitFor(() => server.statusBodies().length === 3);
  a.send({ type: 'room.leave' });
  await server.waitFor(() => a.getSnapshot().status === 'done');
  expect(a.getSnapshot().output).toMatchObject({ ok: true });
  actor.stop();
  await server.waitFor(() => leaves() === 2);
  expect(b.getSnapshot().status).toBe('stopped');
});

it("the logic's config is one constant for every call, holding no option (@xstate/react remakes the actor when it changes)", () => {
  const a = fromRoomSession({ ...options(), join: { displayName: 'A' } });
  const b = fromRoomSession({ ...options(), join: { displayName: 'A' } });
  expect(a.config).toBe(b.config);
  expect(a.config).toBe(fromRoomSession().config);
  expect(JSON.stringify(a.config)).not.toContain(server.sessionToken);
});

// The real room server (SQLite): a join needs one; `fetch` records each request's action and holds the
// leave's answer 300 ms, so that a second join would otherwise overtake it.
async function withRealServer(run: (logic: () => RoomSessionLogic, log: string[]) => Promise<void>) {
  const fresh = await freshSqlite();
  const real = await listenRoomServer({ store: fresh.store });
  try {
    const { credentials } = await registerHawkSession(real.serverUrl);
    const { roomToken } = await createRoom({ serverUrl: real.serverUrl, credentials, roomName: 'Actor', roomOwner: 'Alice' });
    const log: string[] = [];
    const fetch = async (url: string, init: RequestInit) => {
      const action = (JSON.parse(String(init.body ?? '{}')) as { action?: string }).action ?? '?';
      log.push(action);
      const res = await globalThis.fetch(url, init);
      if (action === 'leave') {
        await new Promise((r) => setTimeout(r, 300));
        log.push('leave answered');
      }
      return res;
    };
    await run(() => fromRoomSession({ roomToken, serverUrl: real.serverUrl, join: { displayName: 'Ann' }, fetch }), log);
  } finally {
    await real.close();
    await fresh.cleanup();
  }
}
const until = async (done: () => boolean) => {
  for (const deadline = Date.now() + 5000; !done() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
  expect(done()).toBe(true);
};

it('a joining actor in a room another actor is still leaving joins once that leave is answered; events sent meanwhile are reported', () =>
  withRealServer(async (logic, log) => {
    const first = createActor(logic()).start();
    await until(() => first.getSnapshot().reporting === 'active');
    first.stop();
    const second = createActor(logic()).start();
    expect(second.getSnapshot()).toMatchObject({ status: 'active', reporting: 'joining' });
    second.send({ type: 'Session.connectionCreated' });
    await until(() => log.includes('status'));
    // Without the wait the server, keeping a spot for the absent owner, finds the room full (clientMaxSize 2).
    expect(log).toEqual(['join', 'leave', 'leave answered', 'join', 'status']);
    await until(() => second.getSnapshot().reporting === 'active');
    expect(second.getSnapshot()).toMatchObject({ value: 'waiting', context: { connections: 1 } });
    second.stop();
    await until(() => log.filter((a) => a === 'leave answered').length === 2);
  }));

it('an actor stopped while it waits for a leave never joins', () =>
  withRealServer(async (logic, log) => {
    const first = createActor(logic()).start();
    await until(() => first.getSnapshot().reporting === 'active');
    first.stop();
    createActor(logic()).start().stop();
    await until(() => log.includes('leave answered'));
    await new Promise((r) => setTimeout(r, 100));
    expect(log).toEqual(['join', 'leave', 'leave answered']);
  }));
