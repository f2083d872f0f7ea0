// Breadth-first exploration of the machine's reachable (state, counters) space under a counter bound,
// stepping the real machine; each edge records which candidates fired. Finite for any bound.
import { ROOM_EVENTS, type RoomCounters, type RoomState } from '../../machines/domain';
import { firingCandidate, firingSettling, type Candidate } from './candidates';
import { countersOf, initialRoomSnapshot, stepRoom, type RoomSnapshot, type RoomStep } from './step';

/** An event type no implementation knows, explored so the wildcard rejection is reached too. */
export const UNKNOWN_EVENT = 'Session.unknownEvent';

export interface ExploredNode {
  key: string;
  state: RoomState;
  counters: RoomCounters;
  snapshot: RoomSnapshot;
  /** Shortest event path from init to here. */
  path: string[];
}

export interface ExploredEdge {
  from: string;
  to: string;
  event: string;
  step: RoomStep;
  /** The candidate that fired on the event, then the settling candidate if one fired. */
  fired: Candidate[];
}

export const nodeKey = (state: string, c: RoomCounters) => `${state}/${c.connections},${c.sendStreams},${c.recvStreams}`;

/** Explore from init: a node is expanded while every counter is <= maxCount; events that go beyond are not followed. */
export function exploreRoom(maxCount = 2, events: readonly string[] = [...ROOM_EVENTS, UNKNOWN_EVENT]) {
  const start = initialRoomSnapshot();
  const first: ExploredNode = { key: nodeKey('init', countersOf(start)), state: 'init', counters: countersOf(start), snapshot: start, path: [] };
  const nodes = new Map<string, ExploredNode>([[first.key, first]]);
  const edges: ExploredEdge[] = [];
  const queue = [first];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const event of events) {
      const { snapshot, step } = stepRoom(node.snapshot, { type: event });
      if (Math.max(step.counters.connections, step.counters.sendStreams, step.counters.recvStreams) > maxCount) continue;
      const key = nodeKey(step.state, step.counters);
      const fired = [firingCandidate(node.state, node.counters, event)];
      const settled = fired[0].target ? firingSettling(fired[0].target, step.counters) : undefined;
      if (settled) fired.push(settled);
      edges.push({ from: node.key, to: key, event, step, fired });
      if (!nodes.has(key)) {
        const next: ExploredNode = { key, state: step.state, counters: step.counters, snapshot, path: [...node.path, event] };
        nodes.set(key, next);
        queue.push(next);
      }
    }
  }
  return { nodes, edges };
}
