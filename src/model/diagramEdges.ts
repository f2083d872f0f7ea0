// The statechart's drawn edges, from the machine's candidates: what the docs' diagrams, the visualizer and traffic
// counts all draw. Pure model data (no rendering), so the layers above it import it from here.
import type { RoomState } from '../../machines/domain';
import { allCandidates, type Candidate } from './candidates';
import { SPEC_DIAGRAM_EDGES, SPEC_EXCEPTIONAL_EDGES } from './specDiagram';

/** How an edge relates to the spec: drawn in section 3, named exceptional there, completing (section 4), or eventless settling. */
export type EdgeOrigin = 'diagram' | 'exceptional' | 'completion' | 'settling';

export interface DiagramEdge {
  id: string;
  from: RoomState;
  to: RoomState;
  /** The event type, or undefined for an eventless (`always`) step. */
  event?: string;
  guard?: string;
  origin: EdgeOrigin;
  candidate: Candidate;
}

const sameEdge = (c: Candidate) => (e: { from: RoomState; event: string; to: RoomState }) =>
  e.from === c.state && e.event === c.event && e.to === c.target;

function originOf(c: Candidate): EdgeOrigin {
  if (c.kind === 'settle') return 'settling';
  if (SPEC_DIAGRAM_EDGES.some(sameEdge(c))) return 'diagram';
  if (SPEC_EXCEPTIONAL_EDGES.some(sameEdge(c))) return 'exceptional';
  return 'completion';
}

/** The state-changing edges of the machine (transitions and settling steps); counter-only self-transitions are not drawn. */
export function diagramEdges(): DiagramEdge[] {
  return allCandidates()
    .filter((c) => c.kind === 'transition' || c.kind === 'settle')
    .map((c) => ({
      id: `edge-${c.state}-${c.event}-${c.index}`.replace(/[^A-Za-z0-9_-]/g, '_'),
      from: c.state,
      to: c.target as RoomState,
      ...(c.kind === 'settle' ? {} : { event: c.event }),
      ...(c.guard ? { guard: c.guard } : {}),
      origin: originOf(c),
      candidate: c,
    }));
}

export const edgeLabel = (e: DiagramEdge): string =>
  e.event === undefined ? `[${e.guard}] (eventless)` : e.guard ? `${e.event} [${e.guard}]` : e.event;
