// The test's own answer to "which drawn edges would the current snapshot take now", from the pure step alone:
// an edge S -E-> T when the state is S and E is accepted and settles in T (or in a state an eventless edge from T
// leads to); an eventless edge T -> U when such an edge enters T and the step settles in U. Ids are of the drawn lines.
import { diagramEdges } from '../../src/model/diagramEdges';
import { stepRoom, type RoomSnapshot } from '../../src/model/step';
import { edgeGroups } from '../../src/visualizer/page/edgeGroups';

const EDGES = diagramEdges();
/** The id of the line an edge is drawn as: its own, or its group's (the call frame's one line). */
const LINE = new Map(EDGES.map((e) => [e.id, edgeGroups(EDGES).find((g) => g.members.some((m) => m.id === e.id))?.id ?? e.id]));

export function availableEdgeIds(snapshot: RoomSnapshot): string[] {
  const out = new Set<string>();
  for (const e of EDGES) {
    if (e.event === undefined || e.from !== snapshot.value) continue;
    const { step } = stepRoom(snapshot, { type: e.event });
    if (!step.accepted || step.state === e.from) continue;
    const settles = EDGES.find((x) => x.event === undefined && x.from === e.to && x.to === step.state);
    if (step.state !== e.to && !settles) continue;
    out.add(e.id);
    if (settles && step.state !== e.to) out.add(settles.id);
  }
  return [...new Set([...out].map((id) => LINE.get(id) as string))].sort();
}
