// Durability: many sessions reporting at once, the server killed with SIGKILL mid-load, restarted; every
// report answered 204 is stored exactly once and in order (checked with `export`), nothing half-written.
// A store that cannot write (lock held by another process, disk full, read-only) answers 503 errno 201 with
// Retry-After, stores nothing, and createRoomSession's retries deliver everything once it is back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'node:http';
import { ROOM_EVENTS } from '../../machines/domain';
import { createRoom, createRoomSession, joinRoom, registerHawkSession, initialRoomSnapshot, stepRoom } from '../../src/index';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import type { ThreadedSqliteStore } from '../../src/server/store/sqlite/threaded';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { basicAuthorization } from '../../src/transport/basic';
import { runCli, serveCli, requireBuilt } from './process';
import { freshSqlite } from '../support/stores';
import { countReports, expectError, httpPost, post, raw, startServer, type TestServer } from './helpers';

/** A seeded walk of the model: the report bodies a correct client sends (accepted events only), lazily. */
function* reportWalk(seed: number): Generator<object> {
  let x = seed >>> 0 || 1;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0), x / 2 ** 32);
  let snap = initialRoomSnapshot();
  for (;;) {
    const { snapshot, step } = stepRoom(snap, { type: ROOM_EVENTS[Math.floor(rand() * ROOM_EVENTS.length)] });
    snap = snapshot;
    if (step.report) yield step.report;
  }
}

function walkReports(seed: number, count: number): object[] {
  const out: object[] = [];
  for (const r of reportWalk(seed)) {
    if (out.length === count) break;
    out.push(r);
  }
  return out;
}

describe('kill -9 mid-load', () => {
  let dir: string;
  beforeAll(() => {
    requireBuilt();
    dir = mkdtempSync(join(tmpdir(), 'loop-room-kill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every report answered 204 is stored exactly once and in order; nothing half-written', async () => {
    const db = join(dir, 'kill.db');
    const first = await serveCli(['--port', '0', '--db', db, '--max-room-size', '20']);
    const SESSIONS = 24;
    const joined: Array<{ id: string; token: string; room: string }> = [];
    const owner = await registerHawkSession(first.serverUrl);
    for (let r = 0; r < 3; r++) {
      const room = (await createRoom({ serverUrl: first.serverUrl, credentials: owner.credentials, roomName: `k${r}`, roomOwner: 'o', maxSize: 20 })).roomToken;
      for (let i = 0; i < SESSIONS / 3; i++) {
        const j = await joinRoom({ serverUrl: first.serverUrl, roomToken: room, displayName: `p${i}`, clientMaxSize: 100 });
        joined.push({ id: j.roomConnectionId, token: j.sessionToken, room });
      }
    }
    const agent = new Agent({ keepAlive: true, maxSockets: SESSIONS });
    const acked = new Map<string, string[]>();
    const inFlight = new Map<string, string>();
    let total = 0;
    let killed = false;
    const clients = joined.map(async (p, i) => {
      const mine: string[] = [];
      acked.set(p.id, mine);
      for (const body of reportWalk(i + 1)) {
        if (killed) return;
        const text = JSON.stringify(body);
        inFlight.set(p.id, text);
        try {
          const res = await httpPost(agent, `${first.serverUrl}/rooms/${p.room}`, { 'Content-Type': 'application/json; charset=utf-8', Authorization: basicAuthorization(p.token) }, text);
          if (res.status !== 204) throw new Error(`HTTP ${res.status}`);
          mine.push(text);
          inFlight.delete(p.id);
          total++;
        } catch {
          return; // the server is gone
        }
      }
    });
    // Kill it while reports are flowing.
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (total >= 1500) {
          clearInterval(t);
          resolve();
        }
      }, 5);
    });
    first.child.kill('SIGKILL');
    killed = true;
    await first.exited;
    await Promise.all(clients);
    agent.destroy();

    // Restart on the same file: it opens (WAL recovery) and serves.
    const second = await serveCli(['--port', '0', '--db', db]);
    expect((await fetch(`${second.serverUrl}/registration`, { method: 'POST' })).status).toBe(200);
    second.child.kill('SIGTERM');
    await second.exited;

    const exported = await runCli(['export', '--db', db]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { session: string; seq: number; report: object });
    const stored = new Map<string, Array<{ seq: number; report: string }>>();
    for (const l of lines) {
      if (!stored.has(l.session)) stored.set(l.session, []);
      stored.get(l.session)!.push({ seq: l.seq, report: JSON.stringify(l.report) });
    }
    let ackedCount = 0;
    let extra = 0;
    for (const p of joined) {
      const a = acked.get(p.id)!;
      const s = stored.get(p.id) ?? [];
      ackedCount += a.length;
      // In order, once each: seq 1..n, the acknowledged ones first and in the order they were answered.
      expect(s.map((r) => r.seq)).toEqual(s.map((_, i) => i + 1));
      expect(s.slice(0, a.length).map((r) => r.report)).toEqual(a);
      // At most the one report in flight when the server died was stored without its 204 reaching us.
      expect(s.length - a.length).toBeLessThanOrEqual(1);
      if (s.length > a.length) {
        expect(s[a.length].report).toBe(inFlight.get(p.id));
        extra++;
      }
    }
    expect(ackedCount).toBeGreaterThanOrEqual(1500);
    expect(lines.length).toBe(ackedCount + extra);
    // Nothing half-written: each session's counters agree with its stored reports.
    const check = new SqliteStore({ path: db });
    await check.open();
    try {
      for (const p of joined) {
        const s = (await check.getSession(p.id))!;
        const reports = stored.get(p.id) ?? [];
        expect(s.reportCount).toBe(reports.length);
        if (reports.length > 0) {
          const last = JSON.parse(reports[reports.length - 1].report);
          expect(s.snapshot).toEqual({ state: last.state, connections: last.connections, sendStreams: last.sendStreams, recvStreams: last.recvStreams });
        }
      }
    } finally {
      await check.close();
    }
    // eslint-disable-next-line no-console
    console.log(`kill -9: ${ackedCount} reports acknowledged, ${lines.length} stored (${extra} in flight at the kill stored unacknowledged), ${joined.length} sessions`);
  });
});

