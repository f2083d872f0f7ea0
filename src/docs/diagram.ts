// The statechart as a diagram, drawn from the machine's edges (src/model/diagramEdges.ts): Graphviz DOT and Mermaid.
import { ROOM_STATES } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { diagramEdges, edgeLabel, type DiagramEdge, type EdgeOrigin } from '../model/diagramEdges';

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
