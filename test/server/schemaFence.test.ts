// The schema fence (D-145): during a rolling upgrade the first new process migrates the shared database while
// older ones still run. From the migration's commit an older process's writes are refused (503: its client retries
// elsewhere), its reads go on, and nothing it was told is stored goes missing. On PostgreSQL the migration also
// runs without the pool's statement and lock timeouts. Two store instances stand for two server processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoomState } from '../../machines/domain';
import { StoreUnavailableError, type Migration, type SessionRecord, type Stats, type Store } from '../../src/server/store';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { ThreadedSqliteStore } from '../../src/server/store/sqlite/threaded';
import { SQLITE_MIGRATIONS } from '../../src/server/store/sqlite/migrations';
import { POSTGRES_MIGRATIONS } from '../../src/server/store/postgres/migrations';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { loadPg } from '../../src/server/store/postgres/connection';
import { FENCED_SQLSTATE, fenceOptions, fencedTables } from '../../src/server/store/postgres/fence';
import { transaction } from '../../src/server/store/postgres/transaction';
import { schemaMovedOn } from '../../src/server/store/common/migrate';
import { pgAvailable, sharedPgCluster } from '../support/postgres';
import { roomRecord, sessionRecord } from './records';

interface Generations {
  /** A store of the process before the upgrade: this code, at the newest version it knows. */
  older(): Promise<Store>;
  /** A store of the process after it (the current migrations, UPGRADE, then `extra`): opening it migrates. */
  newer(extra?: Migration[]): Promise<Store>;
  cleanup(): Promise<void>;
}

/**
 * The upgrade the tests go through: one version past what this code knows. The older process is this code at its
 * own version, not at an earlier one: its statements name every column of its version (schema version 9 added one
 * to the sessions), so it cannot stand for a process of version 8.
 */
const LAST = SQLITE_MIGRATIONS.at(-1)!.version + 1;
const UPGRADE: Migration = { version: LAST, name: 'the upgrade', statements: ['CREATE INDEX upgrade_rooms ON rooms (owner)'] };

