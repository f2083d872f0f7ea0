import { createActor } from 'xstate';
import { ROOM_EVENTS } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { firingCandidate } from '../../src/model/candidates';
import { SPEC_DIAGRAM_EDGES, SPEC_EXCEPTIONAL_EDGES } from '../../src/model/specDiagram';
import { exploreGraph } from '../../src/testgen/explore';
import { coverageTour } from '../../src/testgen/select';
import { oracleStep } from '../support/specOracle';

const graph = exploreGraph(3);
const stateOf = (key: string) => graph.nodes.get(key)!.state;

describe('spec section 3: the diagram as drawn', () => {
  const drawn = [...SPEC_DIAGRAM_EDGES.map((e) => ({ ...e, kind: 'diagram' })), ...SPEC_EXCEPTIONAL_EDGES.map((e) => ({ ...e, kind: 'exceptional' }))];
  it.each(drawn.map((e) => [e.kind, e.from, e.event, e.to]))('%s edge %s --%s--> %s, replayed on a started actor', (_k, from, event, to) => {
    // the shortest event path from init that ends by taking this edge (where its guard holds)
    const [path] = coverageTour(graph, (e) => (stateOf(e.from) === from && e.event === event && stateOf(e.to) === to ? ['edge'] : []));
    expect(path[path.length - 1]).toBe(event);
    const actor = createActor(roomSessionMachine).start();
    for (const type of path.slice(0, -1)) actor.send({ type } as never);
    expect(actor.getSnapshot().value).toBe(from);
    // and it is written as a transition of `from` in the machine, not produced by a helper
    const c = firingCandidate(from as never, actor.getSnapshot().context, event);
    expect([c.definedOn, c.target, c.kind]).toEqual([from, to, 'transition']);
    actor.send({ type: event } as never);
    expect(actor.getSnapshot().value).toBe(to);
  });

  it('every state-changing transition of the machine is an edge of the spec diagram, an exceptional one, or a 4.x completion', () => {
    const changes = new Set(graph.edges.filter((e) => stateOf(e.from) !== stateOf(e.to)).map((e) => `${stateOf(e.from)} ${e.event} ${stateOf(e.to)}`));
    const spec = new Set<string>();
    for (const n of graph.nodes.values())
      for (const type of ROOM_EVENTS) {
        const o = oracleStep(n.state, n.counters, type);
        if (o.state !== n.state) spec.add(`${n.state} ${type} ${o.state}`);
      }
    expect(changes.size).toBeGreaterThan(16);
    expect([...changes].sort()).toEqual([...spec].sort());
  });
});
