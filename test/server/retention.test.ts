// Retention (--retain-days) and schema migrations.
import { createRoom, createRoomSession, joinRoom, registerHawkSession } from '../../src/index';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { SQLITE_MIGRATIONS } from '../../src/server/store/sqlite/migrations';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import type { Stats } from '../../src/server/store';
import { FOLD_GRACE_MS } from '../../src/server/store/common/fold';
import { HOUR_MS } from '../../src/server/store/common/rollups';
import type { TrafficSnapshot } from '../../src/traffic/wire';
import { STORES, freshSqlite } from '../support/stores';
import { countReports, expectError, post, raw, startServer } from './helpers';

const DAY = 86_400_000;

describe.each(STORES)('retention (%s)', (_name, factory) => {
  it('reports and ended sessions older than --retain-days go; tokens of removed sessions become unknown; counters stay; old minutes fold into hours', async () => {
    let offset = 0;
    const started = Date.now();
    const server = await startServer(factory, { retainDays: 90, now: () => Date.now() + offset });
    try {
      const owner = await registerHawkSession(server.serverUrl);
      const room = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'r', roomOwner: 'o', expiresIn: 720 })).roomToken;
      const old = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'old' });
      const session = createRoomSession({ roomToken: room, serverUrl: server.serverUrl, auth: { type: 'basic', sessionToken: old.sessionToken } });
      for (const row of WORKED_EXAMPLE.slice(0, 3)) session.send({ type: row.event });
      expect((await session.leave()).ok).toBe(true);
      session.stop();
      expect(await countReports(server)).toBe(3);
      const before = (await raw(`${server.origin}/metrics`)).text.split('\n').filter((l) => l.startsWith('loop_room_status_reports_total{'));

      offset = 10 * DAY;
      const recent = await joinRoom({ serverUrl: server.serverUrl, roomToken: room, displayName: 'recent' });
      expect((await post(`${server.serverUrl}/rooms/${room}`, { action: 'status', ...WORKED_EXAMPLE[0] }, { basic: recent.sessionToken })).status).toBe(204);

      offset = 91 * DAY;
      await server.room.sweep();
      // The old session is gone with its reports; the recent one's report stays.
      expect(await countReports(server)).toBe(1);
      expect(await server.fresh.store.getSession(old.roomConnectionId)).toBeUndefined();
      // The operator's log says what went (3 reports, the ended session; no token in the line).
      expect(server.logs.filter((l) => l.includes('retention'))).toEqual([expect.stringMatching(/^server: retention \(90 days\) deleted 3 report\(s\), 1 session\(s\), \d+ room\(s\), \d+ Hawk session\(s\)$/)]);
      // (The room itself expired after 30 days: a fresh room shows the token is now unknown, not ended.)
      // (The owner's Hawk session was last used longer ago than the retention, but it owns that room, still kept.)
      expect((await post(`${server.serverUrl}/rooms`, { roomName: 'x', roomOwner: 'o', maxSize: 2 }, { hawk: owner.credentials })).status).toBe(201);
      const owner2 = await registerHawkSession(server.serverUrl);
      const fresh = (await createRoom({ serverUrl: server.serverUrl, credentials: owner2.credentials, roomName: 'new', roomOwner: 'o' })).roomToken;
      expectError(await post(`${server.serverUrl}/rooms/${fresh}`, { action: 'leave' }, { basic: old.sessionToken }), 401, 110);
      // Running totals survive retention (Prometheus counters do not go down).
      const after = (await raw(`${server.origin}/metrics`)).text.split('\n').filter((l) => l.startsWith('loop_room_status_reports_total{'));
      const series = (lines: string[]) => new Map(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
      const [b, a] = [series(before), series(after)];
      expect(b.size).toBeGreaterThan(0);
      for (const [key, value] of b) expect([key, a.get(key)! >= value]).toEqual([key, true]);
      // The recent participant expired meanwhile (no request for 81 days) and was ended by the sweep.
      expect((await server.fresh.store.getSession(recent.roomConnectionId))?.endReason).toBe('expired');

      // Minutes older than --minute-rollups-days (default 7) fold into hours once no read can count on them: the old
      // reports still count, by their hour, and the answer says so.
      offset = 91 * DAY + FOLD_GRACE_MS + 1000;
      await server.room.sweep();
      const window = `since=${new Date(started - 60_000).toISOString()}&until=${new Date(started + 60_000).toISOString()}`;
      const stats = JSON.parse((await raw(`${server.serverUrl}/stats?${window}`)).text) as Stats;
      const hour = (ms: number, up: boolean) => new Date((up ? Math.ceil : Math.floor)(ms / HOUR_MS) * HOUR_MS).toISOString();
      expect({ bucketSeconds: stats.bucketSeconds, counted: stats.counted }).toEqual({ bucketSeconds: 3600, counted: { since: hour(started - 60_000, false), until: hour(started + 60_000, true) } });
      expect(stats.transitions.reduce((n, t) => n + t.count, 0)).toBe(3);
      const traffic = JSON.parse((await raw(`${server.serverUrl}/traffic?${window}`)).text) as TrafficSnapshot;
      expect([traffic.since, traffic.until]).toEqual([stats.counted.since, stats.counted.until]);
    } finally {
      await server.stop();
    }
  });
});

describe('schema migrations (sqlite)', () => {
  it('applies each version once, records it, and refuses a database newer than it knows', async () => {
    const f = await freshSqlite();
    try {
      expect(await f.store.schemaVersion()).toBe(Math.max(...SQLITE_MIGRATIONS.map((m) => m.version)));
      await f.sqlite.close();
      const again = new SqliteStore({ path: f.path });
      await again.open();
      expect(await again.schemaVersion()).toBe(SQLITE_MIGRATIONS.length);
      await again.close();
      const Database = loadBetterSqlite3();
      const db = new Database(f.path);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(999, 'future', Date.now());
      db.close();
      const newer = new SqliteStore({ path: f.path });
      await expect(newer.open()).rejects.toThrow(/newer than this server knows/);
      await newer.close();
    } finally {
      await f.cleanup();
    }
  });
});
