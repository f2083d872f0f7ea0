// Analytics at volume (issue 16): what /v1/stats (all time and over 90 days), /v1/traffic?window=hour|day|all and
// /metrics cost at 10^4, 10^5 and 10^6 stored reports (each as a ratio to its 10^4 figure: rollups make it depend on
// the window's buckets and the keys in them, not on the reports stored), the status reports' p99 and max while a
// traffic stream is open and a scrape plus a stats call come every second (against the same load alone), and export's
// peak RSS at the largest size.
// The data is a deployment's: traffic at one steady rate (a session of 15 reports every SESSION_GAP_MS), so a store
// grows by its history, as it does in service, and the last hour and day hold the same traffic at every size. (Packing
// 10^6 reports into the same two days as 10^4 would measure something else: windows holding more distinct keys, a cost
// that depends on the traffic in the window, not on the reports stored; see docs/performance.md.)
// Stores are filled through the store API (joins, 15 reports a session, leaves) by one store instance (one server
// process's running-total shards); the figures are read over HTTP from `loop-room-state serve` in a child process, as a
// deployment reads them, in interleaved rounds. PostgreSQL is vacuumed and checkpointed after each fill (see vacuum()).
// Bounds: BENCH_ANALYTICS_STORES (default sqlite,postgres), BENCH_ANALYTICS_SIZES (SQLite) and BENCH_ANALYTICS_PG_SIZES
// (PostgreSQL), both default 10000,100000,1000000 (filling 10^6 takes several minutes a store on 2 cores).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ROOM_EVENTS, createRoom, joinRoom, registerHawkSession } from '../dist/index.mjs';
import { fmt, importSources, median, printTable } from './harness.mjs';
import { load, walk } from './load.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIZES = (process.env.BENCH_ANALYTICS_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const PG_SIZES = (process.env.BENCH_ANALYTICS_PG_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const STORES = (process.env.BENCH_ANALYTICS_STORES ?? 'sqlite,postgres').split(',');
/** One session starts every SESSION_GAP_MS: 10^4 reports are the last 30 hours, 10^6 the last 125 days. */
const SESSION_GAP_MS = 162_000;
/** The read of a long window, reported apart from the others. */
const LONG = 'stats over the last 90 days';
const PER_SESSION = 15;
const STATES = ['waiting', 'starting', 'sending', 'sendrecv', 'receiving', 'sendrecv', 'waiting'];
const READS = 15;

