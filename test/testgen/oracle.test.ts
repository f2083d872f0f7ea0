import { ROOM_EVENTS } from '../../machines/domain';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { generateTestCases, type TestCase } from '../../src/testing';
import { oracleStep, type Counters, type State } from '../support/specOracle';

const START = { state: 'init' as State, counters: { connections: 0, sendStreams: 0, recvStreams: 0 } as Counters };
const flat = (s: { accepted: boolean; state: State; counters: Counters }) => ({ accepted: s.accepted, state: s.state, ...s.counters });

/** Every step of every case where the spec oracle disagrees with the vector (the model's answer). */
function disagreements(cases: TestCase[]): string[] {
  const out: string[] = [];
  for (const c of cases) {
    let at = START;
    c.steps.forEach((step, i) => {
      const next = oracleStep(at.state, at.counters, step.event);
      const want = flat(next);
      const keys = ['accepted', 'state', 'connections', 'sendStreams', 'recvStreams'] as const;
      const diff = keys.filter((k) => want[k] !== step[k]);
      if (diff.length > 0) out.push(`${c.id} step ${i + 1}: ${at.state}/${Object.values(at.counters)} + ${step.event}: spec ${diff.map((k) => `${k}=${want[k]}`)} model ${diff.map((k) => `${k}=${step[k]}`)}`);
      at = { state: next.state, counters: next.counters };
    });
  }
  return out;
}

describe('generated vectors against an independent reading of the spec', () => {
  it('the oracle reproduces the worked example of section 5 (so it is a fair judge)', () => {
    let at = START;
    for (const row of WORKED_EXAMPLE) {
      const next = oracleStep(at.state, at.counters, row.event);
      const { accepted, ...rest } = flat(next);
      expect(accepted).toBe(true);
      expect({ event: row.event, ...rest }).toEqual(row);
      at = next;
    }
  });

  it('the oracle rejects what 4.1 rejects', () => {
    expect(flat(oracleStep(START.state, START.counters, 'Session.StreamDestroyed'))).toEqual({ ...flat({ ...START, accepted: false }) });
    for (const e of ROOM_EVENTS.filter((e) => e.endsWith('Destroyed'))) expect(oracleStep(START.state, START.counters, e).accepted).toBe(false);
  });

  it.each([1, 2, 3, 4])('the transition tour at max count %i agrees with the spec at every step', (n) => {
    expect(disagreements(generateTestCases({ maxCount: n }))).toEqual([]);
  });

  it('the state tour and 50 seeded random walks of 200 events agree with the spec at every step', () => {
    expect(disagreements(generateTestCases({ coverage: 'states' }))).toEqual([]);
    expect(disagreements(generateTestCases({ seed: 11, walks: 50, walkLength: 200, maxCount: 4 }))).toEqual([]);
  });

  it('a wrong vector is caught (the check can fail)', () => {
    const [first] = generateTestCases();
    const broken = { ...first, steps: first.steps.map((s, i) => (i === 0 ? { ...s, state: 'starting' as const } : s)) };
    expect(disagreements([broken])).toHaveLength(1);
  });
});
