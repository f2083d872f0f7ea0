// The page's diagram: the machine's DOT (src/docs/diagram.ts) laid out by Graphviz (wasm, embedded) into SVG,
// then tagged so the page and its tests can find states and edges: data-state, data-active, data-edge, data-taken.
import { instance } from '@viz-js/viz';
import { ROOM_STATES, type RoomState } from '../../../machines/domain';
import { diagramEdges, toDot } from '../../docs/diagram';
import { allCandidates } from '../../model/candidates';
import { rejectionSummary } from './tables';

/** Candidate id -> SVG edge id, for highlighting the edges a step took. */
const EDGE_OF_CANDIDATE = new Map(diagramEdges().map((e) => [e.candidate.id, e.id]));

export async function renderDiagram(): Promise<SVGSVGElement> {
  const viz = await instance();
  const svg = viz.renderSVGElement(toDot(), { engine: 'dot' });
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', 'diagram-title');
  svg.removeAttribute('width'); // scale to the container; the viewBox keeps the proportions
  svg.removeAttribute('height');
  const rejects = allCandidates().filter((c) => c.kind === 'reject');
  for (const state of ROOM_STATES) {
    const g = svg.querySelector<SVGGElement>(`g#state-${state}`);
    if (!g) throw new Error(`diagram: no node for state ${state}`);
    g.setAttribute('data-state', state);
    // Hover text: the state's rejections (also listed in the side table).
    const title = g.querySelector('title');
    if (title) title.textContent = [`${state}`, ...rejectionSummary(rejects.filter((c) => c.state === state))].join('\n');
  }
  for (const e of diagramEdges()) svg.querySelector(`g#${e.id}`)?.setAttribute('data-edge', e.origin);
  return svg;
}

/** Mark the current state and the edges the last step took. */
export function highlight(svg: SVGSVGElement, state: RoomState, takenCandidates: readonly string[]): void {
  for (const g of Array.from(svg.querySelectorAll('[data-state]'))) {
    if (g.getAttribute('data-state') === state) g.setAttribute('data-active', 'true');
    else g.removeAttribute('data-active');
  }
  const taken = new Set(takenCandidates.map((id) => EDGE_OF_CANDIDATE.get(id)).filter(Boolean));
  for (const g of Array.from(svg.querySelectorAll('[data-edge]'))) {
    if (taken.has(g.id)) g.setAttribute('data-taken', 'true');
    else g.removeAttribute('data-taken');
  }
}
