// A room server that goes away for a few seconds (a restart, a page offline) and comes back: with the default
// retry policy nothing is lost (D-157). Against the real room server on 127.0.0.1, restarted on its port with
// the same SQLite store, so what was stored is read back from the store.
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { createRoomSession } from '../../src/service/roomSession';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { createRoom, joinRoom, registerHawkSession } from '../../src/rooms';
import { freshSqlite, type FreshStore } from '../support/stores';
import type { RoomSessionError } from '../../src/transport/errors';

let fresh: FreshStore;
let server: ListeningRoomServer | undefined;
let port: number;
let serverUrl: string;
let roomToken: string;
const up = async () => {
  server = await listenRoomServer({ store: fresh.store, limits: 'off', port });
  port = server.port;
  serverUrl = server.serverUrl;
};
const down = async () => {
  await server?.close();
  server = undefined;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(async () => {
  fresh = await freshSqlite();
  port = 0;
  await up();
  const owner = await registerHawkSession(serverUrl);
  ({ roomToken } = await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'outage', roomOwner: 'Alice', maxSize: 2 }));
});
afterEach(async () => {
  await down();
  await fresh.cleanup();
});

async function stored() {
  const out = [];
  for await (const r of fresh.store.exportReports({})) out.push(r);
  return out;
}

it('a server down for 6 s (a restart) loses no report and no leave, with the default retry policy', async () => {
  const session = createRoomSession({ roomToken, serverUrl, join: { displayName: 'Bob' } });
  const errors: RoomSessionError[] = [];
  session.on('error', (e) => errors.push(e));
  const [first, ...rest] = WORKED_EXAMPLE;
  session.send(first.event);
  expect(await session.flush()).toEqual({ delivered: 1, dropped: 0 });
  await down();
  for (const row of rest) session.send(row.event);
  const left = session.leave();
  // Longer than the whole retry budget of the policy before D-157 (5 attempts, at most 3.75 s of backoff).
  await sleep(6000);
  await up();
  expect(await left).toMatchObject({ ok: true, status: 204 });
  expect(errors).toEqual([]);
  const reports = await stored();
  expect(reports.map((r) => r.fields.event)).toEqual(WORKED_EXAMPLE.map((row) => row.event));
  expect(reports.every((r) => r.verdict === 'conformant')).toBe(true);
}, 40_000);

it('a server down at the join: the session joins once it is back', async () => {
  await down();
  const session = createRoomSession({ roomToken, serverUrl, join: { displayName: 'Bob' } });
  session.send(WORKED_EXAMPLE[0].event);
  await sleep(1500);
  await up();
  expect(await session.ready()).toMatchObject({ ok: true });
  expect(await session.flush()).toEqual({ delivered: 1, dropped: 0 });
  expect(await session.leave()).toMatchObject({ ok: true });
}, 40_000);

it('after a report was given up, the leave still gets every attempt of the policy (not one)', async () => {
  const session = createRoomSession({ roomToken, serverUrl, join: { displayName: 'Bob' }, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
  expect((await session.ready()).ok).toBe(true);
  await down();
  session.send(WORKED_EXAMPLE[0].event);
  expect(await session.flush()).toEqual({ delivered: 0, dropped: 1 });
  const left = await session.leave();
  expect(left).toMatchObject({ ok: false, error: { kind: 'dropped', request: 'leave', attempts: 3 } });
});

it('a session stopped while its join is in flight leaves the participation the join is given: the room is not full', async () => {
  // The join's answer comes late (a slow network); the session is stopped before it arrives.
  const slow = async (input: string, init: RequestInit) => {
    const res = await fetch(input, init);
    await sleep(300);
    return res;
  };
  const session = createRoomSession({ roomToken, serverUrl, join: { displayName: 'Gone' }, fetch: slow });
  await sleep(100);
  session.stop();
  expect(await session.ready()).toMatchObject({ ok: false, error: { reason: 'join-failed', message: 'could not join the room: cancelled' } });
  // The owner is away: the room (maxSize 2) keeps one spot for a guest. The stopped session's join must not hold it.
  let joined: Awaited<ReturnType<typeof joinRoom>> | undefined;
  for (let i = 0; i < 20 && !joined; i++) {
    joined = await joinRoom({ serverUrl, roomToken, displayName: 'Next' }).catch(() => undefined);
    if (!joined) await sleep(100);
  }
  expect(joined).toMatchObject({ sessionToken: expect.any(String) });
});
