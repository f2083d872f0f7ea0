import { coverageOf, formatCoverageReport, generateTestCases, type TestCase } from '../../src/testing';

describe('coverageOf', () => {
  it('counts what a partial suite covers, and lists the reachable items it misses as uncovered', () => {
    const worked: TestCase = {
      id: 'worked-example',
      description: 'spec section 5',
      steps: [
        { event: 'Session.connectionCreated', accepted: true, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
        { event: 'Publisher.streamCreated', accepted: true, state: 'waiting', connections: 1, sendStreams: 1, recvStreams: 0 },
        { event: 'Session.connectionCreated', accepted: true, state: 'sending', connections: 2, sendStreams: 1, recvStreams: 0 },
      ],
    };
    const report = coverageOf([worked]);
    expect(report.totals).toMatchObject({ covered: 4, reachable: 55, uncovered: 51, percent: 7.3 });
    const covered = report.items.filter((i) => i.status === 'covered').map((i) => [i.id, i.coveredBy]);
    expect(covered).toEqual([
      ['init|Session.connectionCreated|0', [{ case: 'worked-example', step: 1 }]],
      ['waiting|Session.connectionCreated|0', [{ case: 'worked-example', step: 3 }]],
      ['waiting|Publisher.streamCreated|0', [{ case: 'worked-example', step: 2 }]],
      ['starting|always|1', [{ case: 'worked-example', step: 3 }]],
    ]);
    expect(formatCoverageReport(report)).toMatch(/^uncovered \(51\):$/m);
  });

  it('takes the bound from the cases when not given', () => {
    const fourPublishers: TestCase = {
      id: 'four',
      description: '',
      steps: [1, 2, 3, 4].map((n) => ({ event: 'Publisher.streamCreated', accepted: true, state: 'init' as const, connections: 0, sendStreams: n, recvStreams: 0 })),
    };
    expect(coverageOf([fourPublishers]).maxCount).toBe(4);
    expect(coverageOf(generateTestCases({ maxCount: 1 })).maxCount).toBe(2);
  });

  it('throws, naming the step, when a vector disagrees with the model', () => {
    const [c] = generateTestCases();
    const wrong = { ...c, steps: c.steps.map((s, i) => (i === 1 ? { ...s, connections: 7 } : s)) };
    expect(() => coverageOf([wrong])).toThrow(`case ${c.id} step 2 (${c.steps[1].event}): the vector says connections=7, the model says connections=${c.steps[1].connections}`);
  });

  it('throws a TypeError on something that is not a list of cases', () => {
    expect(() => coverageOf('x' as never)).toThrow(TypeError);
    expect(() => coverageOf([{ id: 1, steps: [] }] as never)).toThrow(/not a test case/);
    expect(() => coverageOf([{ id: 'a', steps: [{ event: 3 }] }] as never)).toThrow(/not a test case/);
  });
});
