// `loop-room-state export` (server spec section 3): it streams in flat memory however slow the reader, and it never
// changes the store it reads: an older schema is read as it is, a newer or foreign database refused with a message.
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBetterSqlite3 } from '../../src/server/peers';
import { loadPg } from '../../src/server/store/postgres/connection';
import { POSTGRES_MIGRATIONS } from '../../src/server/store/postgres/migrations';
import { createPostgresStore } from '../../src/server/store/postgres/store';
import { SQLITE_MIGRATIONS } from '../../src/server/store/sqlite/migrations';
import { SqliteStore } from '../../src/server/store/sqlite/store';
import { pgAvailable, sharedPgCluster } from '../support/postgres';
import { CLI, ROOT, requireBuilt, runCli } from './process';

let dir: string;
beforeAll(() => {
  requireBuilt();
  dir = mkdtempSync(join(tmpdir(), 'loop-room-export-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** When the reports these tests store were received (the n-th one n ms later). */
const EXPORT_BASE = Date.parse('2026-01-01T00:00:00Z');

const REPORT_SQL =
  "INSERT INTO reports (session, seq, room, received_at, from_state, event, state, connections, send_streams, recv_streams, verdict, expected) VALUES (?, ?, 'room-token', ?, 'init', 'Session.connectionCreated', 'waiting', 1, 0, 0, 'conformant', NULL)";

/** A SQLite database made by the store with the migrations up to `version`, holding `n` reports. */
async function sqliteAt(version: number, n: number, name = `v${version}-${n}.db`): Promise<string> {
  const path = join(dir, name);
  const store = new SqliteStore({ path, migrations: SQLITE_MIGRATIONS.filter((m) => m.version <= version) });
  await store.open();
  await store.close();
  const db = new (loadBetterSqlite3())(path);
  const insert = db.prepare(REPORT_SQL);
  db.transaction(() => {
    // The secret a server made on its first start: export shows rooms by their HMAC under it.
    db.prepare("INSERT INTO settings (name, value) VALUES ('secret', 'export-test-secret')").run();
    for (let i = 0; i < n; i++) insert.run(`session-${Math.floor(i / 15)}`, (i % 15) + 1, EXPORT_BASE + i);
  })();
  db.close();
  return path;
}

/** Reports 0..n-1 as REPORT_SQL stores them, in one PostgreSQL statement (`first`: the number of the first). */
const PG_REPORTS = (n: number, first = 0) =>
  `INSERT INTO reports (session, seq, room, received_at, from_state, event, state, connections, send_streams, recv_streams, verdict, expected)
   SELECT 'session-' || (g / 15), (g % 15) + 1, 'room-token', ${EXPORT_BASE} + g, 'init', 'Session.connectionCreated', 'waiting', 1, 0, 0, 'conformant', NULL
   FROM generate_series(${first}, ${first + n - 1}) AS g`;

/** `work` on a pool of one connection to the database at `url`, ended afterwards. */
async function onDatabase<T>(url: string, work: (pool: import('pg').Pool) => Promise<T>): Promise<T> {
  const pool = new (loadPg().Pool)({ connectionString: url, max: 1 });
  try {
    return await work(pool);
  } finally {
    await pool.end();
  }
}

/** A PostgreSQL database made by the store (current schema) with a secret and `n` reports; its URL. */
async function postgresWith(n: number): Promise<string> {
  const url = await (await sharedPgCluster()).createDatabase();
  const store = createPostgresStore(url);
  await store.open();
  await store.close();
  await onDatabase(url, async (pool) => {
    await pool.query("INSERT INTO settings (name, value) VALUES ('secret', 'export-test-secret')");
    if (n > 0) await pool.query(PG_REPORTS(n));
  });
  return url;
}

/**
 * The database's content: its main file's hash, and what its write-ahead log holds. (A reader of a WAL database
 * may leave an empty -wal and a -shm index behind, as SQLite's readers do; neither changes what is stored.)
 */
function files(path: string): { main: string; wal: number } {
  const wal = readdirSync(dir).includes(`${path.split('/').pop()}-wal`) ? readFileSync(`${path}-wal`).length : 0;
  return { main: createHash('sha256').update(readFileSync(path)).digest('hex'), wal };
}

describe('export never changes the store it reads', () => {
  it.each([1, 2, 3])('reads a SQLite database at schema version %i as it is, leaving it byte for byte unmodified', async (version) => {
    const path = await sqliteAt(version, 40);
    const before = files(path);
    const out = await runCli(['export', '--db', path]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(40);
    expect(lines[0]).toMatchObject({ session: 'session-0', seq: 1, report: { action: 'status', event: 'Session.connectionCreated' }, verdict: 'conformant' });
    expect(files(path)).toEqual(before);
    const db = new (loadBetterSqlite3())(path, { readonly: true });
    expect(db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get()).toEqual({ v: version });
    db.close();
  });

  it('rooms are ids under the stored secret, and a store without one (its server had LOOP_ROOM_STATE_SECRET) needs the same variable', async () => {
    const path = await sqliteAt(3, 2, 'secret.db');
    const out = await runCli(['export', '--db', path]);
    const { Hmacs } = await import('../../src/server/secrets');
    expect(JSON.parse(out.stdout.split('\n')[0]).room).toBe(new Hmacs('export-test-secret').roomId('room-token'));
    const db = new (loadBetterSqlite3())(path);
    db.prepare("DELETE FROM settings WHERE name = 'secret'").run();
    db.close();
    const before = files(path);
    const refused = await runCli(['export', '--db', path]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/no server secret.*LOOP_ROOM_STATE_SECRET/);
    expect(files(path)).toEqual(before);
  });

  it('refuses a database newer than it knows, and one that is not a loop-room-state database, with a message', async () => {
    const newer = await sqliteAt(SQLITE_MIGRATIONS.at(-1)!.version, 1, 'newer.db');
    const db = new (loadBetterSqlite3())(newer);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)').run('from the future');
    db.close();
    const before = files(newer);
    const refused = await runCli(['export', '--db', newer]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/schema version 99, newer than this server knows/);
    expect(refused.stdout).toBe('');
    expect(files(newer)).toEqual(before);

    const foreign = join(dir, 'foreign.db');
    const f = new (loadBetterSqlite3())(foreign);
    f.exec('CREATE TABLE notes (text TEXT)');
    f.close();
    const other = await runCli(['export', '--db', foreign]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/not a loop-room-state database/);
  });

  (pgAvailable() ? it : it.skip)('reads a PostgreSQL database at schema version 3 without migrating it', async () => {
    const url = await (await sharedPgCluster()).createDatabase();
    const old = createPostgresStore(url, { migrations: POSTGRES_MIGRATIONS.filter((m) => m.version <= 3) });
    await old.open();
    await old.close();
    const pool = new (loadPg().Pool)({ connectionString: url, max: 1 });
    try {
      await pool.query("INSERT INTO settings (name, value) VALUES ('secret', 'export-test-secret')");
      await pool.query(REPORT_SQL.replace(/\?/g, (_, i: number) => `$${REPORT_SQL.slice(0, i).split('?').length}`), ['s-1', 1, 1_700_000_000_000]);
      const out = await runCli(['export', '--store', url]);
      expect(out.code).toBe(0);
      expect(out.stdout.trim().split('\n').map((l) => JSON.parse(l).session)).toEqual(['s-1']);
      expect((await pool.query('SELECT max(version) AS v FROM schema_migrations')).rows[0].v).toBe(3);
      expect((await pool.query("SELECT to_regclass('rollups') AS t")).rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });
});

/**
 * Export is one snapshot, as a property: a store of n reports (more than one page or batch, so the export reads the
 * database again after the writes) is exported while reports are stored and retention deletes some, each once the
 * export has given a chosen share of the rows; the export gives exactly the rows stored when it began, in order.
 */
async function exportIsOneSnapshot(db: {
  reset(): Promise<void>;
  store(n: number, first: number): Promise<void>;
  rows(): Promise<Array<{ session: string; seq: number }>>;
  reader(): Promise<{ exportReports: SqliteStore['exportReports']; close(): Promise<void> }>;
  retain(before: number): Promise<unknown>;
}): Promise<void> {
  const key = (r: { session: string; seq: number }) => `${r.session}/${r.seq}`;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1001, max: 3500 }),
      fc.array(
        fc.record({
          at: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
          op: fc.oneof(fc.record({ store: fc.integer({ min: 1, max: 40 }) }), fc.record({ retainBelow: fc.double({ min: 0, max: 1, noNaN: true }) })),
        }),
        { minLength: 1, maxLength: 5 },
      ),
      async (n, ops) => {
        await db.reset();
        await db.store(n, 0);
        const expected = (await db.rows()).map(key);
        const reader = await db.reader();
        let next = n;
        try {
          // Each write happens once the export has given `at` of the rows (at least one: the export has begun).
          const steps = ops.map((o) => ({ ...o, after: 1 + Math.floor(o.at * (n - 1)) })).sort((a, b) => a.after - b.after);
          const got: string[] = [];
          for await (const r of reader.exportReports({})) {
            got.push(key(r));
            while (steps.length && steps[0].after === got.length) {
              const { op } = steps.shift()!;
              if ('store' in op) {
                await db.store(op.store, next);
                next += op.store;
              } else await db.retain(EXPORT_BASE + Math.floor(op.retainBelow * n));
            }
          }
          expect(got).toEqual(expected);
        } finally {
          await reader.close();
        }
      },
    ),
    { numRuns: 12 },
  );
}

describe('export of a SQLite store', () => {
  it('is one snapshot: reports stored or deleted while it runs are not in it, and none is missed or repeated', async () => {
    const path = await sqliteAt(SQLITE_MIGRATIONS.length, 0, 'snapshot.db');
    const writer = new SqliteStore({ path });
    await writer.open();
    const db = new (loadBetterSqlite3())(path);
    const insert = db.prepare(REPORT_SQL);
    const store = db.transaction((n: number, first: number) => {
      for (let i = first; i < first + n; i++) insert.run(`session-${Math.floor(i / 15)}`, (i % 15) + 1, EXPORT_BASE + i);
    });
    try {
      await exportIsOneSnapshot({
        reset: async () => void db.exec('DELETE FROM reports'),
        store: async (n, first) => store(n, first),
        rows: async () => db.prepare('SELECT session, seq FROM reports ORDER BY id').all() as Array<{ session: string; seq: number }>,
        reader: async () => {
          const reader = new SqliteStore({ path });
          await reader.openReadOnly();
          return reader;
        },
        retain: (before) => writer.retain(before),
      });
    } finally {
      db.close();
      await writer.close();
    }
  });
});

(pgAvailable() ? describe : describe.skip)('export of a PostgreSQL store', () => {
  it('refuses a database newer than it knows, and one that is not a loop-room-state database, leaving both as they were', async () => {
    const url = await postgresWith(3);
    await onDatabase(url, async (pool) => {
      await pool.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)");
      const refused = await runCli(['export', '--store', url]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/schema version 99, newer than this server knows/);
      expect(refused.stdout).toBe('');
      expect((await pool.query('SELECT max(version) AS v, count(*)::int AS n FROM schema_migrations')).rows[0]).toEqual({ v: 99, n: POSTGRES_MIGRATIONS.length + 1 });
    });
    const foreign = await (await sharedPgCluster()).createDatabase();
    const other = await runCli(['export', '--store', foreign]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/not a loop-room-state database/);
    const tables = await onDatabase(foreign, async (pool) => (await pool.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n);
    expect(tables).toBe(0);
  });

  it('opened read-only, the store writes nothing: PostgreSQL refuses a write on its connections', async () => {
    const url = await postgresWith(1);
    const reader = createPostgresStore(url);
    await reader.openReadOnly();
    try {
      const room = { token: 'r', name: 'n', owner: 'o', ownerHmac: 'h', maxSize: 2, createdAt: 0, expiresAt: 1 };
      await expect(reader.createRoom(room)).rejects.toThrow(/read-only transaction/);
      expect(await reader.getRoom('r')).toBeUndefined();
    } finally {
      await reader.close();
    }
  });

  it('is one snapshot: reports stored or deleted while it runs are not in it, and none is missed or repeated', async () => {
    const url = await postgresWith(0);
    const writer = createPostgresStore(url);
    await writer.open();
    const pool = new (loadPg().Pool)({ connectionString: url, max: 1 });
    try {
      await exportIsOneSnapshot({
        reset: async () => void (await pool.query('TRUNCATE reports')),
        store: async (n, first) => void (await pool.query(PG_REPORTS(n, first))),
        rows: async () => (await pool.query('SELECT session, seq FROM reports ORDER BY id')).rows,
        reader: async () => {
          const reader = createPostgresStore(url);
          await reader.openReadOnly();
          return reader;
        },
        retain: (before) => writer.retain(before),
      });
    } finally {
      await pool.end();
      await writer.close();
    }
  }, 120_000);
});

/** Peak resident memory (kB) of a running process, from Linux's /proc (VmHWM); 0 once it is gone. */
function peakKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Exports (`args`: --db PATH or --store URL) to a reader that reads nothing for `stallMs`, then everything; the child's
 * peak RSS, the bytes read, its exit code and stderr.
 */
function slowExport(args: string[], stallMs: number): Promise<{ peakKb: number; bytes: number; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'export', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let bytes = 0;
    let stderr = '';
    const watch = setInterval(() => (peak = Math.max(peak, peakKb(child.pid!))), 50);
    child.stdout.pause();
    setTimeout(() => {
      child.stdout.on('data', (d: Buffer) => {
        bytes += d.length;
        peak = Math.max(peak, peakKb(child.pid!));
      });
      child.stdout.resume();
    }, stallMs);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(watch);
      resolve({ peakKb: peak, bytes, code, stderr });
    });
  });
}