export default async function run() {
  const work = mkdtempSync(join(tmpdir(), 'loop-room-bench8-'));
  const lib = await bundle();
  const rows = [];
  const long = [];
  const loaded = [];
  const exports = [];
  try {
    for (const kind of STORES) {
      let target;
      if (kind === 'sqlite') {
        const path = join(work, 'analytics.db');
        target = { name: 'SQLite', args: ['--db', path], open: () => new lib.SqliteStore({ path }), sizes: SIZES };
      } else {
        if (!lib.pgAvailable()) {
          console.log('\n8-analytics: PostgreSQL left out (no server binaries; bash scripts/ensure-postgres.sh installs them)');
          continue;
        }
        const cluster = await lib.startPgCluster();
        const url = await cluster.createDatabase();
        target = {
          name: 'PostgreSQL',
          args: ['--store', url],
          open: () => lib.createPostgresStore(`${url}?pool_size=16&connect_timeout_ms=300000&options=${encodeURIComponent('-c synchronous_commit=off')}`),
          vacuum: () => vacuum(lib, url),
          cluster,
          sizes: PG_SIZES,
        };
      }
      // One filler for every size, open throughout (one process's writes), closed before export.
      const filler = target.open();
      await filler.open();
      filler.pragma?.('synchronous = OFF');
      const history = new History();
      let filling = true;
      try {
        const base = {};
        for (const size of target.sizes) {
          const t0 = performance.now();
          await fill(filler, history, size);
          await target.vacuum?.();
          const fillS = (performance.now() - t0) / 1000;
          const server = await serve(target.args);
          try {
            const figures = await readFigures(server.url);
            for (const [what, ms] of Object.entries(figures)) {
              if (what === LONG) {
                long.push({ store: target.name, reports: history.stored.toExponential(0), 'days of traffic in it': fmt(Math.min(90, history.days()), 1), 'median ms': fmt(ms, 1) });
                continue;
              }
              base[what] ??= ms;
              rows.push({ store: target.name, reports: history.stored.toExponential(0), read: what, 'median ms': fmt(ms, 1), 'ratio to 10^4': fmt(ms / base[what], 2), 'fill s': fmt(fillS, 0) });
            }
            if (size === target.sizes.at(-1)) loaded.push(...(await underLoad(target.name, history.stored, server.url)));
          } finally {
            server.child.kill('SIGTERM');
            await server.exited;
          }
        }
        filling = false;
        await filler.close();
        exports.push({ store: target.name, reports: history.stored.toExponential(0), ...(await exportPeak(target.args)) });
      } finally {
        if (filling) await filler.close();
        await target.cluster?.destroy();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  printTable(`Analytics reads over HTTP by stored reports (median of ${READS}; ratio to the same read at 10^4; goal <= 1.5)`, rows);
  printTable(`${LONG} (the window holds more traffic as the store grows, up to 90 days of it: no ratio goal; days, not hours, since D-139)`, long);
  printTable('Status reports at 100/s with a traffic stream open and a /metrics scrape plus a /v1/stats call every second, against the same load alone (goal: max <= 5x quiet p99)', loaded);
  printTable('export of the whole store to a pipe: peak RSS (goal <= 150 MB)', exports);
}

/** The stores and the PostgreSQL test cluster, bundled from the sources (they are no package entry). */
function bundle() {
  return importSources({
    SqliteStore: 'src/server/store/sqlite/store',
    createPostgresStore: 'src/server/store/postgres/store',
    pgAvailable: 'test/support/postgres',
    startPgCluster: 'test/support/postgres',
    loadPg: 'src/server/store/postgres/connection',
  });
}

/** The sessions stored so far: their count and the start times of the newest and the oldest. */
class History {
  stored = 0;
  sessions = 0;
  newest = undefined;
  oldest = undefined;

  /**
   * The start times of the sessions to add so that the history reaches `size` reports: first the ones since the newest
   * (the traffic goes on while the bench runs, so the last hour and day stay as full as at the first size), then older ones.
   */
  /** How many days of traffic the store holds. */
  days() {
    return this.newest === undefined ? 0 : (this.newest - this.oldest) / 86_400_000;
  }

  plan(size, now) {
    const latest = now - PER_SESSION * 2000 - 1000;
    const starts = [];
    if (this.newest === undefined) this.newest = this.oldest = latest + SESSION_GAP_MS;
    for (let at = this.newest + SESSION_GAP_MS; at <= latest; at += SESSION_GAP_MS) starts.push((this.newest = at));
    for (let n = this.stored + starts.length * PER_SESSION; n < size; n += PER_SESSION) starts.push((this.oldest -= SESSION_GAP_MS));
    this.stored += starts.length * PER_SESSION;
    return starts;
  }
}

/**
 * Stores sessions of 15 reports through the store API until the history holds `size` reports. The fill is set-up, not
 * what is measured: no fsync per commit (SQLite synchronous=OFF, PostgreSQL synchronous_commit=off on the filler's
 * connections); the server measured afterwards runs as deployed.
 */
async function fill(store, history, size) {
  const now = Date.now();
  const first = history.sessions;
  const starts = history.plan(size, now);
  history.sessions += starts.length;
  const CHAINS = 256;
  let next = 0;
  let seed = first + 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0), seed / 2 ** 32);
  await Promise.all(
    Array.from({ length: CHAINS }, async (_, chain) => {
      const room = `bench8-${first}-${chain}`;
      await store.createRoom({ token: room, name: 'bench', owner: 'o', ownerHmac: 'oh', maxSize: 10_000, createdAt: history.oldest, expiresAt: now + 86_400_000 });
      for (let i = next++; i < starts.length; i = next++) {
        const s = first + i;
        const id = `b-${s}`;
        // Within its slot, as real joins come: not on the minute.
        const joinedAt = Math.floor(starts[i] - rand() * SESSION_GAP_MS * 0.5);
        await store.joinRoom(room, () => ({
          kind: 'apply',
          value: id,
          end: [],
          create: {
            id, room, kind: 'basic', participantHmac: `p-${id}`, tokenHmac: `t-${id}`, displayName: 'b', owner: false, joinedAt, expiresAt: now + 3_600_000,
            snapshot: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }, firstReached: { init: joinedAt }, reportCount: 0, nonConformantCount: 0,
          },
        }));
        for (let k = 0; k < PER_SESSION; k++) {
          const at = joinedAt + (k + 1) * 2000;
          const last = k === PER_SESSION - 1;
          await store.updateSession(id, (cur) => {
            const state = STATES[k % STATES.length];
            const verdict = (s + k) % 50 === 0 ? 'wrong-counters' : 'conformant';
            const snapshot = { state, connections: 1 + (k % 2), sendStreams: k % 2, recvStreams: k % 2 };
            const firstReached = { ...cur.firstReached, [state]: cur.firstReached[state] ?? at };
            return {
              kind: 'apply',
              value: null,
              changes: { snapshot, firstReached, ...(last ? { endedAt: at, endReason: 'left', endState: state } : {}) },
              report: {
                receivedAt: at, fromState: cur.snapshot.state, fields: { event: ROOM_EVENTS[k % ROOM_EVENTS.length], ...snapshot }, verdict,
                ...(verdict === 'conformant' ? {} : { expected: { ...snapshot, connections: snapshot.connections + 1 } }),
                labels: { from: cur.snapshot.state, event: ROOM_EVENTS[k % ROOM_EVENTS.length], state, verdict },
              },
            };
          });
        }
      }
    }),
  );
}

