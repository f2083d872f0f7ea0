// Isolated cases: one short case per coverage item (the shortest prefix from init that reaches the item,
// then the item's event), for black-box runners that stop a case at its first mismatch: one bug then fails
// the cases of the items it breaks. Each step names the items it fires.
import type { RoomState } from '../../machines/domain';
import { initialRoomSnapshot, stepRoom } from '../model/step';
import type { GraphEdge, TestGraph } from './explore';
import { coverageItems, firedCandidates } from './items';
import type { TestStep } from './types';

/** The shortest path from init whose last edge satisfies `last` (breadth-first, edges in event order). */
export function shortestPathTo(graph: TestGraph, last: (e: GraphEdge) => boolean): GraphEdge[] | undefined {
  const via = new Map<string, GraphEdge | null>([[graph.start, null]]);
  let frontier = [graph.start];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const node of frontier) {
      for (const edge of graph.out.get(node) ?? []) {
        if (last(edge)) {
          const path = [edge];
          for (let e = via.get(edge.from); e; e = via.get(e.from)) path.unshift(e);
          return path;
        }
        if (!via.has(edge.to)) {
          via.set(edge.to, edge);
          next.push(edge.to);
        }
      }
    }
    frontier = next;
  }
  return undefined;
}

/** Per coverage item reachable in `graph` (in the machine's item order): the events of its shortest case. */
export function isolatedPaths(graph: TestGraph): Array<{ item: string; events: string[] }> {
  const out: Array<{ item: string; events: string[] }> = [];
  for (const { id } of coverageItems()) {
    const path = shortestPathTo(graph, (e) => e.items.includes(id));
    if (path) out.push({ item: id, events: path.map((e) => e.event) });
  }
  return out;
}

/** The coverage items each step fires (its event's candidate, then any settling), per step. */
export function coversOfSteps(steps: readonly TestStep[]): string[][] {
  let snapshot = initialRoomSnapshot();
  return steps.map((s) => {
    const before = snapshot;
    const r = stepRoom(before, { type: s.event });
    snapshot = r.snapshot;
    return firedCandidates(before.value as RoomState, before.context, s.event, r.step.counters).map((c) => c.id);
  });
}

/** Every item the steps fire, once each, in first-fired order. */
export function itemsOfSteps(steps: readonly TestStep[]): string[] {
  return [...new Set(coversOfSteps(steps).flat())];
}
