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

export interface GraphNode {
  key: string;
  state: RoomState;
  counters: RoomCounters;
}

export interface GraphEdge {
  from: string;
  to: string;
  event: string;
  accepted: boolean;
  /** Ids of the candidates this edge fires: the event's, then any eventless settling. */
  items: string[];
}

export interface TestGraph {
  maxCount: number;
  events: readonly string[];
  start: string;
  nodes: Map<string, GraphNode>;
  edges: GraphEdge[];
  /** Outgoing edges per node, in event order (so every walk over the graph is deterministic). */
  out: Map<string, GraphEdge[]>;
}

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
