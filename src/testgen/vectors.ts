// Test vectors from event sequences: the expected values come from the model (walkRoom).
import { walkRoom, type RoomStep } from '../model/step';
import type { TestCase, TestStep } from './types';

export function toTestStep(step: RoomStep): TestStep {
  return {
    event: step.event,
    accepted: step.accepted,
    state: step.state,
    connections: step.counters.connections,
    sendStreams: step.counters.sendStreams,
    recvStreams: step.counters.recvStreams,
  };
}

export function toTestCase(id: string, description: string, events: readonly string[]): TestCase {
  return { id, description, steps: walkRoom(events.map((type) => ({ type }))).map(toTestStep) };
}

/** The states a case passes through, without repeats in a row: `init > waiting > starting > sending`. */
export function stateTrail(c: TestCase): string {
  const trail = ['init'];
  for (const s of c.steps) if (trail[trail.length - 1] !== s.state) trail.push(s.state);
  return trail.join(' > ');
}
