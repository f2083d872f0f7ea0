// Build-time only (scripts/build-visualizer.mjs, and the drift test): the page's diagram laid out by Graphviz from the
// machine's edges. The page ships the resulting SVG, not Graphviz. Never imported by the page's script.
import { instance } from '@viz-js/viz';
import { ROOM_STATES } from '../../../machines/domain';
import { roomSessionMachine } from '../../../machines/roomSession';
import { diagramEdges, type EdgeOrigin } from '../../model/diagramEdges';
import { edgeLines } from './explain';

const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

// Colours for the exported file; the page restyles them with CSS (light and dark).
const EDGE_STYLE: Record<EdgeOrigin, string> = {
  diagram: 'color="#1f4e79", fontcolor="#1f4e79"',
  exceptional: 'color="#a93226", fontcolor="#a93226", style=dashed',
  completion: 'color="#6c3483", fontcolor="#6c3483", style=dashed',
  settling: 'color="#4d5656", fontcolor="#4d5656", style=dotted, arrowhead=empty',
};

/**
 * The page's DOT: top to bottom, tight separations and large type, so the whole chart fits a laptop's diagram
 * column with every label at 11 CSS px or more. Edge labels are short (event on two lines, the guard's tag);
 * the details panel gives the rest. nodesep 0.17 is the least that keeps side-by-side edge labels (init's two)
 * apart, bold when highlighted; more would shrink the chart at 1280x800.
 */
export function pageDot(): string {
  const initial = roomSessionMachine.root.initial?.target?.[0]?.key ?? 'init';
  return [
    'digraph roomSession {',
    '  rankdir=TB;',
    '  graph [fontname="Helvetica", nodesep=0.17, ranksep=0.4, pad=0.1];',
    '  node [shape=box, style="rounded,filled", fillcolor="#f4f6f7", color="#34495e", fontname="Helvetica", fontsize=20, margin="0.25,0.12"];',
    '  edge [fontname="Helvetica", fontsize=16, penwidth=1.5];',
    '  start [id="start", shape=point, width=0.18, label=""];',
    ...ROOM_STATES.map((s) => `  ${quote(s)} [id=${quote(`state-${s}`)}, class="state"];`),
    `  start -> ${quote(initial)} [id="edge-start"];`,
    ...diagramEdges().map((e) => `  ${quote(e.from)} -> ${quote(e.to)} [id=${quote(e.id)}, class=${quote(e.origin)}, label=${quote(edgeLines(e).join('\n'))}, ${EDGE_STYLE[e.origin]}];`),
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
