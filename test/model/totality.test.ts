import { ROOM_EVENTS, ROOM_STATES, type RoomEventType, type RoomState } from '../../machines/domain';
import { allCandidates, candidatesOf } from '../../src/model/candidates';
import { exploreGraph, UNKNOWN_EVENT } from '../../src/testgen/explore';

// Spec section 4, state by state: what each event can do there, given the state's 4.2 invariant.
// 'count' = stays, counter only; 'reject' = counter-underflow; a state name = where it settles.
const C = 'Session.connectionCreated', CD = 'Session.connectionDestroyed';
const SC = 'Session.streamCreated', SD = 'Session.streamDestroyed';
const PC = 'Publisher.streamCreated', PD = 'Publisher.streamDestroyed';
const DOCUMENTED: Record<RoomState, Record<RoomEventType, string[]>> = {
  init: { [C]: ['waiting'], [CD]: ['reject'], [SC]: ['count'], [SD]: ['count', 'reject'], [PC]: ['count'], [PD]: ['count', 'reject'] },
  waiting: { [C]: ['starting', 'sending', 'receiving', 'sendrecv'], [CD]: ['init'], [SC]: ['count'], [SD]: ['count', 'reject'], [PC]: ['count'], [PD]: ['count', 'reject'] },
  starting: { [C]: ['count'], [CD]: ['waiting', 'count'], [SC]: ['receiving'], [SD]: ['reject'], [PC]: ['sending'], [PD]: ['reject'] },
  sending: { [C]: ['count'], [CD]: ['waiting', 'count'], [SC]: ['sendrecv'], [SD]: ['reject'], [PC]: ['count'], [PD]: ['cleanup', 'count'] },
  receiving: { [C]: ['count'], [CD]: ['waiting', 'count'], [SC]: ['count'], [SD]: ['cleanup', 'count'], [PC]: ['sendrecv'], [PD]: ['reject'] },
  sendrecv: { [C]: ['count'], [CD]: ['waiting', 'count'], [SC]: ['count'], [SD]: ['sending', 'count'], [PC]: ['count'], [PD]: ['receiving', 'count'] },
  cleanup: { [C]: ['count'], [CD]: ['waiting', 'count'], [SC]: ['receiving'], [SD]: ['reject'], [PC]: ['sending'], [PD]: ['reject'] },
};

describe('totality (spec section 4): every state x event has its documented outcome', () => {
  // Bound 3 reaches every state with counters 0..3, enough for every guard outcome (guards compare with 0, 1 and 2).
  const graph = exploreGraph(3);
  const candidates = new Map(allCandidates().map((c) => [c.id, c]));
  const observed = new Map<string, Set<string>>();
  for (const e of graph.edges) {
    const from = graph.nodes.get(e.from)!.state;
    const to = graph.nodes.get(e.to)!.state;
    const rejection = candidates.get(e.items[0])!.rejection;
    const outcome = !e.accepted ? (rejection === 'unknown-event' ? 'unknown' : 'reject') : to === from ? 'count' : to;
    const key = `${from}|${e.event}`;
    if (!observed.has(key)) observed.set(key, new Set());
    observed.get(key)!.add(outcome);
  }

  it('explores all seven states', () => {
    expect(new Set([...graph.nodes.values()].map((n) => n.state))).toEqual(new Set(ROOM_STATES));
  });

  const pairs = ROOM_STATES.flatMap((s) => ROOM_EVENTS.map((e) => [s, e] as const));
  it('enumerates 42 pairs', () => expect(pairs).toHaveLength(42));

  it.each(pairs)('%s x %s', (state, event) => {
    // something always fires: the last candidate has no guard
    const list = candidatesOf(state, event);
    expect(list.length).toBeGreaterThan(0);
    expect(list[list.length - 1].guard).toBeUndefined();
    expect([...(observed.get(`${state}|${event}`) ?? [])].sort()).toEqual([...DOCUMENTED[state][event]].sort());
  });

  it.each(ROOM_STATES)('%s rejects an unknown event type', (state) => {
    expect([...(observed.get(`${state}|${UNKNOWN_EVENT}`) ?? [])]).toEqual(['unknown']);
    expect(candidatesOf(state, '*').map((c) => c.rejection)).toEqual(['unknown-event']);
  });
});