describe('the store unavailable', () => {
  let server: TestServer;
  let sqlite: ThreadedSqliteStore;
  let path: string;
  let room: string;
  const RETRY = { timeoutMs: 5000, retry: { attempts: 100, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 50 } };
  beforeAll(async () => {
    server = await startServer(async () => {
      const f = await freshSqlite();
      sqlite = f.sqlite;
      path = f.path;
      return f;
    }, { retryAfterSeconds: 2, maxRoomSize: 1000 });
    const owner = await registerHawkSession(server.serverUrl);
    room = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'u', roomOwner: 'o', maxSize: 1000 })).roomToken;
  });
  afterAll(() => server.stop());

  /** `partial`: writes may still succeed where they fit (a full disk refuses what needs a new page, not all). */
  async function outage(name: string, down: () => void | Promise<void>, up: () => void | Promise<void>, partial = false): Promise<void> {
    const g = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: name, clientMaxSize: 1000 });
    await down();
    const before = await countReports(server);
    const refused = await post(`${server.serverUrl}/rooms/${room}`, { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 }, { basic: g.sessionToken });
    expectError(refused, 503, 201);
    expect(refused.headers.get('Retry-After')).toBe('2');
    expect(await countReports(server)).toBe(before);
    expect((await server.fresh.store.getSession(g.roomConnectionId))!.snapshot.state).toBe('init');
    // Reads still answer, writes do not: the process is not ready, and the store counts as down, until a write passes.
    const storeUp = async () => /^loop_room_store_up (\d)$/m.exec((await raw(`${server.origin}/metrics`)).text)?.[1];
    expect([(await raw(`${server.origin}/ready`)).json(), await storeUp()]).toEqual([{ status: 'unavailable', reason: 'store unavailable' }, '0']);
    const session = createRoomSession({ roomToken: room, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: g.sessionToken }, ...RETRY });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e));
    const events = walkReports(7, 12).map((r) => (r as { event: string }).event);
    for (const e of events) session.send({ type: e as never });
    await new Promise((r) => setTimeout(r, 300));
    if (!partial) expect(await countReports(server)).toBe(before);
    await up();
    await session.flush();
    expect((await session.leave()).ok).toBe(true);
    expect(errors).toEqual([]);
    const stored = await server.fresh.store.sessionReports(g.roomConnectionId);
    expect(stored.map((r) => r.fields.event)).toEqual(events);
    expect(stored.every((r) => r.verdict === 'conformant')).toBe(true);
    expect([(await raw(`${server.origin}/ready`)).status, await storeUp()]).toEqual([200, '1']);
  }

  it('a write lock held by another process', async () => {
    const Database = loadBetterSqlite3();
    const holder = new Database(path);
    await outage(
      'lock',
      () => {
        holder.exec('BEGIN EXCLUSIVE');
      },
      () => {
        holder.exec('COMMIT');
        holder.close();
      },
    );
  });

  it('a full disk (the database may not grow)', async () => {
    let limit = 0;
    await outage(
      'full',
      async () => {
        limit = ((await sqlite.pragma('max_page_count')) as Array<{ max_page_count: number }>)[0].max_page_count;
        // Participants that will send the same first report as the one to be refused (the same tables, indexes and
        // counts to write), joined while the disk still has room.
        const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
        // In the same room: where a report's index entries go depends on its room.
        const alike: Array<{ sessionToken: string; url: string }> = [];
        for (let i = 0; i < 300; i++) {
          const g = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: `alike${i}`, clientMaxSize: 1000 });
          alike.push({ sessionToken: g.sessionToken, url: `${server.serverUrl}/rooms/${room}` });
        }
        const pages = ((await sqlite.pragma('page_count')) as Array<{ page_count: number }>)[0].page_count;
        await sqlite.pragma(`max_page_count = ${pages}`);
        // Another participant reports until the file would have to grow; then the alike ones report until 20 in a
        // row are refused: from then on the disk is "full" for such a report too.
        const filler = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'filler', clientMaxSize: 1000 }).catch(() => undefined);
        let n = 0;
        for (const body of filler ? reportWalk(3) : []) {
          if (++n > 5000) break;
          const a = await post(`${server.serverUrl}/rooms/${room}`, body, { basic: filler!.sessionToken });
          if (a.status === 503) break;
          expect(a.status).toBe(204);
        }
        let refusedInARow = 0;
        for (const a of alike) {
          const answer = await post(a.url, STATUS, { basic: a.sessionToken });
          refusedInARow = answer.status === 503 ? refusedInARow + 1 : 0;
          if (refusedInARow >= 20) return;
        }
        throw new Error('the database never filled up');
      },
      () => sqlite.pragma(`max_page_count = ${limit}`).then(() => {}),
      true,
    );
  });

  it('a read-only database', async () => {
    await outage(
      'readonly',
      () => sqlite.pragma('query_only = ON').then(() => {}),
      () => sqlite.pragma('query_only = OFF').then(() => {}),
    );
  });

  it('a 503 is also what a closed store gives, and the server stays up', async () => {
    const a = await raw(`${server.serverUrl}/stats`);
    expect(a.status).toBe(200);
  });
});
