// Build-time only (scripts/build-visualizer.mjs, and the drift test): the page's diagram laid out by Graphviz from the
// machine's edges. The page ships the resulting SVG, not Graphviz. Never imported by the page's script.
import { instance } from '@viz-js/viz';
import { ROOM_STATES, type RoomState } from '../../../machines/domain';
import { roomSessionMachine } from '../../../machines/roomSession';
import { diagramEdges, type DiagramEdge, type EdgeOrigin } from '../../model/diagramEdges';
import { edgeGroups, IN_CALL } from './edgeGroups';
import { edgeLines, guardShort, STATE_CONDITION } from './explain';

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

// Colours for the exported file; the page restyles them with CSS (light and dark).
const EDGE_STYLE: Record<EdgeOrigin, string> = {
  diagram: 'color="#1f4e79", fontcolor="#1f4e79"',
  exceptional: 'color="#a93226", fontcolor="#a93226", style=dashed',
  completion: 'color="#6c3483", fontcolor="#6c3483", style=dashed',
  settling: 'color="#4d5656", fontcolor="#4d5656", style=dotted, arrowhead=empty',
};

/** The main path, read top to bottom: drawn straight and heavy. */
const MAIN_PATH: ReadonlyArray<[string, string]> = [
  ['init', 'waiting'],
  ['waiting', 'starting'],
  ['starting', 'sendrecv'],
];
const onMainPath = (e: DiagramEdge) => MAIN_PATH.some(([a, b]) => e.from === a && e.to === b);

/**
 * The page's DOT, a layout with a story: the main path init -> waiting -> starting -> sendrecv top to bottom,
 * sending | sendrecv | receiving in one row, cleanup below them, all the call's states in a frame from which the
 * "last peer leaves" line goes back to waiting. Edge labels are short (event on two lines, the guard's tag); the
 * details panel gives the rest.
 */
export function pageDot(): string {
  const initial = roomSessionMachine.root.initial?.target?.[0]?.key ?? 'init';
  const edges = diagramEdges();
  const groups = edgeGroups(edges);
  const grouped = new Set(groups.flatMap((g) => g.members.map((e) => e.id)));
  // A state's name and, smaller under it, its counters' condition (spec 4.2). Laid out bold, as the current state is
  // drawn (the page draws the others plain: style.css), so that its box has room for it.
  const node = (s: RoomState) => `  ${quote(s)} [id=${quote(`state-${s}`)}, class="state", label=<<B>${s}</B><BR/><FONT POINT-SIZE="16"><B>${STATE_CONDITION[s]}</B></FONT>>];`;
  const edge = (e: DiagramEdge) => {
    const main = onMainPath(e) ? ', weight=8' : '';
    // Edges within the row: Graphviz stacks their labels in one spot; as xlabels they are placed clear of each other.

    return `  ${quote(e.from)} -> ${quote(e.to)} [id=${quote(e.id)}, class=${quote(e.origin)}, label=${quote(edgeLines(e).join('\n'))}, ${EDGE_STYLE[e.origin]}${main}];`;
  };
  return [
    'digraph roomSession {',
    '  rankdir=TB; compound=true; newrank=true; forcelabels=true;',
    '  graph [fontname="Helvetica", nodesep=0.5, ranksep=0.7, pad=0.1, splines=spline];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f7", color="#34495e", fontname="Helvetica", fontsize=20, margin="0.2,0.06"];',
    '  edge [fontname="Helvetica", fontsize=16, penwidth=1.5];',
    '  start [id="start", shape=point, width=0.18, label=""];',
    ...ROOM_STATES.filter((s) => !IN_CALL.includes(s)).map(node),
    '  subgraph cluster_call {',
    '    id="frame-call"; class="frame"; label="in a call"; labeljust=l; fontsize=16; fontcolor="#4d5656"; style="rounded,dashed"; color="#8c979f"; margin=14;',
    ...IN_CALL.map((s) => `  ${node(s)}`),
    '    { rank=same; "sending"; "sendrecv"; "receiving"; }',
    '    "sending" -> "sendrecv" -> "receiving" [style=invis, weight=4];',
    '  }',
    `  start -> ${quote(initial)} [id="edge-start"];`,
    ...edges.filter((e) => !grouped.has(e.id)).map(edge),
    // One line from the frame (ltail: its tail on the frame, not on a state) to the target; it ranks nothing.
    ...groups.map(
      (g) =>
        `  "cleanup" -> ${quote(g.to)} [id=${quote(g.id)}, class="exceptional group", ltail="cluster_call", constraint=false, label=${quote(`${g.event.replace('.', '.\n')}\n[${guardShort(g.guard)}]\nfrom any state in the call`)}, ${EDGE_STYLE.exceptional}];`,
    ),
    '}',
    '',
  ].join('\n');
}

/** The laid-out SVG, ready to inline in HTML: no XML prolog, doctype or comments. */
export async function pageSvg(): Promise<string> {
  const viz = await instance();
  const svg = viz.renderString(pageDot(), { format: 'svg', engine: 'dot' });
  return svg
    .replace(/<\?xml[^>]*>\s*/, '')
    .replace(/<!DOCTYPE[^>]*>\s*/, '')
    .replace(/<!--[\s\S]*?-->\s*/g, '')
    .trim();
}
