// The room server under load. Servers run in child processes (`loop-room-state serve` on a fresh SQLite
// file, synchronous=FULL, and a bare node:http server answering 204 as the baseline); this process is the
// load generator (bench/load.mjs): many simulated participants walking the model over keep-alive HTTP. Figures are ratios to
// the bare server measured in the same round (rounds of bare, Basic and Hawk in turn; the median is shown). Also: the conformance check's own cost per report, and the SQLite writer's
// cost per report (store API, no HTTP) as the sessions table grows, as a ratio to its cost at the smallest size.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { performance } from 'node:perf_hooks';
import { createRoom, joinRoom, registerHawkSession } from '../dist/index.mjs';
import { cpuMs, fmt, importSources, median, printTable, timeSync } from './harness.mjs';
import { load as runLoad, walk } from './load.mjs';

const require = createRequire(import.meta.url);
const Hawk = require('hawk');
const ROOT = new URL('..', import.meta.url).pathname;
const PARTICIPANTS = Number(process.env.BENCH_PARTICIPANTS ?? 64);
const WARMUP_MS = 500;
const MEASURE_MS = Number(process.env.BENCH_SERVER_MS ?? 3000);
/** Rounds of the maximum rate (bare, Basic, Hawk in turn); the ratios are their median. */
const ROUNDS = Number(process.env.BENCH_SERVER_ROUNDS ?? 3);

function spawnChild(args, pattern) {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr.on('data', (d) => { if (process.env.BENCH_SERVER_STDERR) process.stderr.write(d); });
    child.on('exit', (code) => reject(new Error(`child exited (${code}): ${out}`)));
  });
}

