// The sweep's store work at volume (D-143), on both stores filled through the store API (set-up, not measured: no
// fsync on the filler). Two same-run comparisons:
// - one sweep (expiry, retention, folding) that finds nothing to delete, by sessions stored, with the sweep's indexes
//   and again after dropping the rooms' and sessions' ones: 1% of the rooms expired long ago but keep one session ended
//   lately, the last ones stored, so a room that may go must be looked up among all sessions;
// - retention catching up on old reports while reports are stored: the longest wait of a report, with retention in
//   one statement (a step as large as everything, as before D-143) and in steps of RETAIN_STEP_ROWS.
// Sizes: BENCH_SWEEP_SIZES (sessions, default 10000,100000), BENCH_SWEEP_OLD (old reports, default 50000),
// BENCH_SWEEP_STORES (default sqlite,postgres).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmt, importSources, median, printTable } from './harness.mjs';

const SIZES = (process.env.BENCH_SWEEP_SIZES ?? '10000,100000').split(',').map(Number);
const OLD = Number(process.env.BENCH_SWEEP_OLD ?? 50000);
const STORES = (process.env.BENCH_SWEEP_STORES ?? 'sqlite,postgres').split(',');
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const CUTOFF = NOW - 90 * DAY;
const SWEEPS = 7;
const CHAINS = 32;