/** The stores to export 300,000 reports from, as export's arguments. */
const BIG: Array<[string, () => Promise<string[]>]> = [
  ['SQLite', async () => ['--db', await sqliteAt(3, 300_000, 'big.db')]],
  // Every statement may take 2 s: one fetch takes milliseconds, the whole export longer than the reader's 3 s stall, so
  // the export only finishes if the stall counts toward no statement (as it would with pg-cursor's portal).
  ...(pgAvailable() ? [['PostgreSQL', async () => ['--store', `${await postgresWith(300_000)}?statement_timeout_ms=2000`]] as [string, () => Promise<string[]>]] : []),
];

describe('export streams in flat memory', () => {
  it.each(BIG)('a reader that stalls holds the export back instead of filling its memory (%s)', async (_name, args) => {
    const slow = await slowExport(await args(), 3000);
    expect(slow).toMatchObject({ code: 0, stderr: '' });
    // About 70 MB of output, all read in the end. A reader that reads nothing for 3 s (the export alone takes about
    // that long) must not make the exporter hold the output: its peak RSS (about 110 MB here, the same at 3x the
    // data) stays well below twice the output's size; without back-pressure it was over 5x (370 MB).
    expect(slow.bytes).toBeGreaterThan(60 * 1024 * 1024);
    expect(slow.peakKb * 1024).toBeLessThan(2 * slow.bytes);
  }, 120_000);

  (pgAvailable() ? it : it.skip)("a database that ends idle transactions ends a stalled export, and export says which setting did", async () => {
    const url = await postgresWith(5000);
    const idle = `${url}?options=${encodeURIComponent('-c idle_in_transaction_session_timeout=1000')}`;
    const stalled = await slowExport(['--store', idle], 3000);
    expect(stalled.code).toBe(1);
    expect(stalled.stderr).toMatch(/^loop-room-state export: PostgreSQL ended the export: .*idle_in_transaction_session_timeout/);
    // A reader that keeps up is never idle that long.
    const out = await runCli(['export', '--store', idle]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout.trim().split('\n')).toHaveLength(5000);
  }, 60_000);
});
