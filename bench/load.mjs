// The load generator of the server benches (5-server, 7-scaleout): simulated participants posting status
// reports over keep-alive node:http, each one after the other (closed loop) or each at its share of a rate.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ROOM_EVENTS, initialRoomSnapshot, stepRoom } from '../dist/index.mjs';

/** One POST; resolves with the status code once the answer is read. */
export function post(agent, url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Participants report as fast as answers come (closed loop; `rate` null), or each at its share of `rate`
 * reports/s. A participant is `{ url, bodies, headers(body) }`; `url` may be a function of the report's
 * index (e.g. to send a participant's reports to several servers in turn). Counted: the answers whose
 * request started and ended within the measuring window (after `warmupMs`, for `measureMs`).
 * `onWindow.start` / `onWindow.end` are called when the window opens and closes.
 * Returns reports/s, their count, latency percentiles and maximum (ms) and how many answers were not 204.
 */
export async function load(participants, { warmupMs, measureMs, rate = null, onWindow = {} }) {
  const agent = new Agent({ keepAlive: true, maxSockets: participants.length });
  const latencies = [];
  let done = 0;
  let failed = 0;
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + measureMs;
  // Each called once, in order, and both before this returns (a late timer is overtaken, not dropped).
  const once = (f) => { let called = false; return () => { if (!called) { called = true; f?.(); } }; };
  const opened = once(onWindow.start);
  const closed = once(() => (opened(), onWindow.end?.()));
  const timers = [setTimeout(opened, warmupMs), setTimeout(closed, warmupMs + measureMs)];
  const interval = rate ? (participants.length / rate) * 1000 : 0;
  try {
    await Promise.all(
      participants.map(async (p, i) => {
        let next = start + (interval * i) / participants.length;
        for (let k = 0; ; k++) {
          if (interval) {
            const wait = next - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            next += interval;
          }
          const t0 = performance.now();
          if (t0 >= end) return;
          const body = p.bodies[k % p.bodies.length];
          const status = await post(agent, typeof p.url === 'function' ? p.url(k) : p.url, p.headers(body), body);
          const t1 = performance.now();
          if (status !== 204) failed++;
          if (t0 >= measureFrom && t1 <= end) {
            done++;
            latencies.push(t1 - t0);
          }
        }
      }),
    );
  } finally {
    agent.destroy();
    for (const t of timers) clearTimeout(t);
    closed();
  }
  latencies.sort((a, b) => a - b);
  const q = (f) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))] ?? NaN;
  return { rps: done / (measureMs / 1000), count: done, p50: q(0.5), p99: q(0.99), max: latencies.at(-1) ?? NaN, failed };
}

/** Report bodies of a correct client: a seeded walk of the model (accepted events only). */
export function walk(seed, count) {
  let x = seed >>> 0 || 1;
  const rand = () => ((x = (x * 1103515245 + 12345) >>> 0), x / 2 ** 32);
  let snap = initialRoomSnapshot();
  const out = [];
  while (out.length < count) {
    const { snapshot, step } = stepRoom(snap, { type: ROOM_EVENTS[Math.floor(rand() * ROOM_EVENTS.length)] });
    snap = snapshot;
    if (step.report) out.push(JSON.stringify(step.report));
  }
  return out;
}
