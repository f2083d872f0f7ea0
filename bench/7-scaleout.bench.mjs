// Scale-out: status reports per second through `serve` with one and with two processes on one PostgreSQL,
// next to one process on SQLite, all in the same run, durable commits everywhere (PostgreSQL fsync on,
// SQLite synchronous=FULL). The load generator of bench/load.mjs, in a separate process, walks the model for
// many Basic participants over keep-alive HTTP; with two processes each participant's requests go to them in turn,
// as a round-robin reverse proxy without sticky sessions would send them.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuMs, fmt, importSources, printTable } from './harness.mjs';
import { load } from './load.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PARTICIPANTS = 160;
const WARMUP_MS = 1000;
const MEASURE_MS = 3000;
const ROUNDS = 3;

export default async function () {
  const work = mkdtempSync(join(tmpdir(), 'loop-room-bench7-'));
  let support;
  try {
    support = await loadTestSupport();
  } catch (err) {
    console.log(`\n7-scaleout: skipped (${err.message})`);
    rmSync(work, { recursive: true, force: true });
    return;
  }
  if (!support.pgAvailable()) {
    console.log('\n7-scaleout: skipped: no PostgreSQL server binaries (bash scripts/ensure-postgres.sh installs them)');
    rmSync(work, { recursive: true, force: true });
    return;
  }
  const cluster = await support.startPgCluster();
  const children = new Set();
  try {
    const cli = { argv: [join(ROOT, 'dist/cli.cjs')], env: process.env };
    const serve = (storeArgs) => startServe(cli, storeArgs, children);
    // Every setup runs ROUNDS times, interleaved, and shows its median round: on a shared machine the
    // load from other work drifts, and interleaving spreads that drift over all setups alike.
    const setups = [
      { what: 'SQLite, 1 process (baseline)', store: ['--db', join(work, 'bench.db')], processes: 1 },
      { what: 'PostgreSQL, 1 process', store: ['--store', await cluster.createDatabase('bench_one')], processes: 1 },
      { what: 'PostgreSQL, 2 processes', store: ['--store', await cluster.createDatabase('bench_two')], processes: 2 },
    ];
    for (const setup of setups) {
      setup.servers = [];
      for (let i = 0; i < setup.processes; i++) setup.servers.push(await serve(setup.store));
      setup.runs = [];
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const setup of setups) {
        const pgPids = setup.store[0] === '--store' ? () => postgresPids(cluster.dataDir) : () => [];
        setup.runs.push(await runLoad(setup.servers.map((s) => s.serverUrl), { servers: () => setup.servers.map((s) => s.pid), postgres: pgPids }));
      }
    }
    for (const setup of setups) for (const s of setup.servers) await s.stop();
    const rows = setups.map((setup) => ({ what: setup.what, ...[...setup.runs].sort((a, b) => a.rate - b.rate)[Math.floor(setup.runs.length / 2)] }));
    const base = rows[0].rate;
    printTable(`serve: status reports/s, ${PARTICIPANTS} participants, median of ${ROUNDS} interleaved ${MEASURE_MS / 1000} s rounds, same run (ratio to SQLite, 1 process)`, rows.map((r) => ({
      setup: r.what,
      'reports/s': fmt(r.rate, 0),
      ratio: fmt(r.rate / base),
      'p50 ms': fmt(r.p50, 1),
      'p99 ms': fmt(r.p99, 1),
      'server CPU ms/report': fmt(r.cpu.servers / r.count, 3),
      'PostgreSQL CPU ms/report': fmt(r.cpu.postgres / r.count, 3),
      'load gen CPU ms/report': fmt(r.cpu.load / r.count, 3),
      'cores busy': fmt((r.cpu.servers + r.cpu.postgres + r.cpu.load) / MEASURE_MS, 2),
      errors: r.errors,
    })));
    console.log(
      [
        '',
        'What limits it here: the load generator, the server processes and PostgreSQL all share this machine\'s cores',
        `(${cpus().length}); "cores busy" is the CPU they used per second of the run (other work on the machine takes the rest).`,
        'A report costs more CPU on PostgreSQL than on SQLite (the request\'s reads are network round trips, in the server',
        'and in a database backend, where SQLite reads a page in-process), so on one machine SQLite is the faster store, and',
        'a second process only helps as far as a core is idle. With each process and the database on machines of their',
        'own, reports/s grows with processes until the database\'s CPU or commit rate is the limit.',
      ].join('\n'),
    );
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await cluster.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

/** test/support/postgres.ts (the tests' throw-away cluster), bundled for this run. */
function loadTestSupport() {
  return importSources({ pgAvailable: 'test/support/postgres', startPgCluster: 'test/support/postgres' });
}

async function startServe(cli, storeArgs, children) {
  const proc = spawn(process.execPath, [...cli.argv, 'serve', '--port', '0', '--participant-ttl', '3600', '--limits', 'off', ...storeArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: cli.env });
  children.add(proc);
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => proc.on('exit', () => (children.delete(proc), r())));
  const serverUrl = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 30000);
    proc.stdout.on('data', () => {
      const m = /Room server: (http:\/\/\S+\/v1)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    exited.then(() => {
      clearTimeout(t);
      reject(new Error(`serve exited: ${out}`));
    });
  });
  return {
    serverUrl,
    pid: proc.pid,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Runs the load generator (this file, as a child process) against the servers; its JSON result, plus the CPU
 * time the servers, PostgreSQL and the load generator spent during the measured window (from /proc).
 */
function runLoad(serverUrls, pids) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'load', JSON.stringify({ serverUrls, participants: PARTICIPANTS, warmupMs: WARMUP_MS, measureMs: MEASURE_MS })], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let before;
    let after;
    const sample = () => ({ servers: cpuMs(pids.servers()), postgres: cpuMs(pids.postgres()), load: cpuMs([child.pid]) });
    child.stdout.on('data', (d) => {
      out += d;
      // The child says when its measured window starts and ends.
      if (!before && out.includes('START\n')) before = sample();
      if (!after && out.includes('END\n')) after = sample();
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}`));
      const result = JSON.parse(out.slice(out.lastIndexOf('\n', out.length - 2) + 1));
      const cpu = before && after ? { servers: after.servers - before.servers, postgres: after.postgres - before.postgres, load: after.load - before.load } : { servers: NaN, postgres: NaN, load: NaN };
      resolve({ ...result, cpu });
    });
  });
}

/** The cluster's postmaster and its children (the backends serving the servers). */
function postgresPids(dataDir) {
  try {
    const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const pids = [postmaster];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) pids.push(Number(d));
      } catch {
        // gone meanwhile
      }
    }
    return pids;
  } catch {
    return [];
  }
}

// ---- the load generator (child process) ---------------------------------------------------------------

async function loadGenerator({ serverUrls, participants, warmupMs, measureMs }) {
  const { createRoom, joinRoom, registerHawkSession, walkRoom, ROOM_EVENTS } = await import(pathToFileURL(join(ROOT, 'dist/index.mjs')).href);
  const serverUrl = serverUrls[0];
  const owner = await registerHawkSession(serverUrl);
  const people = [];
  for (let r = 0; people.length < participants; r++) {
    const { roomToken } = await createRoom({ serverUrl, credentials: owner.credentials, roomName: `bench ${r}`, roomOwner: 'bench', maxSize: 5 });
    for (let k = 0; k < 4 && people.length < participants; k++) {
      const j = await joinRoom({ serverUrl, roomToken, displayName: `p${k}`, clientMaxSize: 5 });
      people.push({ roomToken, authorization: `Basic ${Buffer.from(`${j.sessionToken}:`).toString('base64')}` });
    }
  }
  // Each participant reports a long conformant walk of the model, one report after the other.
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const walk = walkRoom(Array.from({ length: 20000 }, () => ROOM_EVENTS[Math.floor(rnd() * ROOM_EVENTS.length)]))
    .filter((s) => s.report)
    .map((s) => JSON.stringify(s.report));
  const result = await load(
    people.map((p) => ({
      url: (n) => `${serverUrls[n % serverUrls.length]}/rooms/${p.roomToken}`,
      bodies: walk,
      headers: () => ({ Authorization: p.authorization, 'Content-Type': 'application/json' }),
    })),
    // The parent samples the processes' CPU time when the measured window opens and closes.
    { warmupMs, measureMs, onWindow: { start: () => process.stdout.write('START\n'), end: () => process.stdout.write('END\n') } },
  );
  return { rate: result.rps, count: result.count, p50: result.p50, p99: result.p99, errors: result.failed };
}

if (process.argv[2] === 'load' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await loadGenerator(JSON.parse(process.argv[3]));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
