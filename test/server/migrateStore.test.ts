// migrate-store, as an operator runs it: a SQLite store filled by real traffic moves to PostgreSQL and back, and
// every stored figure, every report (in order) and every token survives; a target that already holds data is
// refused and left as it was.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { chooseStore, type Store } from '../../src/server/store';
import { basicAuthorization } from '../../src/transport/basic';
import { pgAvailable, sharedPgCluster } from '../support/postgres';
import { runCli } from './process';

const describePg = pgAvailable() ? describe : describe.skip;
if (process.env.CI && !pgAvailable()) throw new Error('CI is set but no PostgreSQL server binaries were found');

/** A server over the store that `spec` names (a SQLite path or a postgres URL), limits off (bulk traffic). */
async function serveOn(spec: string): Promise<{ server: ListeningRoomServer; store: Store; stop(): Promise<void> }> {
  const { store } = chooseStore(spec.startsWith('postgres') ? { store: spec } : { db: spec });
  await store.open();
  const server = await listenRoomServer({ store, limits: 'off' });
  return { server, store, stop: async () => (await server.close(), await store.close()) };
}

/** What must survive a move: the stats, the report counters of /metrics, and every report as export prints it. */
async function figures(spec: string) {
  const s = await serveOn(spec);
  try {
    const stats = (await (await fetch(`${s.server.serverUrl}/stats`)).json()) as Record<string, unknown>;
    const metrics = (await (await fetch(`${s.server.origin}/metrics`)).text())
      .split('\n')
      .filter((l) => /^loop_room_(status_reports_total|transitions_total|sessions_ended_total|sessions\{|time_to_media_seconds_(bucket|count))/.test(l))
      .sort();
    return { stats, metrics };
  } finally {
    await s.stop();
  }
}

async function exported(spec: string): Promise<string[]> {
  const r = await runCli(['export', ...(spec.startsWith('postgres') ? ['--store', spec] : ['--db', spec])]);
  expect(r.code).toBe(0);
  return r.stdout.trim().split('\n');
}

describePg('migrate-store', () => {
  let dir: string;
  let sqlitePath: string;
  let pgUrl: string;
  let room: string;
  let guest: { sessionToken: string };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loop-migrate-'));
    sqlitePath = join(dir, 'rooms.db');
    pgUrl = await (await sharedPgCluster()).createDatabase();
    const s = await serveOn(sqlitePath);
    try {
      const sim = await runCli(['simulate-traffic', '--server', s.server.serverUrl, '--sessions', '16', '--seed', '5']);
      expect(sim.code).toBe(0);
      // One participant stays in the room: its token must still work after the move.
      const { registerHawkSession, createRoom } = await import('../../src/rooms');
      const hawk = await registerHawkSession(s.server.serverUrl);
      ({ roomToken: room } = await createRoom({ serverUrl: s.server.serverUrl, credentials: hawk.credentials, roomName: 'move', roomOwner: 'ops', maxSize: 3 }));
      const join = await fetch(`${s.server.serverUrl}/rooms/${room}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'join', displayName: 'guest', clientMaxSize: 3 }) });
      guest = (await join.json()) as { sessionToken: string };
      const report = await postStatus(s.server.serverUrl, 'Session.connectionCreated', 'waiting', 1);
      expect(report).toBe(204);
    } finally {
      await s.stop();
    }
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const postStatus = async (serverUrl: string, event: string, state: string, connections: number) =>
    (
      await fetch(`${serverUrl}/rooms/${room}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: basicAuthorization(guest.sessionToken) },
        body: JSON.stringify({ action: 'status', event, state, connections, sendStreams: 0, recvStreams: 0 }),
      })
    ).status;

  test('SQLite to PostgreSQL and back: the same reports, figures and tokens; a non-empty target is refused', async () => {
    const before = await figures(sqlitePath);
    const reports = await exported(sqlitePath);
    expect(reports.length).toBeGreaterThan(50);
    expect(before.metrics.length).toBeGreaterThan(10);

    const there = await runCli(['migrate-store', '--from', sqlitePath, '--to', pgUrl]);
    expect(there.stderr).toBe('');
    expect(there.code).toBe(0);
    expect(there.stdout).toMatch(/^reports\s+rows\s+(\d+) ->\s+\1$/m);
    expect(await exported(pgUrl)).toEqual(reports);
    expect(await figures(pgUrl)).toEqual(before);

    // The guest's Basic token and its session's snapshot moved too: its next report is stored and conformant.
    const s = await serveOn(pgUrl);
    try {
      expect(await postStatus(s.server.serverUrl, 'Session.connectionCreated', 'starting', 2)).toBe(204);
      const last = JSON.parse((await exported(pgUrl)).at(-1)!) as { verdict: string; seq: number };
      expect(last).toMatchObject({ verdict: 'conformant', seq: 2 });
    } finally {
      await s.stop();
    }

    // Into a store that holds data: refused, and nothing in it changes.
    const again = await runCli(['migrate-store', '--from', sqlitePath, '--to', pgUrl]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds data/);
    expect(await exported(pgUrl)).toHaveLength(reports.length + 1);

    // And back to a new SQLite file, with the report made on PostgreSQL.
    const back = join(dir, 'back.db');
    const home = await runCli(['migrate-store', '--from', pgUrl, '--to', back]);
    expect(home.code).toBe(0);
    expect(await exported(back)).toEqual(await exported(pgUrl));
    expect(await figures(back)).toEqual(await figures(pgUrl));
  }, 300_000);

  test('bad arguments are usage errors that say what is wrong', async () => {
    const same = await runCli(['migrate-store', '--from', sqlitePath, '--to', sqlitePath]);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/same store/);
    const missing = await runCli(['migrate-store', '--from', join(dir, 'nope.db'), '--to', join(dir, 'x.db')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no such SQLite file/);
    // A target that cannot be named is refused before the source is opened (opening migrates it): here the source
    // is not even a database, and the answer is still about the target (without echoing its URL).
    const notDb = join(dir, 'notes.txt');
    writeFileSync(notDb, 'not a database');
    const badTarget = await runCli(['migrate-store', '--from', notDb, '--to', 'postgres://u:secret@host:99999/db']);
    expect(badTarget.code).not.toBe(0);
    expect(badTarget.stderr).toMatch(/not a valid PostgreSQL URL/);
    expect(badTarget.stderr).not.toMatch(/secret/);
  });
});
