import { ROOM_COUNTERS, type RoomCounters, type RoomState } from '../../machines/domain';
import { allCandidates } from '../../src/model/candidates';
import { exploreGraph, nodeKey, type GraphEdge, type TestGraph } from '../../src/testgen/explore';

const byId = new Map(allCandidates().map((c) => [c.id, c]));

/** What the candidate view says an edge does: follow the fired candidates' targets and counter changes. */
function predicted(graph: TestGraph, edge: GraphEdge): string {
  const from = graph.nodes.get(edge.from)!;
  let state: RoomState = from.state;
  const counters: RoomCounters = { ...from.counters };
  for (const id of edge.items) {
    const c = byId.get(id)!;
    if (c.counterChange) counters[c.counterChange.counter] += c.counterChange.delta;
    if (c.target) state = c.target;
  }
  return nodeKey(state, counters);
}

describe('exploration with xstate/graph under a counter bound', () => {
  it.each([1, 2, 3])('at max count %i the candidate view agrees with the real machine on every explored edge', (n) => {
    const graph = exploreGraph(n);
    expect(graph.edges.length).toBeGreaterThan(0);
    for (const edge of graph.edges) expect({ edge: `${edge.from} ${edge.event}`, to: predicted(graph, edge) }).toEqual({ edge: `${edge.from} ${edge.event}`, to: edge.to });
  });

  it.each([0, 1, 2, 3])('at max count %i no node has a counter above the bound, and events beyond it are not followed', (n) => {
    const graph = exploreGraph(n);
    for (const node of graph.nodes.values()) for (const k of ROOM_COUNTERS) expect(node.counters[k]).toBeLessThanOrEqual(n);
    for (const edge of graph.edges) expect(graph.nodes.has(edge.to)).toBe(true);
  });

  it('is finite and saturates: max count 3 reaches every item that max count 5 reaches', () => {
    const items = (n: number) => new Set(exploreGraph(n).edges.flatMap((e) => e.items));
    expect(items(3)).toEqual(items(5));
    expect(items(2).size).toBeLessThan(items(3).size);
  });

  it('rejects a bad bound with a clear error', () => {
    expect(() => exploreGraph(-1)).toThrow(/maxCount must be an integer from 0 to 11/);
    expect(() => exploreGraph(1.5)).toThrow(RangeError);
    expect(() => exploreGraph(Number.NaN)).toThrow(RangeError);
  });
});
