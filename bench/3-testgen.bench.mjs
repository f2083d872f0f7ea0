// Test generation: this package's coverage tour against xstate/graph's getShortestPaths and getSimplePaths,
// over the same bounded exploration (same events, same state + counters serialisation), at max count 1, 2, 3.
// Coverage is measured the same way for all three: coverageOf() over the machine's transition candidates.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { ROOM_EVENTS, roomSessionMachine, walkRoom } from '../dist/index.mjs';
import { coverageOf, generateTestCases, UNKNOWN_EVENT } from '../dist/testing.mjs';
import { fmt, median, printTable } from './harness.mjs';

/** getSimplePaths enumerates every simple path, exponential in the graph: give it this long per bound. */
const SIMPLE_PATHS_BUDGET_MS = 10_000;
/** And this many adjacency-map iterations (xstate/graph's own `limit`; it throws past it). */
const TRAVERSAL_LIMIT = 1_000_000;

const EVENTS = [...ROOM_EVENTS, UNKNOWN_EVENT].map((type) => ({ type }));

/** The same bounded traversal this package's generator explores. */
function traversal(maxCount) {
  const grows = { 'Session.connectionCreated': 'connections', 'Session.streamCreated': 'recvStreams', 'Publisher.streamCreated': 'sendStreams' };
  return {
    serializeState: (s) => `${s.value}/${s.context.connections},${s.context.sendStreams},${s.context.recvStreams}`,
    events: (s) => EVENTS.filter((e) => !(e.type in grows) || s.context[grows[e.type]] < maxCount),
    limit: TRAVERSAL_LIMIT,
  };
}

/** xstate/graph paths -> test cases (the first step of each path is its `xstate.init`). */
function pathsToCases(paths, name) {
  return paths
    .map((p) => p.steps.slice(1).map((s) => s.event.type))
    .filter((events) => events.length > 0)
    .map((events, i) => ({
      id: `${name}-${i + 1}`,
      description: '',
      steps: walkRoom(events.map((type) => ({ type }))).map((s) => ({ event: s.event, accepted: s.accepted, state: s.state, ...s.counters })),
    }));
}

if (!isMainThread) {
  // Worker: one getSimplePaths run, so the main thread can give up on it after the budget.
  const start = performance.now();
  const paths = getSimplePaths(roomSessionMachine, traversal(workerData.maxCount));
  const ms = performance.now() - start;
  parentPort.postMessage({ ms, events: paths.map((p) => p.steps.slice(1).map((s) => s.event.type)) });
}

function simplePathsWithBudget(maxCount) {
  return new Promise((resolve) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { maxCount } });
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ gaveUp: `gave up after ${SIMPLE_PATHS_BUDGET_MS / 1000} s` });
    }, SIMPLE_PATHS_BUDGET_MS);
    worker.once('message', (m) => { clearTimeout(timer); void worker.terminate(); resolve(m); });
    worker.once('error', (err) => { clearTimeout(timer); resolve({ gaveUp: `gave up: ${err.message}` }); });
  });
}

function timeMs(fn, runs = 7) {
  fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

function row(maxCount, what, cases, ms, baseMs) {
  const report = coverageOf(cases, { maxCount });
  const events = cases.reduce((n, c) => n + c.steps.length, 0);
  return {
    'max count': String(maxCount),
    generator: what,
    cases: String(cases.length),
    events: String(events),
    'items reachable': String(report.totals.reachable),
    'transition coverage': `${fmt(report.totals.percent, 1)}%`,
    'events/item': fmt(events / report.totals.reachable),
    'generation ms': fmt(ms, 1),
    'time vs shortest paths': fmt(ms / baseMs),
  };
}

export default async function () {
  const rows = [];
  for (const maxCount of [1, 2, 3]) {
    const ours = generateTestCases({ maxCount });
    const oursMs = timeMs(() => generateTestCases({ maxCount }));
    const shortest = pathsToCases(getShortestPaths(roomSessionMachine, traversal(maxCount)), 'shortest');
    const shortestMs = timeMs(() => getShortestPaths(roomSessionMachine, traversal(maxCount)));
    rows.push(row(maxCount, 'loop-room-state tour', ours, oursMs, shortestMs));
    rows.push(row(maxCount, 'getShortestPaths (baseline)', shortest, shortestMs, shortestMs));
    const simple = await simplePathsWithBudget(maxCount);
    if (simple.gaveUp) {
      rows.push({ 'max count': String(maxCount), generator: 'getSimplePaths', cases: '-', events: '-', 'items reachable': '-', 'transition coverage': '-', 'events/item': '-', 'generation ms': simple.gaveUp, 'time vs shortest paths': '-' });
    } else {
      const cases = pathsToCases(simple.events.map((events) => ({ steps: [{ event: { type: 'xstate.init' } }, ...events.map((type) => ({ event: { type } }))] })), 'simple');
      rows.push(row(maxCount, 'getSimplePaths', cases, simple.ms, shortestMs));
    }
  }
  printTable('Test generation: cases, events and transition coverage per counter bound (time as ms and as a ratio to getShortestPaths, same run)', rows);
  console.log('\nGoal: 100% transition coverage (of the items reachable within the bound) with events/item <= 1.5, generation < 1 s at max count 3.');
}
