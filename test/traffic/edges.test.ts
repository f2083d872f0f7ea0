// The traffic view's edge counts: transitions as the server counts them, (from, event, to), put on the drawn edges
// by the machine, must equal the edges the model itself says each step took (walkScenario's `taken`).
import fc from 'fast-check';
import { ROOM_EVENTS, ROOM_STATES } from '../../machines/domain';
import { diagramEdges } from '../../src/model/diagramEdges';
import { walkScenario } from '../../src/visualizer/scenario';
import { countEdges, transitionKey, transitionPaths, type Transition } from '../../src/visualizer/trafficEdges';
import { edgeWidth, flaggedStep, trafficView, total, waysOf, waysOutText } from '../../src/visualizer/traffic';
import { checkTrafficSnapshot, type SessionReport, type TrafficSnapshot } from '../../src/visualizer/trafficWire';

const EDGES = diagramEdges();
const edgeOfCandidate = new Map(EDGES.map((e) => [e.candidate.id, e.id]));

/** What a server would count for these sessions: one (from, event, to) per accepted event. */
function serverTransitions(sessions: string[][]): Transition[] {
  const counts = new Map<string, Transition>();
  for (const events of sessions) {
    for (const s of walkScenario(events).steps) {
      if (!s.accepted) continue;
      const k = transitionKey(s.from, s.event, s.state);
      const t = counts.get(k) ?? { from: s.from, event: s.event, to: s.state, count: 0 };
      t.count++;
      counts.set(k, t);
    }
  }
  return [...counts.values()];
}

/** The edges each step took by the model's own walk. */
function walkedEdgeCounts(sessions: string[][]): Map<string, number> {
  const out = new Map(EDGES.map((e) => [e.id, 0]));
  for (const events of sessions) for (const s of walkScenario(events).steps) for (const c of s.taken) {
    const id = edgeOfCandidate.get(c);
    if (id) out.set(id, (out.get(id) ?? 0) + 1);
  }
  return out;
}

const eventArb = fc.constantFrom(...ROOM_EVENTS);
const sessionsArb = fc.array(fc.array(eventArb, { maxLength: 30 }), { minLength: 1, maxLength: 8 });

describe('transition paths read from the machine', () => {
  it('are the same at every bound from 3 up (no (from, event, to) takes two paths)', () => {
    const at = (b: number) => JSON.stringify([...transitionPaths(b)].sort());
    expect(at(3)).toBe(at(4));
    expect(at(4)).toBe(at(6));
  });

  it('settling through starting counts both edges it took: waiting -> starting on the event, then the eventless step', () => {
    const paths = transitionPaths();
    const path = paths.get(transitionKey('waiting', 'Session.connectionCreated', 'sending')) ?? [];
    const edges = path.map((id) => EDGES.find((e) => e.id === id)!);
    expect(edges.map((e) => [e.from, e.to, e.event ?? 'eventless'])).toEqual([
      ['waiting', 'starting', 'Session.connectionCreated'],
      ['starting', 'sending', 'eventless'],
    ]);
    // A counter-only step is drawn nowhere; a transition the machine cannot make is off the diagram.
    expect(paths.get(transitionKey('sending', 'Publisher.streamCreated', 'sending'))).toEqual([]);
    expect(paths.has(transitionKey('sending', 'Session.streamCreated', 'receiving'))).toBe(false);
  });

  it('every drawn edge is on some path (each can be counted)', () => {
    const used = new Set([...transitionPaths().values()].flat());
    expect(EDGES.filter((e) => !used.has(e.id)).map((e) => e.id)).toEqual([]);
  });

  it('property: edge counts from aggregated (from, event, to) equal the edges the model walked, for random sessions', () => {
    fc.assert(
      fc.property(sessionsArb, (sessions) => {
        const counted = countEdges(serverTransitions(sessions));
        expect(Object.fromEntries(counted.edges)).toEqual(Object.fromEntries(walkedEdgeCounts(sessions)));
        expect(counted.offDiagram).toEqual([]);
        const accepted = sessions.flatMap((e) => walkScenario(e).steps.filter((s) => s.accepted));
        expect(counted.counterOnly).toBe(accepted.filter((s) => s.from === s.state).length);
      }),
      { numRuns: 300 },
    );
  });

  it('a transition no machine path explains is kept aside, not drawn', () => {
    const off = { from: 'sending', event: 'Session.streamCreated', to: 'receiving', count: 2 };
    const unknown = { from: 'init', event: 'Session.Nope', to: 'init', count: 1 };
    const c = countEdges([off, unknown]);
    expect(c.offDiagram).toEqual([off, unknown]);
    expect([...c.edges.values()].every((n) => n === 0)).toBe(true);
  });
});

