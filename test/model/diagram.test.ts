import { createActor } from 'xstate';
import { ROOM_EVENTS } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { exploreRoom } from '../../src/model/explore';
import { SPEC_DIAGRAM_EDGES, SPEC_EXCEPTIONAL_EDGES } from '../../src/model/specDiagram';
import { firingCandidate } from '../../src/model/candidates';
import { oracleStep } from './specOracle';

const { nodes, edges } = exploreRoom(3);

describe('spec section 3: the diagram as drawn', () => {
  const drawn = [...SPEC_DIAGRAM_EDGES.map((e) => ({ ...e, kind: 'diagram' })), ...SPEC_EXCEPTIONAL_EDGES.map((e) => ({ ...e, kind: 'exceptional' }))];
  it.each(drawn.map((e) => [e.kind, e.from, e.event, e.to]))('%s edge %s --%s--> %s, replayed on a started actor', (_k, from, event, to) => {
    // a shortest path to a node of `from` from which `event` leads to `to` (the guard holds there)
    const witness = edges.find((e) => nodes.get(e.from)!.state === from && e.event === event && e.step.state === to);
    expect(witness).toBeDefined();
    const actor = createActor(roomSessionMachine).start();
    for (const type of nodes.get(witness!.from)!.path) actor.send({ type } as never);
    expect(actor.getSnapshot().value).toBe(from);
    actor.send({ type: event } as never);
    expect(actor.getSnapshot().value).toBe(to);
    // and it is written as a transition of `from` in the machine, not produced by a helper
    const c = firingCandidate(from as never, nodes.get(witness!.from)!.counters, event);
    expect([c.definedOn, c.target, c.kind]).toEqual([from, to, 'transition']);
  });

  it('every state-changing transition of the machine is an edge of the spec diagram, an exceptional one, or a 4.x completion', () => {
    const changes = new Set(edges.filter((e) => nodes.get(e.from)!.state !== e.step.state).map((e) => `${nodes.get(e.from)!.state} ${e.event} ${e.step.state}`));
    const spec = new Set<string>();
    for (const n of nodes.values()) for (const type of ROOM_EVENTS) {
      const o = oracleStep(n.state, n.counters, type);
      if (o.state !== n.state) spec.add(`${n.state} ${type} ${o.state}`);
    }
    expect([...changes].sort()).toEqual([...spec].sort());
  });
});

describe('the candidate view matches the machine on every explored edge', () => {
  it('firingCandidate predicts the target and counter change the machine produced', () => {
    expect(edges.length).toBeGreaterThan(100);
    for (const e of edges) {
      const from = nodes.get(e.from)!;
      const [fired, settled] = e.fired;
      if (!e.step.accepted) {
        expect(fired.kind).toBe('reject');
        expect(fired.rejection).toBe(e.step.anomaly?.reason);
        continue;
      }
      const target = settled?.target ?? fired.target ?? from.state;
      expect(target).toBe(e.step.state);
      const { counter, delta } = fired.counterChange!;
      expect(e.step.counters[counter] - from.counters[counter]).toBe(delta);
    }
  });
});
