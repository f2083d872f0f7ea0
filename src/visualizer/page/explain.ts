// Words for the diagram and its details panel. The machine decides; this only explains it, and a test checks every
// guard's description against the machine's own guard (test/visualizer/explain.test.ts).
import { COUNTING, type RoomCounter, type RoomCounters, type RoomState } from '../../../machines/domain';
import type { Candidate } from '../../model/candidates';
import type { DiagramEdge, EdgeOrigin } from '../../model/diagramEdges';

/** Spec section 2, each state's meaning. */
export const STATE_MEANING: Readonly<Record<RoomState, string>> = {
  init: 'initial and terminal state',
  waiting: 'the client is in the room, waiting for another user',
  starting: 'the other user has joined, media is being established',
  sending: 'outbound media is up, inbound is not',
  receiving: 'inbound media is up, outbound is not',
  sendrecv: 'sending and receiving: the session is set up',
  cleanup: 'no streams sent or received; the connection is about to be torn down',
};

/** Spec 4.2, each state's counters (on the settled state), in words for its node and the Now panel. */
export const STATE_CONDITION: Readonly<Record<RoomState, string>> = {
  init: 'nobody connected',
  waiting: 'alone: connections 1',
  starting: '2+ people, no streams',
  sending: '2+ people, sending only',
  receiving: '2+ people, receiving only',
  sendrecv: '2+ people, both ways',
  cleanup: '2+ people, media gone',
};

type Test = { counter: RoomCounter; op: '=' | '>'; value: number };

/** What each guard of the machine asks, as data (checked against the machine), with a short tag and a meaning. */
export const GUARD_WORDS: Readonly<Record<string, { tests: readonly Test[]; short: string; meaning: string }>> = {
  connectionsIsZero: { tests: [{ counter: 'connections', op: '=', value: 0 }], short: 'none left', meaning: 'there is no connection to take away' },
  sendStreamsIsZero: { tests: [{ counter: 'sendStreams', op: '=', value: 0 }], short: 'none left', meaning: 'there is no sent stream to take away' },
  recvStreamsIsZero: { tests: [{ counter: 'recvStreams', op: '=', value: 0 }], short: 'none left', meaning: 'there is no received stream to take away' },
  isLastPeerConnection: { tests: [{ counter: 'connections', op: '=', value: 2 }], short: 'last peer', meaning: 'the last peer leaves' },
  isLastSendStream: { tests: [{ counter: 'sendStreams', op: '=', value: 1 }], short: 'last sent', meaning: 'the last sent stream ends' },
  isLastRecvStream: { tests: [{ counter: 'recvStreams', op: '=', value: 1 }], short: 'last received', meaning: 'the last received stream ends' },
  hasSendAndRecvStreams: {
    tests: [
      { counter: 'sendStreams', op: '>', value: 0 },
      { counter: 'recvStreams', op: '>', value: 0 },
    ],
    short: 'sends & receives',
    meaning: 'media already flows both ways',
  },
  hasSendStreams: { tests: [{ counter: 'sendStreams', op: '>', value: 0 }], short: 'sends', meaning: 'outbound media is already up' },
  hasRecvStreams: { tests: [{ counter: 'recvStreams', op: '>', value: 0 }], short: 'receives', meaning: 'inbound media is already up' },
};

/** Whether a guard's description holds on these counters (the test compares this with the machine's guard). */
export function describedGuardHolds(guard: string, counters: RoomCounters): boolean {
  const w = GUARD_WORDS[guard];
  if (!w) throw new Error(`no words for guard ${guard}`);
  return w.tests.every((t) => (t.op === '=' ? counters[t.counter] === t.value : counters[t.counter] > t.value));
}

export const guardShort = (guard: string): string => GUARD_WORDS[guard]?.short ?? guard;

/**
 * The guard's condition in words, e.g. "connections is 2 before the event, 1 after: the last peer leaves".
 * Guards read the counters before the event's own counting (XState runs guards before actions).
 */
export function guardCondition(guard: string, event: Candidate['event']): string {
  const w = GUARD_WORDS[guard];
  if (!w) return guard;
  const change = event !== 'always' && event !== '*' ? COUNTING[event] : undefined;
  const parts = w.tests.map((t) => {
    const now = t.op === '=' ? `${t.counter} is ${t.value}` : `${t.counter} is more than ${t.value}`;
    if (event === 'always') return now;
    const after = change && change.counter === t.counter && t.op === '=' ? `, ${t.value + change.delta} after` : '';
    return `${now} before the event${after}`;
  });
  return `${parts.join(' and ')}: ${w.meaning}`;
}

export function counterChangeWords(c: Candidate): string {
  return c.counterChange ? `${c.counterChange.counter} ${c.counterChange.delta > 0 ? '+1' : '-1'}` : 'none';
}

export const ORIGIN_WORDS: Readonly<Record<EdgeOrigin, string>> = {
  diagram: "drawn in the spec's diagram (section 3)",
  exceptional: 'an exceptional transition the spec names (section 3)',
  completion: 'completes the machine (spec section 4: decisions the diagram leaves open)',
  settling: 'eventless settling (spec 4.3): taken in the same step as the event that entered the state, with one report',
};

/** The label drawn on an edge: the event on two lines (namespace, name) and the guard's short tag. */
export function edgeLines(e: DiagramEdge): string[] {
  const head = e.event === undefined ? ['eventless'] : e.event.replace('.', '.\n').split('\n');
  return e.guard ? [...head, `[${guardShort(e.guard)}]`] : head;
}

/** The accessible name of an edge: its ends and its drawn label, e.g. "sending to sendrecv on Session.streamCreated". */
export function edgeName(e: DiagramEdge): string {
  const on = e.event === undefined ? 'eventless' : `on ${e.event}`;
  return `${e.from} to ${e.to} ${on}${e.guard ? ` [${guardShort(e.guard)}]` : ''}`;
}