describe('the view model', () => {
  const snapshot = (transitions: Transition[]): TrafficSnapshot => ({
    window: 'all',
    at: new Date(0).toISOString(),
    since: null,
    sessions: { started: 4, ended: 1, open: 3 },
    funnel: Object.fromEntries(ROOM_STATES.map((s, i) => [s, 4 - Math.min(i, 4)])) as TrafficSnapshot['funnel'],
    open: Object.fromEntries(ROOM_STATES.map((s) => [s, s === 'sendrecv' ? 3 : 0])) as TrafficSnapshot['open'],
    transitions,
    ended: [{ state: 'cleanup', reason: 'left', count: 1 }],
    timeToMedia: { count: 2, p50: 1, p90: 2, p99: 2, histogram: [{ le: 1, count: 1 }, { le: null, count: 1 }] },
    nonConformance: [],
    until: null,
    paths: [],
    states: Object.fromEntries(ROOM_STATES.map((s) => [s, { entered: 0, timeSpent: { count: 0, meanSeconds: null, p50: null, p90: null }, exampleSessions: [] as string[] }])) as TrafficSnapshot['states'],
  });

  it('widths grow with use and never shrink below the unused width', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(1000), fc.integer({ min: 1, max: 1000 }), (a, b, max) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(edgeWidth(Math.min(lo, max), max)).toBeLessThanOrEqual(edgeWidth(Math.min(hi, max), max));
        expect(edgeWidth(lo, max)).toBeGreaterThanOrEqual(1.5);
      }),
    );
    expect(edgeWidth(0, 10)).toBeLessThan(edgeWidth(1, 10));
  });

  it('states carry open sessions and reached counts; the funnel has one row per state', () => {
    const v = trafficView(snapshot(serverTransitions([['Session.connectionCreated']])));
    expect(v.states.find((s) => s.state === 'sendrecv')).toEqual({ state: 'sendrecv', sessions: 3, reached: 0 });
    // Path order: the main path first (each share of the step before), then the side states.
    expect(v.funnel.map((f) => f.state)).toEqual(['init', 'waiting', 'starting', 'sendrecv', 'sending', 'receiving', 'cleanup']);
    expect(v.funnel[0]).toEqual({ state: 'init', count: 4, share: 1, main: true, ofPrevious: null });
    expect(v.funnel[1]).toMatchObject({ state: 'waiting', main: true, ofPrevious: v.funnel[1].count / 4 });
    expect(v.funnel.filter((f) => !f.main).every((f) => f.ofPrevious === null)).toBe(true);
    expect([...v.funnel.map((f) => f.state)].sort()).toEqual([...ROOM_STATES].sort());
    expect(v.edges.find((e) => e.count === 1)).toBeDefined();
    expect(checkTrafficSnapshot(snapshot([]))).not.toHaveProperty('error');
    expect(checkTrafficSnapshot({ ...snapshot([]), funnel: {} })).toEqual({ error: 'funnel' });
  });

  it("a state's ways out are shares of what left it, busiest first, in words", () => {
    const J = 'Session.connectionCreated';
    const v = trafficView(snapshot(serverTransitions([[J, J, 'Publisher.streamCreated'], [J, J, 'Publisher.streamCreated'], [J, J, 'Session.streamCreated']])));
    const w = waysOf(v, 'starting');
    expect(total(w.in)).toBe(3);
    expect(w.in.filter((e) => e.count > 0).map((e) => [e.other, e.count, e.share])).toEqual([['waiting', 3, 1]]);
    expect(w.out.filter((e) => e.count > 0).map((e) => [e.other, e.count, Math.round(e.share * 100)])).toEqual([
      ['sending', 2, 67],
      ['receiving', 1, 33],
    ]);
    expect(waysOutText(w)).toBe('starting: 67 % → sending, 33 % → receiving');
    expect(waysOutText(waysOf(v, 'cleanup'))).toBe('cleanup: no session left it in this window');
  });

  it('the flagged step of a non-conformance row is the first report matching it, what the model expected included', () => {
    const expected = (connections: number) => ({ state: 'starting', connections, sendStreams: 0, recvStreams: 0 });
    const r = (seq: number, from: string, event: string, state: string, c: number, s: number, v: string, e?: ReturnType<typeof expected>): SessionReport => ({
      seq,
      from,
      receivedAt: new Date(seq).toISOString(),
      report: { action: 'status', event, state, connections: c, sendStreams: s, recvStreams: 0 },
      verdict: v,
      ...(e ? { expected: e } : {}),
    });
    const reports = [
      r(1, 'init', 'Session.connectionCreated', 'waiting', 1, 0, 'conformant'),
      r(2, 'waiting', 'Session.connectionCreated', 'sending', 2, 1, 'wrong-counters', expected(2)),
      r(3, 'sending', 'Session.connectionCreated', 'sending', 3, 1, 'conformant'),
      // The same wrong report from other counts: another group on the server (another expectation), another step.
      r(4, 'waiting', 'Session.connectionCreated', 'sending', 2, 1, 'wrong-counters', expected(3)),
    ];
    const row = { verdict: 'wrong-counters', from: 'waiting', event: 'Session.connectionCreated', expected: expected(2), reported: { state: 'sending', connections: 2, sendStreams: 1, recvStreams: 0 } };
    expect(flaggedStep(reports, row)).toBe(2);
    expect(flaggedStep(reports, { ...row, expected: expected(3) })).toBe(4);
    expect(flaggedStep(reports, { ...row, from: 'init' })).toBeUndefined();
    // Two rows that differ only in the expectation are two rows of the table (each its own key).
    const group = { ...row, count: 1, exampleSession: 's1' };
    const view = trafficView({ ...snapshot([]), nonConformance: [group, { ...group, expected: expected(3), exampleSession: 's2' }] });
    expect(new Set(view.nonConformance.map((n) => n.key)).size).toBe(2);
  });

  it("a server's overflow rows read as added-up groups, not as a reported snapshot, and are drawn on no edge", () => {
    const overflow = { verdict: 'unknown-event', from: 'init', event: 'other', expected: null, reported: { state: 'other', connections: 0, sendStreams: 0, recvStreams: 0 }, count: 20, exampleSession: 's1', overflow: true as const };
    const transitions: Transition[] = [{ from: 'init', to: 'other', event: 'other', count: 20, overflow: true } as Transition];
    const s = { ...snapshot(transitions), nonConformance: [overflow, { ...overflow, event: 'made-up', reported: { ...overflow.reported, state: 'init' }, overflow: undefined }] };
    expect(checkTrafficSnapshot(s)).not.toHaveProperty('error');
    const v = trafficView(s);
    expect(v.nonConformance.map((n) => [n.expectedText, n.reportedText])).toEqual([
      ['(not kept)', '(other mistakes, added up)'],
      ['(no answer: unknown name or rejected)', 'init: 0 in room, 0 sent, 0 received'],
    ]);
    expect(v.edges.every((e) => e.count === 0)).toBe(true);
  });
});
