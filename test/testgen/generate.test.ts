import { createActor } from 'xstate';
import { ROOM_STATES } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { allCandidates } from '../../src/model/candidates';
import { coverageOf, generateTestCases, type TestCase } from '../../src/testing';
import { exploreGraph } from '../../src/testgen/explore';

const events = (cases: TestCase[]) => cases.reduce((n, c) => n + c.steps.length, 0);

describe('generateTestCases: the transition tour', () => {
  it.each([0, 1, 2, 3, 4])('at max count %i covers every item reachable within the bound, in at most 1.5 events per item', (n) => {
    const cases = generateTestCases({ maxCount: n });
    const reachable = new Set(exploreGraph(n).edges.flatMap((e) => e.items));
    const report = coverageOf(cases, { maxCount: n });
    expect(report.totals.reachable).toBe(reachable.size);
    expect(report.totals.uncovered).toBe(0);
    expect(report.totals.percent).toBe(100);
    expect(report.items.filter((i) => i.status === 'covered').map((i) => i.id).sort()).toEqual([...reachable].sort());
    expect(events(cases)).toBeLessThanOrEqual(1.5 * reachable.size);
  });

  it('the coverage items are the machine\'s candidates, listed from its definition', () => {
    const report = coverageOf(generateTestCases());
    expect(report.items.map((i) => i.id)).toEqual(allCandidates().map((c) => c.id));
    expect(new Set(report.items.map((i) => i.id)).size).toBe(report.items.length);
    // each kind is there: transitions, counter-only self-transitions, rejections (incl. the wildcard), settling
    for (const kind of ['transition', 'count', 'reject', 'settle']) expect(report.items.some((i) => i.kind === kind)).toBe(true);
    expect(report.items.some((i) => i.event === '*')).toBe(true);
  });

  it('names every item it cannot reach, with why', () => {
    const report = coverageOf(generateTestCases({ maxCount: 2 }), { maxCount: 2 });
    const status = (id: string) => report.items.find((i) => i.id === id)!;
    expect(status('starting|Session.streamDestroyed|1')).toMatchObject({ status: 'unreachable', reason: expect.stringContaining('recvStreams is always 0') });
    expect(status('init|Session.connectionDestroyed|1')).toMatchObject({ status: 'unreachable', reason: expect.stringContaining('in init connections is always 0') });
    expect(status('waiting|Session.connectionCreated|1')).toMatchObject({ status: 'unreachable', reason: 'shadowed: waiting|Session.connectionCreated|0 has no guard and is tried first' });
    expect(status('sendrecv|Session.connectionCreated|0')).toMatchObject({ status: 'beyond-bound', reason: expect.stringContaining('connections = 3 (above --max-count 2)') });
    for (const i of report.items) {
      if (i.status === 'covered') expect(i.coveredBy.length).toBeGreaterThan(0);
      else expect(i.reason).toEqual(expect.any(String));
    }
    // at max count 3 nothing is left for a higher bound: the remaining items are unreachable at any bound
    const at3 = coverageOf(generateTestCases({ maxCount: 3 }), { maxCount: 3 });
    expect(at3.totals).toMatchObject({ beyondBound: 0, uncovered: 0, percent: 100 });
    expect(at3.totals.unreachable).toBe(report.totals.unreachable);
  });

  it('is deterministic, and every case has a unique id and at least one step', () => {
    const a = generateTestCases({ maxCount: 3 });
    expect(generateTestCases({ maxCount: 3 })).toEqual(a);
    expect(new Set(a.map((c) => c.id)).size).toBe(a.length);
    for (const c of a) expect(c.steps.length).toBeGreaterThan(0);
  });

  it('state coverage visits all seven states', () => {
    const cases = generateTestCases({ coverage: 'states' });
    const visited = new Set(['init', ...cases.flatMap((c) => c.steps.map((s) => s.state))]);
    expect([...visited].sort()).toEqual([...ROOM_STATES].sort());
    expect(events(cases)).toBeLessThan(events(generateTestCases()));
  });

  it('rejects bad options with a clear error', () => {
    expect(() => generateTestCases({ maxCount: 11 })).toThrow(/maxCount must be an integer from 0 to 10, got 11/);
    expect(() => generateTestCases({ coverage: 'edges' as never })).toThrow(/coverage must be 'states' or 'transitions'/);
    expect(() => generateTestCases({ seed: 1.5 })).toThrow(/seed must be an integer/);
    expect(() => generateTestCases({ seed: 1, walks: 0 })).toThrow(/walks must be an integer/);
  });
});

describe('generateTestCases: seeded random walks', () => {
  it('the same seed gives the same walks; another seed, other walks', () => {
    const a = generateTestCases({ seed: 7, walks: 5, walkLength: 30 });
    expect(generateTestCases({ seed: 7, walks: 5, walkLength: 30 })).toEqual(a);
    expect(generateTestCases({ seed: 8, walks: 5, walkLength: 30 })).not.toEqual(a);
    expect(a).toHaveLength(5);
    for (const c of a) expect(c.steps).toHaveLength(30);
    expect(a[0].id).toBe('walk-7-1');
  });

  it('stays within the bound', () => {
    for (const c of generateTestCases({ seed: 3, walks: 20, walkLength: 100, maxCount: 1 })) {
      for (const s of c.steps) expect(Math.max(s.connections, s.sendStreams, s.recvStreams)).toBeLessThanOrEqual(1);
    }
  });
});

describe('(a) generated cases run against the machine: a started actor', () => {
  const suites = { 'tour, max count 3': generateTestCases({ maxCount: 3 }), 'walks, seed 2026': generateTestCases({ seed: 2026, walks: 20, maxCount: 3 }) };
  it.each(Object.entries(suites))('%s: every step settles where the vector says, one report per accepted step, one anomaly per rejected', (_name, cases) => {
    for (const c of cases) {
      const actor = createActor(roomSessionMachine);
      const anomalies: string[] = [];
      actor.on('anomaly', (a) => anomalies.push(a.event));
      actor.start();
      c.steps.forEach((step, i) => {
        const before = anomalies.length;
        actor.send({ type: step.event } as never);
        const snap = actor.getSnapshot();
        expect({ at: `${c.id} step ${i + 1}`, state: snap.value, ...snap.context, accepted: anomalies.length === before })
          .toEqual({ at: `${c.id} step ${i + 1}`, state: step.state, connections: step.connections, sendStreams: step.sendStreams, recvStreams: step.recvStreams, accepted: step.accepted });
      });
      actor.stop();
    }
  });
});
