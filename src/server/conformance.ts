// The verdict on one status report (server spec section 2), asked of the project's own machine.
// The machine's answer for a (state, counters, event) is memoized: XState's transition() costs tens of
// microseconds, a Map lookup well under one; test/server/conformance.test.ts checks that the memo agrees
// with the machine on every configuration within a bound.
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

const MEMO_LIMIT = 100_000;
const memo = new Map<string, MachineAnswer>();

/** askMachine, memoized (the cache is dropped whole when it passes MEMO_LIMIT entries). */
export function machineAnswer(from: ModelSnapshot, event: RoomEventType): MachineAnswer {
  const key = `${from.state} ${from.connections} ${from.sendStreams} ${from.recvStreams} ${event}`;
  let answer = memo.get(key);
  if (answer === undefined) {
    answer = askMachine(from, event);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(key, answer);
  }
  return answer;
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