function sqliteGenerations(): Generations {
  const dir = mkdtempSync(join(tmpdir(), 'loop-room-fence-'));
  const path = join(dir, 'rooms.db');
  const opened: Store[] = [];
  const open = async (s: Store) => (opened.push(s), await s.open(), s);
  return {
    // What serve runs; the newer one is in-thread (the worker takes the store's own migrations, without UPGRADE).
    older: () => open(new ThreadedSqliteStore({ path })),
    newer: (extra = []) => open(new SqliteStore({ path, migrations: [...SQLITE_MIGRATIONS, UPGRADE, ...extra] })),
    cleanup: async () => {
      for (const s of opened) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresGenerations(query = ''): Promise<Generations & { url: string }> {
  const url = await (await sharedPgCluster()).createDatabase();
  const opened: Store[] = [];
  const open = async (s: Store) => (opened.push(s), await s.open(), s);
  return {
    url,
    older: () => open(createPostgresStore(`${url}${query}`)),
    newer: (extra = []) => open(createPostgresStore(`${url}${query}`, { migrations: [...POSTGRES_MIGRATIONS, UPGRADE, ...extra] })),
    cleanup: async () => {
      for (const s of opened) await s.close();
    },
  };
}

const GENERATIONS: Array<[string, () => Promise<Generations>]> = [['sqlite', async () => sqliteGenerations()], ...(pgAvailable() ? [['postgres', postgresGenerations] as [string, () => Promise<Generations>]] : [])];

/** A report moving the session to `state`, counted in the session's rollups like any other. */
const report = (state: RoomState) => (cur: SessionRecord) => ({
  kind: 'apply' as const,
  value: cur.reportCount + 1,
  changes: { snapshot: { ...cur.snapshot, state } },
  report: {
    receivedAt: 2000 + cur.reportCount,
    fromState: cur.snapshot.state,
    fields: { event: 'e', state, connections: 0, sendStreams: 0, recvStreams: 0 },
    verdict: 'wrong-state' as const,
    labels: { from: cur.snapshot.state, event: 'other', state, verdict: 'wrong-state' as const },
  },
});

async function joined(store: Store): Promise<SessionRecord> {
  const room = roomRecord();
  await store.createRoom(room);
  const s = sessionRecord(room.token);
  await store.joinRoom(room.token, () => ({ kind: 'apply', value: s.id, end: [], create: s }));
  return s;
}

/** Reports counted in the rollups, all verdicts. */
const reportsCounted = (stats: Stats) => stats.verdicts.reduce((n, v) => n + v.count, 0);

const refused = (p: Promise<unknown>) =>
  expect(p).rejects.toMatchObject({ name: StoreUnavailableError.name, message: expect.stringContaining(`migrated to schema version ${LAST} by a newer loop-room-state; this process knows ${LAST - 1}`) });

describe.each(GENERATIONS)('the schema fence (%s)', (_name, generations) => {
  let g: Generations;
  beforeEach(async () => {
    g = await generations();
  });
  afterEach(() => g.cleanup());

  it("refuses an older process's writes once a newer one migrated the database; its reads go on", async () => {
    const older = await g.older();
    const s = await joined(older);
    expect(await older.updateSession(s.id, report('waiting'))).toBe(1);

    const newer = await g.newer();
    await refused(older.updateSession(s.id, report('init')));
    await refused(older.createRoom(roomRecord()));
    await refused(older.createHawkSession({ idHmac: 'h', key: 'k', createdAt: 1, lastUsedAt: 1 }));
    // Reads are not fenced: the older process answers what it can until it is stopped.
    expect((await older.getSession(s.id))?.reportCount).toBe(1);

    // The newer process writes on; what the older one was refused is nowhere.
    expect(await newer.updateSession(s.id, report('init'))).toBe(2);
    expect((await newer.sessionReports(s.id)).map((r) => r.fields.state)).toEqual(['waiting', 'init']);
    expect(reportsCounted(await newer.stats({}))).toBe(2);
  });

  it('keeps every write the older process was told is stored while the newer one migrates, and refuses the rest', async () => {
    const older = await g.older();
    const s = await joined(older);
    const told: number[] = [];
    let refusals = 0;
    let migrated = false;
    let startedAfter = 0;
    let toldAfter = 0;
    // The older process reports on, one after the other, through the migration and five times after it.
    const writing = (async () => {
      const deadline = Date.now() + 30_000;
      while (startedAfter < 5 && Date.now() < deadline) {
        const after = migrated;
        if (after) startedAfter++;
        try {
          told.push((await older.updateSession(s.id, report(told.length % 2 ? 'init' : 'waiting'))) as number);
          if (after) toldAfter++;
        } catch (err) {
          // Refused by the fence, or (before it) waiting too long for the migration's lock: unavailable either way.
          expect(err).toBeInstanceOf(StoreUnavailableError);
          refusals++;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    const newer = await g.newer();
    migrated = true;
    await writing;
    expect(startedAfter).toBe(5);
    expect(toldAfter).toBe(0);
    expect(refusals).toBeGreaterThanOrEqual(5);
    expect(told.length).toBeGreaterThan(0);
    // Each report the older process was told about is stored once, in order; none it was refused.
    expect(told).toEqual(told.map((_, i) => i + 1));
    expect((await newer.getSession(s.id))?.reportCount).toBe(told.length);
    expect((await newer.sessionReports(s.id)).length).toBe(told.length);
    expect(reportsCounted(await newer.stats({}))).toBe(told.length);
  });

  it('fences the next migration the same way: a process of this version is refused by a database migrated past it', async () => {
    const current = await g.newer();
    const s = await joined(current);
    const next: Migration = { version: LAST + 1, name: 'a later version', statements: ['CREATE INDEX later_rooms ON rooms (name)'] };
    const later = await g.newer([next]);
    await expect(current.updateSession(s.id, report('waiting'))).rejects.toMatchObject({
      name: StoreUnavailableError.name,
      message: expect.stringContaining(`schema version ${LAST + 1} by a newer loop-room-state; this process knows ${LAST}`),
    });
    expect(await later.updateSession(s.id, report('waiting'))).toBe(1);
  });
});

(pgAvailable() ? describe : describe.skip)('PostgreSQL migrations', () => {
  it('run without the pool timeouts: a migration, and a process waiting for it, may take longer than any request', async () => {
    const g = await postgresGenerations('?statement_timeout_ms=100&lock_timeout_ms=100');
    try {
      const slow: Migration = { version: LAST + 1, name: 'slow', statements: ['SELECT pg_sleep(0.5)'] };
      // Two processes started together: one migrates, the other waits for it longer than any request may.
      const [a, b] = await Promise.all([g.newer([slow]), g.newer([slow])]);
      expect(await a.schemaVersion()).toBe(LAST + 1);
      expect(await b.schemaVersion()).toBe(LAST + 1);
    } finally {
      await g.cleanup();
    }
  });

  it('migrate while an older process stores reports from many sessions at once: no deadlock with its report batches', async () => {
    const g = await postgresGenerations();
    try {
      const older = await g.older();
      const sessions = await Promise.all(Array.from({ length: 24 }, () => joined(older)));
      let migrating = true;
      let stored = 0;
      // Every session reports on, all at once, until the newer process has migrated (and then is refused).
      const writers = sessions.map(async (s, i) => {
        while (migrating) {
          try {
            await older.updateSession(s.id, report(i % 2 ? 'init' : 'waiting'));
            stored++;
          } catch (err) {
            expect(err).toBeInstanceOf(StoreUnavailableError);
            await new Promise((r) => setTimeout(r, 5));
          }
        }
      });
      await new Promise((r) => setTimeout(r, 100));
      // The upgrade alters the sessions table the report batches update (as schema version 9 did).
      const alter: Migration = { version: LAST + 1, name: 'alter sessions', statements: ['ALTER TABLE sessions ADD COLUMN upgrade_extra INTEGER'] };
      const newer = await g.newer([alter]).finally(() => (migrating = false));
      await Promise.all(writers);
      expect(await newer.schemaVersion()).toBe(LAST + 1);
      expect(stored).toBeGreaterThan(0);
    } finally {
      await g.cleanup();
    }
  });

  it("refuse an older process's write over a sound connection: it goes back to the pool, and the log says why", async () => {
    const g = await postgresGenerations();
    await g.newer();
    const pg = loadPg();
    const pool = new pg.Pool({ connectionString: g.url, max: 1, options: fenceOptions(LAST - 1) });
    let connections = 0;
    pool.on('connect', () => connections++);
    const lines: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const write = transaction(() => pool, (line) => lines.push(line), 'a write', (c) => c.query("INSERT INTO settings (name, value) VALUES ('x', 'y')"));
        await expect(write).rejects.toBeInstanceOf(StoreUnavailableError);
      }
      expect(connections).toBe(1);
      expect(lines).toEqual(Array(5).fill(`postgres: a write refused: ${FENCED_SQLSTATE}: ${schemaMovedOn(LAST, LAST - 1)}`));
    } finally {
      await pool.end();
      await g.cleanup();
    }
  });

  it("log a refused single-statement write (a room, a Hawk session) as they log a refused transaction", async () => {
    const g = await postgresGenerations();
    try {
      const lines: string[] = [];
      const older = createPostgresStore(g.url, { log: (line) => lines.push(line) });
      await older.open();
      await g.newer();
      try {
        await expect(older.createRoom(roomRecord())).rejects.toBeInstanceOf(StoreUnavailableError);
        expect(lines).toContain(`postgres: create room refused: ${FENCED_SQLSTATE}: ${schemaMovedOn(LAST, LAST - 1)}`);
      } finally {
        await older.close();
      }
    } finally {
      await g.cleanup();
    }
  });

  it('end their connections when a start is refused (a database newer than this version), so the process can exit', async () => {
    const g = await postgresGenerations();
    const next: Migration = { version: LAST + 1, name: 'a later version', statements: ['SELECT 1'] };
    await (await g.newer([next])).close();
    const pg = loadPg();
    const watcher = new pg.Client({ connectionString: g.url });
    await watcher.connect();
    try {
      const current = createPostgresStore(g.url);
      await expect(current.open()).rejects.toThrow(/newer than this/);
      const others = await watcher.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
      expect(others.rows[0].n).toBe(0);
    } finally {
      await watcher.end();
      await g.cleanup();
    }
  });

  it('fence every table the migrations create; a connection that names no version (an operator) writes as before', async () => {
    const g = await postgresGenerations();
    const pool = new (loadPg().Pool)({ connectionString: g.url, max: 1 });
    try {
      await g.newer();
      const fenced = (await pool.query("SELECT c.relname AS t FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = 'loop_room_fence' ORDER BY 1")).rows.map((r) => r.t);
      const tables = fencedTables(POSTGRES_MIGRATIONS);
      expect(tables).toEqual(expect.arrayContaining(['reports', 'sessions', 'rooms', 'rollups', 'hawk_sessions', 'hawk_nonces', 'report_totals', 'settings']));
      expect(fenced).toEqual([...tables].sort());
      await pool.query("INSERT INTO settings (name, value) VALUES ('by-hand', 'x')");
      expect((await pool.query("DELETE FROM settings WHERE name = 'by-hand'")).rowCount).toBe(1);
    } finally {
      await pool.end();
      await g.cleanup();
    }
  });
});