const BARE = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => console.log('Room server: http://127.0.0.1:' + s.address().port + '/v1'));
`;

/**
 * The shared load generator (bench/load.mjs) with this bench's participants, warm-up and window; also the server's CPU
 * time per answered report in the window (all its threads, and its main thread: the one that answers requests).
 */
async function load(target, rate, pid) {
  let start;
  let end;
  // The load generator is this process: its CPU per report is what the server cannot have of the machine.
  const own = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const sample = () => ({ all: cpuMs([pid]), main: cpuMs([pid], { mainThread: true }), load: own() });
  const result = await runLoad(target.participants, { warmupMs: WARMUP_MS, measureMs: MEASURE_MS, rate, onWindow: { start: () => (start = sample()), end: () => (end = sample()) } });
  const perReport = (ms) => (ms * 1000) / result.count;
  return { ...result, cpuUs: perReport(end.all - start.all), mainCpuUs: perReport(end.main - start.main), loadCpuUs: perReport(end.load - start.load) };
}

export default async function run() {
  // (a) The conformance check's own cost per report: the machine's transition() against the memoized lookup.
  // (Built from the source with xstate bundled in: the server's modules are not a package entry.)
  const compiled = await build({ entryPoints: [join(ROOT, 'src/server/conformance.ts')], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'loop-room-bench-'));
  const modPath = join(dir, 'conformance.mjs');
  writeFileSync(modPath, compiled.outputFiles[0].text);
  const { askMachine, machineAnswer, checkReport } = await import(modPath);
  const reports = walk(1, 4096).map((b) => JSON.parse(b));
  const befores = [];
  let snap = { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 };
  for (const r of reports) {
    befores.push(snap);
    snap = { state: r.state, connections: r.connections, sendStreams: r.sendStreams, recvStreams: r.recvStreams };
  }
  const mask = reports.length - 1;
  const machine = timeSync((i) => askMachine(befores[i & mask], reports[i & mask].event), { n: 4000, trials: 5 });
  const memo = timeSync((i) => checkReport(befores[i & mask], reports[i & mask], machineAnswer), { n: 40000, trials: 7 });
  // Counts no report had before (a client with many streams, or one that makes them up): every configuration new.
  let offset = 0;
  const unseen = timeSync((i) => {
    const b = befores[i & mask];
    const r = reports[i & mask];
    const more = 10 + offset++;
    return checkReport({ ...b, connections: b.connections + more }, { ...r, connections: r.connections + more }, machineAnswer);
  }, { n: 4000, trials: 5 });
  printTable('Conformance check per report (walk of 4096 reports), ratio to the machine\'s transition()', [
    { what: 'XState transition() from the stored snapshot (baseline)', 'ns/report': fmt(machine, 0), ratio: '1.00' },
    { what: 'checkReport with the memoized lookup', 'ns/report': fmt(memo, 0), ratio: fmt(memo / machine, 4) },
    { what: 'the same, connection counts never seen before', 'ns/report': fmt(unseen, 0), ratio: fmt(unseen / machine, 4) },
  ]);

  await writerCurve(dir);

  // (b) Throughput and latency over HTTP.
  const bare = await spawnChild(['-e', BARE], /Room server: (http:\S+\/v1)/);
  const serve = (name, ...extra) =>
    spawnChild([...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), join(ROOT, 'dist/cli.cjs'), 'serve', '--port', '0', '--db', join(dir, `${name}.db`), '--max-room-size', '1000', '--limits', 'off', ...extra], /Room server: (http:\S+\/v1)/);
  const server = await serve('full');
  try {
    const bodies = [...Array(PARTICIPANTS).keys()].map((i) => walk(i + 1, 2000));
    const JSON_TYPE = 'application/json; charset=utf-8';
    const targets = { bare: { pid: bare.child.pid, participants: bodies.map((b) => ({ url: `${bare.url}/rooms/x`, bodies: b, headers: () => ({ 'Content-Type': JSON_TYPE, Authorization: 'Basic YmVuY2g6' }) })) } };
    // Participants of one room server: standalone (Basic) ones and desktop (Hawk) ones, all joined.
    const participants = async (serverUrl) => {
      const owner = await registerHawkSession(serverUrl);
      const room = (await createRoom({ serverUrl, credentials: owner.credentials, roomName: 'bench', roomOwner: 'o', maxSize: 1000 })).roomToken;
      const url = `${serverUrl}/rooms/${room}`;
      const basic = [];
      const hawk = [];
      for (const [i, b] of bodies.entries()) {
        const g = await joinRoom({ serverUrl, roomToken: room, displayName: `b${i}`, clientMaxSize: 10_000 });
        const basicHeader = `Basic ${Buffer.from(`${g.sessionToken}:`).toString('base64')}`;
        basic.push({ url, bodies: b, headers: () => ({ 'Content-Type': JSON_TYPE, Authorization: basicHeader }) });
        const h = await registerHawkSession(serverUrl);
        await joinRoom({ serverUrl, roomToken: room, displayName: `h${i}`, clientMaxSize: 10_000, auth: { type: 'hawk', credentials: h.credentials } });
        const credentials = { id: h.credentials.id, key: h.credentials.key, algorithm: 'sha256' };
        const signOne = (body) => ({ 'Content-Type': JSON_TYPE, Authorization: Hawk.client.header(url, 'POST', { credentials, payload: body, contentType: 'application/json' }).header });
        // Hawk headers are signed just before each run (fresh ts, one nonce each), so the generator's own
        // signing does not slow it in the run; the server still verifies every MAC, payload hash and nonce.
        const p = { url, bodies: b, signed: [], headers: (body) => p.signed.shift() ?? signOne(body), sign: (count) => (p.signed = b.slice(0, count).map(signOne)) };
        hawk.push(p);
      }
      return { basic, hawk };
    };
    const full = await participants(server.url);
    Object.assign(targets, { basic: { pid: server.child.pid, participants: full.basic }, hawk: { pid: server.child.pid, participants: full.hawk } });
    const LABELS = {
      bare: 'bare node:http 204 (baseline)',
      basic: 'room server, Basic, SQLite synchronous=FULL',
      hawk: 'room server, Hawk, SQLite synchronous=FULL',
    };
    const sign = (name) => targets[name].participants.forEach((p) => p.sign?.(Math.ceil((12_000 * (WARMUP_MS + MEASURE_MS)) / 1000 / PARTICIPANTS)));
    // The machine is shared: what it gives moves from minute to minute. So the maximum rate is measured in rounds
    // (bare, Basic, Hawk, one after the other), each ratio against the bare server of its own round.
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {};
      for (const name of Object.keys(LABELS)) {
        sign(name);
        round[name] = await load(targets[name], null, targets[name].pid);
      }
      rounds.push(round);
    }
    const rows = [];
    const ratios = {};
    const mids = {};
    const halfP99 = {};
    for (const [name, label] of Object.entries(LABELS)) {
      const byRound = rounds.map((round) => ({ max: round[name], ratio: round[name].rps / round.bare.rps }));
      const mid = [...byRound].sort((x, y) => x.ratio - y.ratio)[Math.floor(byRound.length / 2)];
      const max = mid.max;
      sign(name);
      const half = await load(targets[name], max.rps / 2, targets[name].pid);
      ratios[name] = mid.ratio;
      mids[name] = mid;
      halfP99[name] = half.p99;
      rows.push({
        target: label,
        'max reports/s': fmt(max.rps, 0),
        ratio: fmt(mid.ratio),
        'ratio by round': byRound.map((x) => fmt(x.ratio)).join(' '),
        'p50 ms (max)': fmt(max.p50),
        'p99 ms (max)': fmt(max.p99),
        'p50 ms (half rate)': fmt(half.p50),
        'p99 ms (half rate)': fmt(half.p99),
        'server CPU µs/report (all threads)': fmt(max.cpuUs, 0),
        '(request thread)': fmt(max.mainCpuUs, 0),
        'load generator CPU µs/report': fmt(max.loadCpuUs, 0),
        'non-204': String(byRound.reduce((n, x) => n + x.max.failed, 0) + half.failed),
      });
    }
    printTable(`Status reports over keep-alive HTTP: ${PARTICIPANTS} participants walking the model, load from a separate process; ratio to the bare server of the same round, median of ${ROUNDS} rounds (the row's other figures are that round's)`, rows);
    const worstHalfP99 = Math.max(halfP99.basic, halfP99.hawk);
    const met = ratios.basic >= 0.75 && ratios.hawk >= 0.6 && worstHalfP99 <= 25;
    console.log(`\nIssue 16's ingest goal (Basic >= 0.75, Hawk >= 0.6, p99 at half rate <= 25 ms): ${met ? 'MET' : 'NOT MET'} (Basic ${fmt(ratios.basic)}, Hawk ${fmt(ratios.hawk)}, p99 at half rate ${fmt(worstHalfP99)} ms).`);
    if (process.env.BENCH_SERVER_METRICS) {
      const m = await (await fetch(`${server.url.replace(/\/v1$/, '')}/metrics`)).text();
      console.log(m.split('\n').filter((l) => l.startsWith('loop_room_store_commit_seconds')).join('\n'));
    }
    console.log('Server CPU is measured at the maximum rate (from /proc: all the server\'s threads, and its request thread).');
    // What the goal leaves the server: at the goal's rate the machine's cores give so many µs per report, of which
    // the load generator (this process, same machine) takes its own share. An upper bound: the OS and any other
    // process take some too, so it means most on a quiet machine.
    const cores = availableParallelism();
    for (const [name, goal] of [['basic', 0.75], ['hawk', 0.6]]) {
      const rate = goal * rounds[rounds.findIndex((round) => round[name] === mids[name].max)].bare.rps;
      const budget = (cores * 1e6) / rate - mids[name].max.loadCpuUs;
      console.log(`At ${goal} of the bare server (${fmt(rate, 0)} reports/s) ${cores} cores give ${fmt((cores * 1e6) / rate, 0)} µs of CPU per report; the load generator takes ${fmt(mids[name].max.loadCpuUs, 0)}, which leaves the ${name === 'basic' ? 'Basic' : 'Hawk'} server at most ${fmt(budget, 0)} µs in all its threads, less what the OS and other processes take (it uses ${fmt(mids[name].max.cpuUs, 0)}; the bare server ${fmt(mids.bare.max.cpuUs, 0)}).`);
    }
  } finally {
    bare.child.kill('SIGTERM');
    server.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * (c) The SQLite writer alone: reports through the store's `updateSession` (16 sessions at once, so about 16 units a
 * commit, synchronous=FULL) on a store that already holds N ended sessions: CPU µs per report, median of 3 rounds,
 * as a ratio to the smallest N. What grows with the table is the B-tree work of each report (sessions' indexes).
 */
async function writerCurve(dir) {
  const { SqliteStore } = await importSources({ SqliteStore: 'src/server/store/sqlite/store' });
  const Database = require('better-sqlite3');
  const STATES = ['waiting', 'starting', 'sending', 'receiving', 'sendrecv'];
  const rows = [];
  let base;
  for (const stored of (process.env.BENCH_WRITER_SESSIONS ?? '10000,1000000').split(',').map(Number)) {
    const path = join(dir, `writer-${stored}.db`);
    const store = new SqliteStore({ path });
    await store.open();
    const now = Date.now();
    // Ended sessions, as a store keeps them until retention (filled directly: set-up, not measured).
    const db = new Database(path);
    const insert = db.prepare(`INSERT INTO sessions (id, room, kind, participant_hmac, token_hmac, display_name, owner, joined_at, expires_at, ended_at, end_reason, end_state, state, connections, send_streams, recv_streams, first_reached, report_count, non_conformant, state_since, path)
      VALUES (?, 'old', 'basic', ?, ?, NULL, 0, ?, ?, ?, 'left', 'waiting', 'waiting', 1, 0, 0, '{"init":1}', 3, 0, ?, '["init"]')`);
    const hex = (s) => createHash('sha256').update(s).digest('hex');
    db.transaction(() => {
      for (let i = 0; i < stored; i++) insert.run(`old-${i}`, hex(`p${i}`), hex(`t${i}`), now - 1e8 + i, now - 1e7, now - 1e7 + i, now - 1e8 + i);
    })();
    db.close();
    await store.createRoom({ token: 'r', name: 'bench', owner: 'o', ownerHmac: 'oh', maxSize: 10_000, createdAt: now, expiresAt: now + 86_400_000 });
    let seq = 0;
    const chain = async (count) => {
      const id = `s-${seq++}`;
      const joinedAt = Date.now();
      const create = { id, room: 'r', kind: 'basic', participantHmac: hex(`bp${id}`), tokenHmac: hex(`bt${id}`), displayName: 'b', owner: false, joinedAt, expiresAt: now + 3_600_000, snapshot: { state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }, firstReached: { init: joinedAt }, reportCount: 0, nonConformantCount: 0 };
      await store.joinRoom('r', () => ({ kind: 'apply', value: id, end: [], create }));
      for (let k = 0; k < count; k++) {
        const at = Date.now();
        await store.updateSession(id, (cur) => {
          const state = STATES[k % STATES.length];
          const snapshot = { state, connections: 1 + (k % 2), sendStreams: k % 2, recvStreams: k % 2 };
          const labels = { from: cur.snapshot.state, event: 'other', state, verdict: 'conformant' };
          return { kind: 'apply', value: null, changes: { snapshot, expiresAt: at + 60_000, firstReached: { ...cur.firstReached, [state]: cur.firstReached[state] ?? at } }, report: { receivedAt: at, fromState: cur.snapshot.state, fields: { event: 'other', ...snapshot }, verdict: 'conformant', labels } };
        }, { idempotencyKey: `${id}-${k}` });
      }
    };
    const round = async () => {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: 16 }, () => chain(200)));
      const used = process.cpuUsage(cpu);
      return { cpu: (used.user + used.system) / 3200, wall: ((performance.now() - t0) * 1000) / 3200 };
    };
    await round();
    const runs = [await round(), await round(), await round()];
    await store.close();
    const cpu = median(runs.map((r) => r.cpu));
    base ??= cpu;
    rows.push({ 'stored sessions': stored.toExponential(0), 'CPU µs/report': fmt(cpu, 0), 'wall µs/report': fmt(median(runs.map((r) => r.wall)), 0), 'ratio to the first': fmt(cpu / base) });
  }
  printTable('The SQLite writer alone (store API, 16 sessions reporting at once, synchronous=FULL), by ended sessions stored', rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
