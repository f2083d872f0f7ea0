import fc from 'fast-check';
import { createActor } from 'xstate';
import { COUNTING, ROOM_COUNTERS, ROOM_EVENTS, type RoomAnomaly, type RoomCounters } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { walkRoom } from '../../src/model/step';
import { invariantHolds, oracleWalk, type State } from '../support/specOracle';

// Known events most of the time, plus misspellings from the seed and arbitrary strings.
const eventType = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...ROOM_EVENTS) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('Session.StreamDestroyed', 'Publisher.StreamDestroyed', 'Sesssion.connectionCreated', '', '*', '__proto__', 'constructor', 'toString'),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
// Lengths uniform in 0..40 (fast-check's default size would keep most arrays short).
const sequences = fc.integer({ min: 0, max: 40 }).chain((n) => fc.array(eventType, { minLength: n, maxLength: n }));
const PROPERTY_RUNS = 10_000;

const show = (c: RoomCounters) => `${c.connections},${c.sendStreams},${c.recvStreams}`;

/** Checks one event's effect; returns what is wrong, or undefined. Plain code, not expect(), to keep 10k runs fast. */
function violation(type: string, before: { value: unknown; context: RoomCounters }, after: { value: unknown; context: RoomCounters }, newAnomalies: RoomAnomaly[], expected: ReturnType<typeof oracleWalk>[number]): string | undefined {
  const c = after.context;
  if (ROOM_COUNTERS.some((k) => c[k] < 0)) return `negative counter ${show(c)}`;
  if (!invariantHolds(after.value as State, c)) return `invariant 4.2 broken: ${after.value} with ${show(c)}`;
  if (after.value !== expected.state || show(c) !== show(expected.counters))
    return `machine says ${after.value} ${show(c)}, spec says ${expected.state} ${show(expected.counters)}`;
  const changed = ROOM_COUNTERS.filter((k) => c[k] !== before.context[k]);
  if (expected.accepted) {
    const { counter, delta } = COUNTING[type as keyof typeof COUNTING];
    if (changed.length !== 1 || changed[0] !== counter || c[counter] - before.context[counter] !== delta)
      return `accepted event changed ${changed.join('+') || 'nothing'} (${show(before.context)} -> ${show(c)})`;
    if (newAnomalies.length !== 0) return `accepted event emitted ${JSON.stringify(newAnomalies)}`;
  } else {
    if (after.value !== before.value || after.context !== before.context) return 'rejected event changed the snapshot';
    const want = { type: 'anomaly', reason: expected.reason, event: type };
    if (newAnomalies.length !== 1 || JSON.stringify(newAnomalies[0]) !== JSON.stringify(want))
      return `rejected event emitted ${JSON.stringify(newAnomalies)}, want ${JSON.stringify(want)}`;
  }
  return undefined;
}

describe('properties over random event sequences (fast-check)', () => {
  it(`${PROPERTY_RUNS} sequences of up to 40 events: invariants, counting, rejections, agreement with the spec oracle`, () => {
    let sequencesRun = 0;
    let eventsRun = 0;
    let rejected = 0;
    fc.assert(
      fc.property(sequences, (types) => {
        sequencesRun++;
        const actor = createActor(roomSessionMachine);
        const anomalies: RoomAnomaly[] = [];
        actor.on('anomaly', (a) => anomalies.push(a));
        actor.start();
        const expected = oracleWalk(types);
        types.forEach((type, i) => {
          eventsRun++;
          if (!expected[i].accepted) rejected++;
          const before = actor.getSnapshot();
          const seen = anomalies.length;
          actor.send({ type } as never);
          const problem = violation(type, before, actor.getSnapshot(), anomalies.slice(seen), expected[i]);
          if (problem) throw new Error(`event ${i + 1} (${JSON.stringify(type)}) of ${JSON.stringify(types)}: ${problem}`);
        });
        actor.stop();
        // the pure transition() path agrees with the actor, step for step
        const pure = walkRoom(types.map((type) => ({ type })));
        pure.forEach((s, i) => {
          if (s.accepted !== expected[i].accepted || s.state !== expected[i].state || show(s.counters) !== show(expected[i].counters))
            throw new Error(`pure walk differs at event ${i + 1} of ${JSON.stringify(types)}`);
        });
      }),
      { numRuns: PROPERTY_RUNS },
    );
    expect(sequencesRun).toBeGreaterThanOrEqual(PROPERTY_RUNS);
    expect(rejected).toBeGreaterThan(0);
    console.log(`property test: ${sequencesRun} sequences, ${eventsRun} events (${rejected} rejected)`);
  });
});
