// The verdict on one status report (server spec section 2), asked of the project's own machine.
// The machine's answer for a (state, counters, event) is memoized: XState's transition() costs tens of
// microseconds, a Map lookup well under one. Counters are keyed up to KEY_COUNTER_MAX (D-142), so the memo
// is small and every report hits it whatever its counters; test/server/conformance.test.ts checks that the
// memo agrees with the machine on every configuration with counters up to several times that bound.
import { isRoomEventType, isRoomState, type RoomEventType, type RoomState } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { countersOf, sameCounters, stepRoom } from '../model/step';
import type { ModelSnapshot, StatusFields, Verdict } from './store';

export interface MachineAnswer {
  accepted: boolean;
  /** The settled snapshot after the event (the same as before when rejected). */
  next: ModelSnapshot;
}

/** The machine itself, from any (state, counters) configuration. */
export function askMachine(from: ModelSnapshot, event: RoomEventType): MachineAnswer {
  const { state, ...counters } = from;
  const snapshot = roomSessionMachine.resolveState({ value: state, context: counters });
  const { snapshot: after, step } = stepRoom(snapshot, { type: event });
  return { accepted: step.accepted, next: { state: after.value as RoomState, ...countersOf(after) } };
}

/**
 * Counters above this are asked of the machine as this: its guards tell 0, 1, 2 and more apart, and an event moves
 * one counter by one before the `always` guards look again, so 3 and any larger count take the same transitions.
 */
export const KEY_COUNTER_MAX = 3;
const memo = new Map<string, MachineAnswer>();
const keyed = (n: number) => Math.min(n, KEY_COUNTER_MAX);

/** askMachine, memoized on counters keyed up to KEY_COUNTER_MAX; the answer's counters move the caller's as the keyed ones moved. */
export function machineAnswer(from: ModelSnapshot, event: RoomEventType): MachineAnswer {
  const k: ModelSnapshot = { state: from.state, connections: keyed(from.connections), sendStreams: keyed(from.sendStreams), recvStreams: keyed(from.recvStreams) };
  const key = `${k.state} ${k.connections} ${k.sendStreams} ${k.recvStreams} ${event}`;
  let answer = memo.get(key);
  if (answer === undefined) {
    answer = askMachine(k, event);
    memo.set(key, answer);
  }
  if (sameCounters(k, from)) return answer;
  const { next } = answer;
  return {
    accepted: answer.accepted,
    next: {
      state: next.state,
      connections: from.connections + next.connections - k.connections,
      sendStreams: from.sendStreams + next.sendStreams - k.sendStreams,
      recvStreams: from.recvStreams + next.recvStreams - k.recvStreams,
    },
  };
}

export interface Check {
  verdict: Verdict;
  /** The machine's answer when it differs from the report (absent for an unknown event). */
  expected?: ModelSnapshot;
  /** The session's snapshot after this report (spec: reset to the report after a non-conformant one, when its state is known). */
  next: ModelSnapshot;
}

/** Verdict order when several apply: unknown-event, unknown-state, rejected-event, wrong-counters, wrong-state. */
export function checkReport(before: ModelSnapshot, report: StatusFields, lookup: typeof machineAnswer = machineAnswer): Check {
  const reported: ModelSnapshot | undefined = isRoomState(report.state)
    ? { state: report.state, connections: report.connections, sendStreams: report.sendStreams, recvStreams: report.recvStreams }
    : undefined;
  const reset = (verdict: Verdict, expected?: ModelSnapshot): Check => ({ verdict, ...(expected ? { expected } : {}), next: reported ?? before });
  if (!isRoomEventType(report.event)) return reset('unknown-event');
  const answer = lookup(before, report.event);
  const expected = answer.next;
  if (!reported) return reset('unknown-state', expected);
  if (!answer.accepted) return reset('rejected-event', expected);
  if (!sameCounters(expected, reported)) return reset('wrong-counters', expected);
  if (expected.state !== reported.state) return reset('wrong-state', expected);
  return { verdict: 'conformant', next: expected };
}