/**
 * VACUUM ANALYZE after a fill, then a CHECKPOINT: the fill writes in minutes what a deployment writes in days, and
 * autovacuum would have removed the dead row versions it leaves (each report rewrites its session's row and the all-time
 * rollup rows) long before, and the checkpointer written the pages out; measured right after the burst, the reads would
 * pay for both (docs/performance.md has the figures).
 */
async function vacuum(lib, url) {
  const pool = new (lib.loadPg().Pool)({ connectionString: url, max: 1 });
  try {
    await pool.query('VACUUM ANALYZE');
    await pool.query('CHECKPOINT');
  } finally {
    await pool.end();
  }
}

function serve(args) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/cli.cjs'), 'serve', '--port', '0', '--max-room-size', '1000', '--retain-days', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Room server: (http:\S+\/v1)/.exec(out);
      if (m) resolve({ child, url: m[1], exited });
    });
    child.stderr.on('data', (d) => { if (process.env.BENCH_SERVER_STDERR) process.stderr.write(d); });
    child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
}

async function timeGet(url) {
  const t0 = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return performance.now() - t0;
}

/**
 * The median of READS reads of each figure, in rounds (each round reads every figure once, after a round to warm up),
 * so that a busy moment of a shared machine weighs on every figure alike rather than on the one being read.
 */
async function readFigures(serverUrl) {
  const origin = serverUrl.replace(/\/v1$/, '');
  const reads = {
    stats: `${serverUrl}/stats`,
    'traffic hour': `${serverUrl}/traffic?window=hour`,
    'traffic day': `${serverUrl}/traffic?window=day`,
    'traffic all': `${serverUrl}/traffic?window=all`,
    // The default retention's whole span: whole days, the hours and minutes at its ends (D-139).
    [LONG]: `${serverUrl}/stats?since=${new Date(Date.now() - 90 * 86_400_000).toISOString()}`,
    '/metrics': `${origin}/metrics`,
  };
  const samples = Object.fromEntries(Object.keys(reads).map((what) => [what, []]));
  for (let round = -1; round < READS; round++) {
    for (const [what, url] of Object.entries(reads)) {
      const ms = await timeGet(url);
      if (round >= 0) samples[what].push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([what, ms]) => [what, median(ms)]));
}

/** p99 and max of status reports at a fixed rate, quiet and with the analytics readers at work. */
async function underLoad(name, size, serverUrl) {
  const owner = await registerHawkSession(serverUrl);
  const room = (await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'bench8', roomOwner: 'o', maxSize: 1000 })).roomToken;
  const participants = [];
  for (let i = 0; i < 20; i++) {
    const g = await joinRoom({ serverUrl, roomToken: room, displayName: `p${i}`, clientMaxSize: 10_000 });
    const auth = `Basic ${Buffer.from(`${g.sessionToken}:`).toString('base64')}`;
    participants.push({ url: `${serverUrl}/rooms/${room}`, bodies: walk(i + 1, 2000), headers: () => ({ 'Content-Type': 'application/json; charset=utf-8', Authorization: auth }) });
  }
  const measure = async (busy) => {
    const abort = new AbortController();
    const timers = [];
    let stream = Promise.resolve();
    if (busy) {
      stream = fetch(`${serverUrl}/traffic/stream?window=day`, { signal: abort.signal })
        .then(async (res) => {
          const reader = res.body.getReader();
          for (;;) if ((await reader.read()).done) return;
        })
        .catch(() => {});
      const origin = serverUrl.replace(/\/v1$/, '');
      timers.push(
        setInterval(() => {
          void timeGet(`${origin}/metrics`).catch(() => {});
          void timeGet(`${serverUrl}/stats`).catch(() => {});
        }, 1000),
      );
    }
    try {
      return await load(participants, { warmupMs: 500, measureMs: 6000, rate: 100 });
    } finally {
      for (const t of timers) clearInterval(t);
      abort.abort();
      await stream;
    }
  };
  const quiet = await measure(false);
  const busy = await measure(true);
  const row = (what, r) => ({ store: name, reports: size.toExponential(0), load: what, 'p99 ms': fmt(r.p99, 1), 'max ms': fmt(r.max, 1), 'max / quiet p99': fmt(r.max / quiet.p99, 2), failed: r.failed });
  return [row('quiet', quiet), row('stream + scrape + stats', busy)];
}

/** Peak RSS of `export` of the whole store, its output read as fast as it comes (and thrown away). */
function exportPeak(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist/cli.cjs'), 'export', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = 0;
    let bytes = 0;
    const t0 = performance.now();
    const rss = () => {
      try {
        peak = Math.max(peak, Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // gone
      }
    };
    const timer = setInterval(rss, 50);
    child.stdout.on('data', (d) => {
      bytes += d.length;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`export exited ${code}`));
      else resolve({ 'output MB': fmt(bytes / 1048576, 0), 'peak RSS MB': fmt(peak / 1024, 0), 'export s': fmt((performance.now() - t0) / 1000, 1) });
    });
  });
}
