// The statechart as a diagram, drawn from the machine's candidates: Graphviz DOT and Mermaid.
import { ROOM_STATES, type RoomState } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { allCandidates, type Candidate } from '../model/candidates';
import { SPEC_DIAGRAM_EDGES, SPEC_EXCEPTIONAL_EDGES } from '../model/specDiagram';

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

const EDGE_STYLE: Record<EdgeOrigin, string> = {
  diagram: 'color="#1f4e79", fontcolor="#1f4e79"',
  exceptional: 'color="#b03a2e", fontcolor="#b03a2e", style=dashed',
  completion: 'color="#6c3483", fontcolor="#6c3483", style=dashed',
  settling: 'color="#555555", fontcolor="#555555", style=dotted, arrowhead=empty',
};

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
// Event and guard on two lines keeps the drawing narrow.
const dotLabel = (e: DiagramEdge) => quote(edgeLabel(e)).replace(' [', '\\n[');

/** Graphviz DOT. Node ids are `state-<name>`, edge ids `edge-...`, so a page can find them in the rendered SVG. */
export function toDot(): string {
  const initial = roomSessionMachine.root.initial?.target?.[0]?.key ?? 'init';
  const lines = [
    'digraph roomSession {',
    '  rankdir=TB;',
    '  graph [fontname="Helvetica", fontsize=11, nodesep=0.6, ranksep=0.55];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f7", color="#34495e", fontname="Helvetica", fontsize=12];',
    '  edge [fontname="Helvetica", fontsize=9];',
    '  start [id="start", shape=point, width=0.15, label=""];',
    ...ROOM_STATES.map((s) => `  ${quote(s)} [id=${quote(`state-${s}`)}, class=${quote('state')}];`),
    `  start -> ${quote(initial)};`,
    ...diagramEdges().map(
      (e) =>
        `  ${quote(e.from)} -> ${quote(e.to)} [id=${quote(e.id)}, class=${quote(`edge ${e.origin}`)}, label=${dotLabel(e)}, ${EDGE_STYLE[e.origin]}];`,
    ),
    '}',
  ];
  return lines.join('\n') + '\n';
}

/** Mermaid `stateDiagram-v2` (GitHub renders it). */
export function toMermaid(): string {
  const lines = ['stateDiagram-v2', '  [*] --> init'];
  for (const e of diagramEdges()) {
    const note = e.origin === 'diagram' ? '' : ` (${e.origin})`;
    lines.push(`  ${e.from} --> ${e.to} : ${e.event === undefined ? `[${e.guard}] eventless` : e.guard ? `${e.event} [${e.guard}]` : e.event}${e.event === undefined ? '' : note}`);
  }
  return lines.join('\n') + '\n';
}
