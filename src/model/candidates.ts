// The machine's transition candidates, read from its definition (not restated by hand):
// the docs, the visualizer and the test generator all describe the machine through this.
import { ROOM_EVENTS, ROOM_STATES, COUNTING, isRoomEventType, type RoomCounter, type RoomCounters, type RoomEventType, type RoomState, type AnomalyReason } from '../../machines/domain';
import { COUNTING_ACTIONS, REJECTING_ACTIONS, roomSessionMachine } from '../../machines/roomSession';

/** `'*'` is the wildcard (unknown event types); `'always'` the eventless settling. */
export type CandidateEvent = RoomEventType | '*' | 'always';

export interface Candidate {
  /** Stable id: `<state>|<event>|<n>` (n-th candidate in evaluation order, 0-based). */
  id: string;
  state: RoomState;
  event: CandidateEvent;
  index: number;
  /** Where it is written: in the state itself, or at the root (rule 4.1, inherited by every state). */
  definedOn: RoomState | 'root';
  guard?: string;
  /** Target state; undefined for a targetless (counter-only or rejecting) transition. */
  target?: RoomState;
  actions: string[];
  /** A transition to another state, a counter-only self-transition, a rejection, or an eventless settling step. */
  kind: 'transition' | 'count' | 'reject' | 'settle';
  counterChange?: { counter: RoomCounter; delta: 1 | -1 };
  rejection?: AnomalyReason;
}

type RawTransition = {
  guard?: unknown;
  target?: ReadonlyArray<{ key: string }>;
  actions: ReadonlyArray<unknown>;
};

const nameOf = (x: unknown): string =>
  typeof x === 'string' ? x : typeof x === 'object' && x !== null && 'type' in x ? String((x as { type: unknown }).type) : String(x);

function toCandidate(state: RoomState, event: CandidateEvent, index: number, definedOn: RoomState | 'root', t: RawTransition): Candidate {
  const actions = t.actions.map(nameOf);
  const target = t.target?.[0]?.key as RoomState | undefined;
  const counting = actions.find((a): a is keyof typeof COUNTING_ACTIONS => a in COUNTING_ACTIONS);
  const rejecting = actions.find((a): a is keyof typeof REJECTING_ACTIONS => a in REJECTING_ACTIONS);
  const kind: Candidate['kind'] = event === 'always' ? 'settle' : rejecting ? 'reject' : target && target !== state ? 'transition' : 'count';
  return {
    id: `${state}|${event}|${index}`,
    state,
    event,
    index,
    definedOn,
    ...(t.guard === undefined ? {} : { guard: nameOf(t.guard) }),
    ...(target === undefined ? {} : { target }),
    actions,
    kind,
    ...(counting ? { counterChange: { ...COUNTING[COUNTING_ACTIONS[counting]] } } : {}),
    ...(rejecting ? { rejection: REJECTING_ACTIONS[rejecting] } : {}),
  };
}

/** The candidates for `event` in `state`, in the order XState tries them: the state's own, then the root's. */
export function candidatesOf(state: RoomState, event: RoomEventType | '*'): Candidate[] {
  const own = (roomSessionMachine.root.states[state].transitions.get(event) ?? []) as unknown as RawTransition[];
  const root = (roomSessionMachine.root.transitions.get(event) ?? []) as unknown as RawTransition[];
  const ordered: Array<[RoomState | 'root', RawTransition]> = [
    ...own.map((t) => [state, t] as [RoomState, RawTransition]),
    ...root.map((t) => ['root', t] as ['root', RawTransition]),
  ];
  const list = ordered.map(([on, t], i) => toCandidate(state, event, i, on, t));
  // A known event that no candidate matches falls through to the root wildcard.
  return list.length > 0 || event === '*' ? list : candidatesOf(state, '*');
}

/** The eventless candidates of `state`, in order. */
export function settlingOf(state: RoomState): Candidate[] {
  const always = (roomSessionMachine.root.states[state].always ?? []) as unknown as RawTransition[];
  return always.map((t, i) => toCandidate(state, 'always', i, state, t));
}

/** Every candidate of the machine, state by state: the six events, unknown events (`*`), then settling. */
export function allCandidates(): Candidate[] {
  return ROOM_STATES.flatMap((state) => [
    ...ROOM_EVENTS.flatMap((event) => candidatesOf(state, event)),
    ...candidatesOf(state, '*'),
    ...settlingOf(state),
  ]);
}

/** Evaluate a named guard of the machine on counters (guards read only the context). */
export function guardHolds(guard: string | undefined, counters: RoomCounters, event: CandidateEvent): boolean {
  if (guard === undefined) return true;
  const impl = (roomSessionMachine.implementations.guards as Record<string, unknown>)[guard];
  if (typeof impl !== 'function') throw new Error(`guard ${guard} has no implementation`);
  return Boolean((impl as (args: unknown, params: unknown) => boolean)({ context: counters, event: { type: event } }, undefined));
}

/** Which candidate fires for `event` in `state` with these counters (the first whose guard holds). */
export function firingCandidate(state: RoomState, counters: RoomCounters, event: string): Candidate {
  const key: RoomEventType | '*' = isRoomEventType(event) ? event : '*';
  const found = candidatesOf(state, key).find((c) => guardHolds(c.guard, counters, key));
  if (!found) throw new Error(`machine is not total: nothing fires for ${event} in ${state}`);
  return found;
}

/** Which settling candidate fires in `state` with these counters, if any. */
export function firingSettling(state: RoomState, counters: RoomCounters): Candidate | undefined {
  return settlingOf(state).find((c) => guardHolds(c.guard, counters, 'always'));
}

/**
 * The candidates one accepted event fires, in order: the event's own, then settling steps until none fires (so
 * waiting --Session.connectionCreated--> starting, then starting -> sending). `after`: the counters once counted.
 */
export function firedCandidates(from: RoomState, before: RoomCounters, event: string, after: RoomCounters): Candidate[] {
  const fired = [firingCandidate(from, before, event)];
  let at = fired[0].target;
  for (let i = 0; at && i < 10; i++) {
    const settle = firingSettling(at, after);
    if (!settle) break;
    fired.push(settle);
    at = settle.target;
  }
  return fired;
}
