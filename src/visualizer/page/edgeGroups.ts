// Drawing choices shared by the build-time layout (layout.ts) and the page (diagram.ts): which states form the call,
// and which machine edges are drawn as one line. The machine keeps every edge (the details panel lists each); the
// five "last peer leaves -> waiting" edges, one from every in-call state, are drawn as one line from the call's frame.
import type { RoomState } from '../../../machines/domain';
import type { DiagramEdge } from '../../model/diagramEdges';

/** The states inside the call's frame: the main path's goal and the states around it. */
export const IN_CALL: readonly RoomState[] = ['starting', 'sending', 'sendrecv', 'receiving', 'cleanup'];

export interface EdgeGroup {
  /** The drawn line's id (`edge-group-...`), in the SVG like an edge's. */
  id: string;
  to: RoomState;
  event: string;
  guard: string;
  members: DiagramEdge[];
}

/**
 * The edges drawn as one: for each (event, guard, target), the edges that leave every in-call state with it.
 * Only a full set is grouped (a frame line must mean "from any state in the call").
 */
export function edgeGroups(edges: readonly DiagramEdge[]): EdgeGroup[] {
  const byKey = new Map<string, DiagramEdge[]>();
  for (const e of edges) {
    if (!e.event || !e.guard || !IN_CALL.includes(e.from) || IN_CALL.includes(e.to)) continue;
    const key = `${e.event}|${e.guard}|${e.to}`;
    byKey.set(key, [...(byKey.get(key) ?? []), e]);
  }
  return [...byKey.values()]
    .filter((m) => IN_CALL.every((s) => m.some((e) => e.from === s)))
    .map((m) => ({ id: `edge-group-${m[0].event}-${m[0].guard}-${m[0].to}`.replace(/[^A-Za-z0-9_-]/g, '_'), to: m[0].to, event: m[0].event as string, guard: m[0].guard as string, members: m }));
}
