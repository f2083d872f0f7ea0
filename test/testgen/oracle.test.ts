import { ROOM_EVENTS } from '../../machines/domain';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { generateTestCases, type TestCase } from '../../src/testing';
import { ORACLE_START, oracleStep, type OracleState } from './specOracle';

/** Every step of every case where the spec oracle disagrees with the vector (the model's answer). */
function disagreements(cases: TestCase[]): string[] {
  const out: string[] = [];
  for (const c of cases) {
    let at: OracleState = ORACLE_START;
    c.steps.forEach((step, i) => {
      const want = oracleStep(at, step.event);
      const keys = ['accepted', 'state', 'connections', 'sendStreams', 'recvStreams'] as const;
      const diff = keys.filter((k) => want[k] !== step[k]);
      if (diff.length > 0) out.push(`${c.id} step ${i + 1}: ${at.state}/${at.connections},${at.sendStreams},${at.recvStreams} + ${step.event}: spec ${diff.map((k) => `${k}=${want[k]}`)} model ${diff.map((k) => `${k}=${step[k]}`)}`);
      at = { state: want.state, connections: want.connections, sendStreams: want.sendStreams, recvStreams: want.recvStreams };
    });
  }
  return out;
}

describe('generated vectors against an independent reading of the spec', () => {
  it('the oracle reproduces the worked example of section 5 (so it is a fair judge)', () => {
    let at = ORACLE_START;
    for (const row of WORKED_EXAMPLE) {
      const { accepted, ...next } = oracleStep(at, row.event);
      expect(accepted).toBe(true);
      expect({ event: row.event, ...next }).toEqual(row);
      at = next;
    }
  });

  it('the oracle rejects what 4.1 rejects', () => {
    expect(oracleStep(ORACLE_START, 'Session.StreamDestroyed')).toEqual({ ...ORACLE_START, accepted: false });
    for (const e of ROOM_EVENTS.filter((e) => e.endsWith('Destroyed'))) expect(oracleStep(ORACLE_START, e).accepted).toBe(false);
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
