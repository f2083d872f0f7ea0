// Path selection over the explored graph. Every path starts at init with zero counters.
// The tour is greedy: walk to the nearest edge that exercises something not yet covered
// (breadth-first), or start a new case from init when that is strictly nearer; stop when
// every reachable target is covered (GraphWalker's "edge coverage 100%", on the machine's
// candidates rather than the explored edges).
import { seededRandom } from './random';
import type { GraphEdge, TestGraph } from './explore';

/** Which targets taking `edge` covers (transition candidates, or states). */
export type TargetsOf = (edge: GraphEdge) => readonly string[];

export const candidateTargets: TargetsOf = (edge) => edge.items;

export function stateTargets(graph: TestGraph): TargetsOf {
  return (edge) => [graph.nodes.get(edge.to)!.state];
}

/** Shortest path (as edges) from `from` to the nearest edge covering an uncovered target; undefined if none. */
function nearestUncovered(graph: TestGraph, from: string, targetsOf: TargetsOf, uncovered: Set<string>): GraphEdge[] | undefined {
  const via = new Map<string, GraphEdge | null>([[from, null]]);
  let frontier = [from];
  while (frontier.length > 0) {
    // Prefer, among edges at this distance, the one covering the most uncovered targets.
    let best: { edge: GraphEdge; gain: number } | undefined;
    for (const node of frontier) {
      for (const edge of graph.out.get(node) ?? []) {
        const gain = targetsOf(edge).filter((t) => uncovered.has(t)).length;
        if (gain > (best?.gain ?? 0)) best = { edge, gain };
      }
    }
    if (best) {
      const path = [best.edge];
      for (let e = via.get(best.edge.from); e; e = via.get(e.from)) path.unshift(e);
      return path;
    }
    const next: string[] = [];
    for (const node of frontier) {
      for (const edge of graph.out.get(node) ?? []) {
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

/** Every target some edge of the graph covers: what "100%" means within the bound. */
export function reachableTargets(graph: TestGraph, targetsOf: TargetsOf): Set<string> {
  return new Set(graph.edges.flatMap((e) => [...targetsOf(e)]));
}

/** The coverage-directed tour: event sequences from init that together cover every reachable target. */
export function coverageTour(graph: TestGraph, targetsOf: TargetsOf, coveredAtStart: readonly string[] = []): string[][] {
  const uncovered = reachableTargets(graph, targetsOf);
  for (const t of coveredAtStart) uncovered.delete(t);
  const paths: string[][] = [];
  let current: string[] = [];
  let at = graph.start;
  while (uncovered.size > 0) {
    const onward = nearestUncovered(graph, at, targetsOf, uncovered);
    const fresh = at === graph.start ? onward : nearestUncovered(graph, graph.start, targetsOf, uncovered);
    if (!onward && !fresh) throw new Error('internal: reachable targets left that no path reaches');
    let path = onward;
    if (!onward || (fresh && fresh.length < onward.length)) {
      if (current.length > 0) paths.push(current);
      current = [];
      path = fresh;
    }
    for (const edge of path!) {
      current.push(edge.event);
      for (const t of targetsOf(edge)) uncovered.delete(t);
      at = edge.to;
      // Back at init with zero counters: a new case costs nothing here, and short cases fail more legibly.
      if (at === graph.start) {
        paths.push(current);
        current = [];
      }
    }
  }
  if (current.length > 0) paths.push(current);
  return paths;
}

/** Seeded random walks over the explored graph (uniform among the events followed at each node). */
export function randomWalks(graph: TestGraph, seed: number, count: number, length: number): string[][] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const events: string[] = [];
    let at = graph.start;
    for (let i = 0; i < length; i++) {
      const choices = graph.out.get(at) ?? [];
      if (choices.length === 0) break;
      const edge = choices[Math.floor(rand() * choices.length)];
      events.push(edge.event);
      at = edge.to;
    }
    return events;
  });
}
