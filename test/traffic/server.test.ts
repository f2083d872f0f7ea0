// The traffic endpoints over real HTTP against a real SQLite store, fed through the package's own client:
// figures, the live stream, time windows, the admin-token rule with CORS, and session reports for replay.
import { ROOM_STATES } from '../../machines/domain';
import { FAULTS, faultyFetch, otherState, runTraffic, trafficPlans } from '../../src/cli/simulateTraffic';
import { main } from '../../src/cli/main';
import { listenRoomServer } from '../../src/server/server';
import { activeStreams, trafficSnapshot } from '../../src/server/traffic';
import { countEdges } from '../../src/visualizer/trafficEdges';
import { checkTrafficSnapshot, type TrafficSnapshot } from '../../src/visualizer/trafficWire';
import { freshSqlite, STORES } from '../support/stores';
import { expected, feed, plan, startServe, type TrafficServer } from './support';

const get = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers });

/** GET /v1/traffic for a named window, or (window '') for the range in `params`. */
async function snapshot(server: { serverUrl: string }, window = 'all', params: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<TrafficSnapshot> {
  const query = new URLSearchParams(window ? { window, ...params } : params);
  const res = await get(`${server.serverUrl}/traffic?${query}`, headers);
  expect(res.status).toBe(200);
  const s = checkTrafficSnapshot(await res.json());
  if ('error' in s) throw new Error(`bad snapshot: ${s.error}`);
  return s;
}

/** Reads server-sent events from the stream until `until` accepts one; returns it. */
async function nextEvent(url: string, until: (s: TrafficSnapshot) => boolean, headers: Record<string, string> = {}): Promise<TrafficSnapshot> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 15_000);
  const res = await fetch(url, { headers, signal: abort.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buffer += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const data = block.split('\n').find((l) => l.startsWith('data: '));
        if (!block.includes('event: traffic') || !data) continue;
        const s = checkTrafficSnapshot(JSON.parse(data.slice(6)));
        if (!('error' in s) && until(s)) return s;
      }
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe.each(STORES)('GET /v1/traffic and its stream (%s)', (_name, factory) => {
  let server: TrafficServer;
  beforeAll(async () => {
    server = await startServe({ store: factory });
  });
  afterAll(() => server.stop());

  it('figures equal what was sent: edges, funnel, open sessions, ended, non-conformance, paths, entries and visits per state; the stream brings the next session', async () => {
    const plans = trafficPlans({ sessions: 10, seed: 3, broken: 0 }).map((p, i) => plan(`s-${i}`, p.events, { misspeltLast: i % 4 === 1, leave: i % 3 !== 0 }));
    const run = await feed(server.serverUrl, plans);
    const s = await snapshot(server);
    const want = expected(plans);
    expect(Object.fromEntries(countEdges(s.transitions).edges)).toEqual(want.edges);
    expect(s.funnel).toEqual(want.funnel);
    expect(s.open).toEqual(want.open);
    expect(Object.fromEntries(s.ended.map((e) => [e.state, e.count]))).toEqual(want.ended);
    expect(s.nonConformance.reduce((a, n) => a + n.count, 0)).toBe(plans.filter((p) => p.fault).length);
    expect(s.timeToMedia.histogram.reduce((a, b) => a + b.count, 0)).toBe(want.funnel.sendrecv);
    // Paths from init of the sessions that left, entries and ended visits per state, examples among this run's sessions.
    expect(Object.fromEntries(s.paths.map((p) => [p.states.join(' ') + (p.truncated ? ' …' : ''), p.count]))).toEqual(want.paths);
    expect(s.paths.every((p) => Object.values(run.ids).includes(p.exampleSession))).toBe(true);
    expect(Object.fromEntries(ROOM_STATES.map((st) => [st, s.states[st].entered]))).toEqual(want.entered);
    expect(Object.fromEntries(ROOM_STATES.map((st) => [st, s.states[st].timeSpent.count]))).toEqual(want.visitsEnded);
    for (const st of ROOM_STATES) {
      const f = s.states[st];
      // One example per minute's row (these sessions ran within a minute or two), each a session that entered the state.
      const entrants = plans.filter((p) => expected([p]).entered[st] > 0).map((p) => run.ids[p.name]);
      expect([st, f.exampleSessions.length > 0]).toEqual([st, entrants.length > 0]);
      expect(f.exampleSessions.every((id) => entrants.includes(id)) && new Set(f.exampleSessions).size === f.exampleSessions.length).toBe(true);
      if (f.timeSpent.count > 0) expect(f.timeSpent.p50! <= f.timeSpent.p90! && f.timeSpent.meanSeconds! >= 0).toBe(true);
    }

    const more = plan('s-more', ['Session.connectionCreated', 'Session.connectionCreated', 'Session.streamCreated', 'Publisher.streamCreated'], { leave: false });
    const want2 = expected([...plans, more]);
    const media = (x: TrafficSnapshot) => x.timeToMedia.histogram.reduce((a, b) => a + b.count, 0);
    // The stream sends on every change; the last of the new session's reports brings the figures to these.
    const seen = nextEvent(`${server.serverUrl}/traffic/stream?window=day`, (x) => x.sessions.started === plans.length + 1 && JSON.stringify(Object.fromEntries(countEdges(x.transitions).edges)) === JSON.stringify(want2.edges));
    await new Promise((r) => setTimeout(r, 100));
    await feed(server.serverUrl, [more]);
    const live = await seen;
    expect(live.window).toBe('day');
    expect(live.funnel).toEqual(want2.funnel);
    expect(live.open).toEqual(want2.open);
    expect(media(live)).toBe(want2.funnel.sendrecv);
  });

  it('a stream whose client goes away stops being read', async () => {
    const store = server.store;
    const first = await nextEvent(`${server.serverUrl}/traffic/stream?window=hour`, () => true);
    expect(first.window).toBe('hour');
    for (let i = 0; i < 50 && activeStreams(store) > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(activeStreams(store)).toBe(0);
  });

  it('session reports carry the state before each report and the verdicts', async () => {
    const p = plan('r-0', ['Session.connectionCreated', 'Session.connectionCreated', 'Publisher.streamCreated'], { misspeltLast: true });
    const run = await feed(server.serverUrl, [p]);
    const res = await get(`${server.serverUrl}/traffic/sessions/${run.ids['r-0']}`);
    const body = await res.json();
    expect(body.reports.map((r: { from: string; verdict: string; report: { state: string } }) => [r.from, r.verdict, r.report.state])).toEqual([
      ['init', 'conformant', 'waiting'],
      ['waiting', 'conformant', 'starting'],
      ['starting', 'unknown-state', 'Sending'],
    ]);
    expect((await get(`${server.serverUrl}/traffic/sessions/nope`)).status).toBe(404);
  });

  it('refuses a bad window or range (400 errno 107, saying what is wrong), other methods (405), unknown paths (404), all in the error shape', async () => {
    const bad = await get(`${server.serverUrl}/traffic?window=week`);
    expect([bad.status, (await bad.json()).errno]).toEqual([400, 107]);
    const a = '2026-01-01T00:00:00Z';
    const b = '2026-01-01T01:00:00Z';
    for (const [query, message] of [
      [`since=${a}`, /both since and until/],
      [`until=${b}`, /both since and until/],
      [`since=${a}&until=${b}&window=day`, /either window or since and until/],
      [`since=${b}&until=${a}`, /until must be after since/],
      [`since=${a}&until=${a}`, /until must be after since/],
      [`since=yesterday&until=${b}`, /Invalid since: an ISO time/],
      [`since=${a}&until=2026-13-45T00:00:00Z`, /Invalid until: an ISO time/],
    ] as const) {
      for (const path of ['/traffic', '/traffic/stream']) {
        const res = await get(`${server.serverUrl}${path}?${query}`);
        const body = await res.json();
        expect([path, query, res.status, body.errno]).toEqual([path, query, 400, 107]);
        expect(body.error).toMatch(message);
      }
    }
    const post = await fetch(`${server.serverUrl}/traffic`, { method: 'POST', body: '{}' });
    expect([post.status, (await post.json()).errno]).toEqual([405, 999]);
    const nope = await get(`${server.serverUrl}/traffic/nope`);
    expect([nope.status, (await nope.json()).errno]).toEqual([404, 999]);
  });

  it('grants CORS to configured origins only: never Origin null (a page from disk, a sandboxed iframe) nor this machine by default', async () => {
    // Spec section 7: admin data gets no CORS grant for null or an origin not configured.
    for (const origin of ['null', 'http://127.0.0.1:9999', 'http://localhost:9999', 'https://evil.example']) {
      const pre = await fetch(`${server.serverUrl}/traffic/stream`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Headers': 'authorization' } });
      expect([origin, pre.headers.get('access-control-allow-origin')]).toEqual([origin, null]);
      expect([origin, (await get(`${server.serverUrl}/traffic`, { Origin: origin })).headers.get('access-control-allow-origin')]).toEqual([origin, null]);
    }
    const configured = await startServe({ corsOrigins: ['https://ops.example'] });
    try {
      const pre = await fetch(`${configured.serverUrl}/traffic/stream`, { method: 'OPTIONS', headers: { Origin: 'https://ops.example', 'Access-Control-Request-Headers': 'authorization' } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('https://ops.example');
      expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
      expect((await get(`${configured.serverUrl}/traffic`, { Origin: 'https://ops.example' })).headers.get('access-control-allow-origin')).toBe('https://ops.example');
    } finally {
      await configured.stop();
    }
  });
});

describe('the admin token', () => {
  it('is required as for /v1/stats (401 with CORS so the page can say so), and is never echoed', async () => {
    const token = 'admin-secret-for-traffic-0001';
    const server = await startServe({ adminToken: token, corsOrigins: ['https://ops.example'] });
    try {
      for (const path of ['/traffic', '/traffic/stream', '/traffic/sessions/x']) {
        const res = await get(`${server.serverUrl}${path}`, { Origin: 'https://ops.example' });
        expect(res.status).toBe(401);
        expect(res.headers.get('access-control-allow-origin')).toBe('https://ops.example');
        expect(await res.text()).not.toContain(token);
      }
      expect((await get(`${server.serverUrl}/traffic`, { Authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await snapshot(server, 'all', {}, { Authorization: `Bearer ${token}` })).sessions.started).toBe(0);
    } finally {
      await server.stop();
    }
  });
});

describe('time windows', () => {
  it('last hour and last day leave out what is older; all keeps it', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const fresh = await freshSqlite();
    const server = await listenRoomServer({ store: fresh.store, port: 0, now: () => clock });
    try {
      const walk = ['Session.connectionCreated', 'Session.connectionCreated', 'Session.streamCreated', 'Publisher.streamCreated'] as const;
      const histogram = async (w: 'hour' | 'day') => (await trafficSnapshot(fresh.store, w, clock)).timeToMedia.histogram;
      await feed(server.serverUrl, [plan('old', [...walk], { leave: true })]);
      clock += 2 * 3_600_000; // two hours later
      await feed(server.serverUrl, [plan('new', [...walk], { leave: true })]);
      expect((await histogram('day')).reduce((a, b) => a + b.count, 0)).toBe(2);
      const at = async (w: string) => snapshot(server, w);
      expect((await at('hour')).sessions.started).toBe(1);
      expect((await at('day')).sessions.started).toBe(2);
      expect((await at('all')).sessions.started).toBe(2);
      const hour = await at('hour');
      expect(hour.transitions.reduce((a, t) => a + t.count, 0)).toBe(walk.length);
      expect(hour.timeToMedia.histogram.reduce((a, b) => a + b.count, 0)).toBe(1);
      expect((await at('day')).timeToMedia.histogram.reduce((a, b) => a + b.count, 0)).toBe(2);
      expect((await at('all')).timeToMedia.histogram.reduce((a, b) => a + b.count, 0)).toBe(2);

      // A chosen range: read in whole minutes (since down, until up), whatever the clock says now.
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      const range = async (since: number, until: number) => snapshot(server, '', { since: new Date(since).toISOString(), until: new Date(until).toISOString() });
      const first = await range(t0 + 30_000, t0 + 3_600_000 + 1);
      expect([first.window, first.since, first.until, first.sessions.started]).toEqual(['range', '2026-01-01T00:00:00.000Z', '2026-01-01T01:01:00.000Z', 1]);
      expect((await range(t0 + 3_600_000, t0 + 3 * 3_600_000)).sessions.started).toBe(1);
      expect((await range(t0 - 60_000, t0 + 3 * 3_600_000)).transitions.reduce((a, t) => a + t.count, 0)).toBe(2 * walk.length);
      expect((await range(t0 - 3_600_000, t0 - 60_000)).sessions.started).toBe(0);
      // Named windows read up to now: their until is null.
      expect((await at('hour')).until).toBeNull();
      // The stream takes the same range.
      const streamed = await nextEvent(`${server.serverUrl}/traffic/stream?since=${new Date(t0).toISOString()}&until=${new Date(t0 + 3_600_000).toISOString()}`, () => true);
      expect([streamed.window, streamed.until, streamed.sessions.started]).toEqual(['range', '2026-01-01T01:00:00.000Z', 1]);
    } finally {
      await server.close();
      await fresh.cleanup();
    }
  });
});

describe('simulate-traffic', () => {
  it('plans are seeded: the same seed the same sessions, another seed others; every event accepted where it is sent', () => {
    const a = trafficPlans({ sessions: 50, seed: 9 });
    expect(trafficPlans({ sessions: 50, seed: 9 })).toEqual(a);
    expect(trafficPlans({ sessions: 50, seed: 10 })).not.toEqual(a);
    const broken = a.filter((p) => p.fault).length;
    expect(broken).toBeGreaterThan(0);
    expect(broken).toBeLessThan(50);
    expect(trafficPlans({ sessions: 50, seed: 9, broken: 0 }).every((p) => !p.fault)).toBe(true);
    expect(ROOM_STATES.every((s) => otherState(s) !== s)).toBe(true);
  });

  it('against a running server: clean clients are all conformant, every detectable fault is caught', async () => {
    const fresh = await freshSqlite();
    const server = await listenRoomServer({ store: fresh.store, port: 0 });
    try {
      const plans = trafficPlans({ sessions: 24, seed: 5, broken: 0.5 });
      expect(new Set(plans.flatMap((p) => (p.fault ? [p.fault.kind] : []))).size).toBeGreaterThan(2);
      const run = await runTraffic(server.serverUrl, plans, 4);
      expect(run.failures).toEqual([]);
      const verdicts: Array<[string, string, boolean]> = [];
      for (const p of plans) {
        const session = await fresh.store.getSession(run.ids[p.name]);
        // A report lost at the very end leaves nothing after it to disagree with: undetectable by design.
        const detectable = p.fault !== undefined && !(p.fault.kind === 'lost-report' && p.fault.at === p.events.length - 1);
        verdicts.push([p.name, p.fault?.kind ?? 'clean', (session?.nonConformantCount ?? -1) > 0 === detectable]);
      }
      expect(verdicts.filter(([, , ok]) => !ok)).toEqual([]);

      // The command itself: same client, a summary on stdout, exit 0.
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['simulate-traffic', '--server', server.origin, '--sessions', '3', '--seed', '5'], { out: (t) => out.push(t), err: (t) => err.push(t) });
      expect({ code, err }).toEqual({ code: 0, err: [] });
      expect(out.join('\n')).toMatch(/^simulate-traffic: 3 sessions \(seed 5\), \d+ status reports delivered/);
      expect((await fresh.store.stats({})).sessions.started).toBe(27);
    } finally {
      await server.close();
      await fresh.cleanup();
    }
  });

  it('refuses a missing or bad --server and bad numbers (usage errors, exit 2)', async () => {
    for (const argv of [[], ['--server', 'ftp://x'], ['--server', 'http://127.0.0.1:1/v1', '--broken', '2'], ['--server', 'http://127.0.0.1:1/v1', '--sessions', '0']]) {
      const err: string[] = [];
      expect(await main(['simulate-traffic', ...argv], { out: () => {}, err: (t) => err.push(t) })).toBe(2);
      expect(err.join('\n')).toMatch(/--(server|broken|sessions)/);
    }
  });

  it('a faulty fetch breaks exactly one status report, as planned', async () => {
    const seen: string[] = [];
    const inner = async (_u: string, init?: RequestInit) => {
      seen.push(String(init?.body));
      return new Response(null, { status: 204 });
    };
    const body = (state: string) => ({ body: JSON.stringify({ action: 'status', event: 'e', state, connections: 1, sendStreams: 0, recvStreams: 0 }) });
    const run = async (kind: (typeof FAULTS)[number]) => {
      seen.length = 0;
      const f = faultyFetch({ kind, at: 1 }, inner);
      for (const s of ['waiting', 'starting', 'sending']) await f('http://x/v1/rooms/r', body(s));
      return seen.map((b) => JSON.parse(b).state);
    };
    expect(await run('lost-report')).toEqual(['waiting', 'sending']);
    expect(await run('doubled-report')).toEqual(['waiting', 'starting', 'starting', 'sending']);
    expect(await run('wrong-state')).toEqual(['waiting', 'sending', 'sending']);
    expect(await run('misspelt-state')).toEqual(['waiting', 'Starting', 'sending']);
  });
});
