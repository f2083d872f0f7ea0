// An event type given alone is shorthand for { type }: the same outcome for every input, known or not.
import fc from 'fast-check';
import { ROOM_EVENTS } from '../../machines/domain';
import { walkRoom } from '../../src/model/step';

const eventType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ROOM_EVENTS) },
  { weight: 1, arbitrary: fc.constantFrom('Session.StreamDestroyed', 'xstate.stop', 'xstate.init', '', '__proto__', 'toString') },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

it('walkRoom(types) == walkRoom(types as { type } objects), step for step, mixed freely', () => {
  fc.assert(
    fc.property(fc.array(eventType, { maxLength: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), (types, asObject) => {
      const strings: unknown[] = types;
      const mixed: unknown[] = types.map((type, i) => (asObject[i] ? { type } : type));
      const objects = walkRoom(types.map((type) => ({ type })));
      expect(walkRoom(strings)).toEqual(objects);
      expect(walkRoom(mixed)).toEqual(objects);
    }),
    { numRuns: 300 },
  );
});

it('a valid name alone is accepted (it used to be unknown-event); a reserved or unknown one is rejected', () => {
  const [a, b, c] = walkRoom(['Session.connectionCreated', 'xstate.stop', 'Bogus'] as unknown[]);
  expect(a).toMatchObject({ accepted: true, state: 'waiting', report: { event: 'Session.connectionCreated' } });
  expect(b.anomaly).toEqual({ type: 'anomaly', reason: 'unknown-event', event: 'xstate.stop' });
  expect(c.anomaly).toEqual({ type: 'anomaly', reason: 'unknown-event', event: 'Bogus' });
});
