// Exploration of the (state, counters) space with xstate/graph's getAdjacencyMap under a counter bound.
// The default serialisation would make every counter value a new state; here a node is state + counters,
// and an event that would push a counter above the bound is not followed, so the graph is finite.
import type { ActorLogic } from 'xstate';
import { getAdjacencyMap } from 'xstate/graph';
import { COUNTING, ROOM_EVENTS, ZERO_COUNTERS, isRoomEventType, type RoomCounters, type RoomEvent, type RoomState } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { countersOf, sameCounters, type RoomSnapshot } from '../model/step';
import { asRoomState, firedCandidates } from './items';

/** An event type no implementation knows, explored so the wildcard rejection is reached too. */
export const UNKNOWN_EVENT = 'Session.unknownEvent';

/** A node of the explored graph: a state with its counters. */
export interface GraphNode {
  /** `state/connections,sendStreams,recvStreams`, e.g. `sending/2,1,0`. */
  key: string;
  state: RoomState;
  counters: RoomCounters;
}

/** An edge of the explored graph: one event from one node (a rejected event loops back to its node). */
export interface GraphEdge {
  /** The keys of the nodes it joins. */
  from: string;
  to: string;
  event: string;
  /** False when the machine rejected the event (an anomaly; nothing changes). */
  accepted: boolean;
  /** Ids of the candidates this edge fires: the event's, then any eventless settling. */
  items: string[];
}

/**
 * The machine's (state, counters) space under a counter bound, as exploreGraph() finds it: what test
 * generation walks and coverage judges "reachable" by.
 */
export interface TestGraph {
  /** The counter bound: no counter goes above it. */
  maxCount: number;
  /** The event types explored from each node. */
  events: readonly string[];
  /** The key of the initial node (`init/0,0,0`). */
  start: string;
  nodes: Map<string, GraphNode>;
  edges: GraphEdge[];
  /** Outgoing edges per node, in event order (so every walk over the graph is deterministic). */
  out: Map<string, GraphEdge[]>;
}

/** The counter bound generation and exploreGraph() use when none is given (coverageOf() may take a higher one from its cases). */
export const DEFAULT_MAX_COUNT = 2;
/** The explored events: the six of the protocol and one unknown type, so the wildcard rejection is reached. */
export const EXPLORED_EVENTS: readonly string[] = [...ROOM_EVENTS, UNKNOWN_EVENT];

export const nodeKey = (state: string, c: RoomCounters): string => `${state}/${c.connections},${c.sendStreams},${c.recvStreams}`;


/** Would `event` push a counter above `maxCount`? Such events are not followed. */
function exceedsBound(counters: RoomCounters, event: string, maxCount: number): boolean {
  if (!isRoomEventType(event)) return false;
  const { counter, delta } = COUNTING[event];
  return delta > 0 && counters[counter] + delta > maxCount;
}

/** The highest bound an option may ask for: 3 already reaches every reachable item, and the graph grows with the cube of the bound. */
export const MAX_MAX_COUNT = 10;

export function checkMaxCount(maxCount: number, limit: number = MAX_MAX_COUNT): number {
  if (!Number.isInteger(maxCount) || maxCount < 0 || maxCount > limit) {
    throw new RangeError(`maxCount must be an integer from 0 to ${limit}, got ${String(maxCount)}`);
  }
  return maxCount;
}

/**
 * Explore the machine's (state, counters) space from `init`: every node reachable with counters up to
 * `maxCount` (0 to 11), each event of `events` followed from each node unless it would push a counter above
 * the bound. Throws a RangeError for a bad bound.
 */
export function exploreGraph(maxCount: number = DEFAULT_MAX_COUNT, events: readonly string[] = EXPLORED_EVENTS): TestGraph {
  // One above the options' limit: coverageOf explores one bound higher to tell 'beyond the bound' from 'never'.
  checkMaxCount(maxCount, MAX_MAX_COUNT + 1);
  // Unknown types are explored on purpose; the machine's event type only names the six.
  const eventObjects = events.map((type) => ({ type }) as RoomEvent);
  // xstate/graph's ActorLogic type has no slot for emitted events (the anomaly), hence the widening.
  const logic = roomSessionMachine as unknown as ActorLogic<RoomSnapshot, RoomEvent, unknown>;
  const adjacency = getAdjacencyMap(logic, {
    serializeState: (snapshot) => nodeKey(String(snapshot.value), countersOf(snapshot)),
    events: (snapshot) => eventObjects.filter((e) => !exceedsBound(countersOf(snapshot), e.type, maxCount)),
  });
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const out = new Map<string, GraphEdge[]>();
  for (const [key, value] of Object.entries(adjacency)) {
    nodes.set(key, { key, state: asRoomState(value.state.value), counters: countersOf(value.state) });
  }
  for (const [from, value] of Object.entries(adjacency)) {
    const state = asRoomState(value.state.value);
    const before = countersOf(value.state);
    const list: GraphEdge[] = [];
    for (const { event, state: next } of Object.values(value.transitions) as Array<{ event: RoomEvent; state: RoomSnapshot }>) {
      const after = countersOf(next);
      const to = nodeKey(String(next.value), after);
      const items = firedCandidates(state, before, event.type, after).map((c) => c.id);
      list.push({ from, to, event: event.type, accepted: isRoomEventType(event.type) && !sameCounters(before, after), items });
    }
    out.set(from, list);
    edges.push(...list);
  }
  return { maxCount, events, start: nodeKey('init', ZERO_COUNTERS), nodes, edges, out };
}