export default async function run() {
  const lib = await importSources({
    SqliteStore: 'src/server/store/sqlite/store',
    createPostgresStore: 'src/server/store/postgres/store',
    pgAvailable: 'test/support/postgres',
    startPgCluster: 'test/support/postgres',
    loadPg: 'src/server/store/postgres/connection',
    RETAIN_STEP_ROWS: 'src/server/store/common/retention',
  });
  const work = mkdtempSync(join(tmpdir(), 'loop-room-bench10-'));
  const sweeps = [];
  const waits = [];
  try {
    for (const kind of STORES) {
      let cluster;
      const target = await (async () => {
        if (kind === 'sqlite') {
          let n = 0;
          return {
            name: 'SQLite',
            fresh: async () => {
              const path = join(work, `sweep-${n++}.db`);
              const store = new lib.SqliteStore({ path });
              await store.open();
              store.pragma('synchronous = OFF');
              return { store, dropIndexes: () => rawSqlite(path, DROP) };
            },
          };
        }
        if (!lib.pgAvailable()) return undefined;
        cluster = await lib.startPgCluster({ fsync: false });
        return {
          name: 'PostgreSQL',
          fresh: async () => {
            const url = await cluster.createDatabase();
            const store = lib.createPostgresStore(`${url}?pool_size=${CHAINS + 4}`);
            await store.open();
            return { store, dropIndexes: () => rawPg(lib, url, DROP), analyze: () => rawPg(lib, url, ['ANALYZE']) };
          },
        };
      })();
      if (!target) {
        console.log('\n10-sweep: PostgreSQL left out (no server binaries; bash scripts/ensure-postgres.sh installs them)');
        continue;
      }
      try {
        const base = {};
        for (const size of SIZES) {
          const { store, dropIndexes, analyze } = await target.fresh();
          try {
            await fillRooms(store, size);
            await analyze?.();
            const indexed = await sweepMs(store);
            await dropIndexes();
            await analyze?.();
            const scanned = await sweepMs(store);
            base.indexed ??= indexed;
            base.scanned ??= scanned;
            sweeps.push({ store: target.name, sessions: size.toExponential(0), 'sweep ms, indexes': fmt(indexed, 1), 'ratio to smallest': fmt(indexed / base.indexed, 2), 'sweep ms, without the room lookups': fmt(scanned, 1), 'its ratio': fmt(scanned / base.scanned, 2) });
          } finally {
            await store.close();
          }
        }
        for (const [how, step] of [['one statement (before D-143)', 1e9], [`steps of ${lib.RETAIN_STEP_ROWS} rows`, lib.RETAIN_STEP_ROWS]]) {
          const { store } = await target.fresh();
          try {
            const live = await fillOld(store, OLD);
            const w = await waitsDuring(store, live, () => store.retain(CUTOFF, step));
            waits.push({ store: target.name, retention: how, 'old reports': OLD.toExponential(0), steps: w.result.steps, 'retention ms': fmt(w.ms, 0), 'reports stored meanwhile': w.count, 'report wait p50 ms': fmt(w.p50, 1), 'p99 ms': fmt(w.p99, 1), 'max ms': fmt(w.max, 1) });
          } finally {
            await store.close();
          }
        }
      } finally {
        await cluster?.destroy();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable(`One sweep that finds nothing to delete, by sessions stored (median of ${SWEEPS}; 1% of the rooms gone, each keeping its last session)`, sweeps);
  printTable(`Retention catching up on ${OLD} old reports while a participant stores reports one after another: how long each waited`, waits);
}

/** The rooms' and sessions' lookups of schema version 8 (SQLite's open-expiry index stays: expiry names it). */
const DROP = ['DROP INDEX sessions_room', 'DROP INDEX rooms_expires', 'DROP INDEX rooms_deleted'];

async function rawSqlite(path, statements) {
  const { createRequire } = await import('node:module');
  const Database = createRequire(import.meta.url)('better-sqlite3');
  const db = new Database(path);
  try {
    for (const s of statements) db.exec(s);
  } finally {
    db.close();
  }
}

async function rawPg(lib, url, statements) {
  const pool = new (lib.loadPg().Pool)({ connectionString: url, max: 1 });
  try {
    for (const s of statements) await pool.query(s);
  } finally {
    await pool.end();
  }
}

const newSession = (id, room, joinedAt, extra = {}) => ({
  id, room, kind: 'basic', participantHmac: `p-${id}`, tokenHmac: `t-${id}`, displayName: 'b', owner: false, joinedAt, expiresAt: NOW + DAY,
  snapshot: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }, firstReached: { init: joinedAt }, reportCount: 0, nonConformantCount: 0, ...extra,
});
const join1 = (store, s) => store.joinRoom(s.room, () => ({ kind: 'apply', value: s.id, end: [], create: s }));
const report = (at, end) => (cur) => {
  const state = cur.snapshot.state === 'init' ? 'waiting' : 'init';
  const snapshot = { ...cur.snapshot, state };
  return {
    kind: 'apply', value: null,
    changes: { snapshot, ...(end ? { endedAt: at, endReason: 'left', endState: state } : {}) },
    report: { receivedAt: at, fromState: cur.snapshot.state, fields: { event: 'Session.connectionCreated', ...snapshot }, verdict: 'conformant', labels: { from: cur.snapshot.state, event: 'Session.connectionCreated', state, verdict: 'conformant' } },
  };
};

/** Runs `n` tasks on CHAINS concurrent chains. */
async function chains(n, task) {
  let next = 0;
  await Promise.all(Array.from({ length: CHAINS }, async () => {
    for (let i = next++; i < n; i = next++) await task(i);
  }));
}

/**
 * `size` sessions ended within retention, ten to a room; 1% of the rooms expired before the cutoff, each keeping one
 * session ended after it, stored last; and a few open sessions, so that expiry has its lookup to make.
 */
async function fillRooms(store, size) {
  const rooms = Math.max(1, Math.floor(size / 10));
  const gone = Math.max(1, Math.floor(rooms / 100));
  await chains(rooms, (r) => store.createRoom({ token: `r${r}`, name: 'b', owner: 'o', ownerHmac: `o${r}`, maxSize: 100, createdAt: CUTOFF - 10 * DAY, expiresAt: r < gone ? CUTOFF - DAY : NOW + 30 * DAY }));
  const ended = NOW - DAY;
  // The gone rooms' sessions last (the last rows a scan reaches).
  await chains(size - gone, (i) => join1(store, newSession(`s${i}`, `r${gone + (i % (rooms - gone || 1))}`, ended - 1000, { endedAt: ended, endReason: 'left', endState: 'init' })));
  await chains(gone, (r) => join1(store, newSession(`g${r}`, `r${r}`, ended - 1000, { endedAt: ended, endReason: 'left', endState: 'init' })));
  await chains(100, (i) => join1(store, newSession(`open${i}`, `r${gone + (i % (rooms - gone || 1))}`, NOW - 1000)));
}

async function sweepMs(store) {
  const times = [];
  for (let i = 0; i < SWEEPS; i++) {
    const t = performance.now();
    await store.expireSessions(NOW);
    await store.retain(CUTOFF);
    await store.foldRollups(NOW - 7 * DAY, NOW);
    times.push(performance.now() - t);
  }
  return median(times);
}

/** `n` reports older than the cutoff, in ended sessions of 10 reports; a live session to report on; its id. */
async function fillOld(store, n) {
  await store.createRoom({ token: 'old', name: 'b', owner: 'o', ownerHmac: 'o', maxSize: 1e6, createdAt: CUTOFF - 30 * DAY, expiresAt: NOW + 30 * DAY });
  await chains(Math.ceil(n / 10), async (i) => {
    const at = CUTOFF - 20 * DAY + i * 1000;
    await join1(store, newSession(`o${i}`, 'old', at));
    for (let k = 0; k < 10; k++) await store.updateSession(`o${i}`, report(at + k * 10, k === 9));
  });
  await join1(store, newSession('live', 'old', NOW - 1000));
  return 'live';
}

/** Reports on `live` one after another while `work` runs: how long each waited, and how long `work` took. */
async function waitsDuring(store, live, work) {
  const lat = [];
  let done = false;
  let at = NOW;
  const t0 = performance.now();
  const job = work().then((result) => ((done = true), result));
  while (!done) {
    const t = performance.now();
    await store.updateSession(live, report(++at));
    lat.push(performance.now() - t);
  }
  const result = await job;
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { result, ms, count: lat.length, p50: q(0.5), p99: q(0.99), max: lat.at(-1) };
}
