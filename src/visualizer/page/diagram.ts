// The page's diagram: the SVG laid out at build time (layout.ts) from the machine, tagged here so people, assistive
// technology and tests can find, focus and click its states and edges. Tags come from the same machine edges.
import { ROOM_STATES, type RoomState } from '../../../machines/domain';
import { diagramEdges, type DiagramEdge } from '../../model/diagramEdges';
import { edgeName, STATE_MEANING } from './explain';

export const EDGES: ReadonlyMap<string, DiagramEdge> = new Map(diagramEdges().map((e) => [e.id, e]));
/** Candidate id -> SVG edge id. */
const EDGE_OF_CANDIDATE = new Map([...EDGES.values()].map((e) => [e.candidate.id, e.id]));

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Tag the inlined SVG; returns the group the zoom moves. Throws when the SVG does not match the machine. Reads no layout. */
export function prepareDiagram(svg: SVGSVGElement): SVGGElement {
  const box = svg.viewBox.baseVal;
  svg.dataset.width = String(box.width);
  svg.dataset.height = String(box.height);
  // The viewBox stays: the browser fits the chart to its box (the fit view); the zoom moves the chart inside it.
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-labelledby', 'diagram-title');
  svg.setAttribute('aria-describedby', 'diagram-help');
  svg.setAttribute('tabindex', '0');
  svg.querySelector(':scope > g > title')?.remove(); // "roomSession": a tooltip over the whole chart helps nobody
  const graph = svg.querySelector<SVGGElement>(':scope > g');
  if (!graph) throw new Error('diagram: the SVG has no graph group');
  const viewport = document.createElementNS(SVG_NS, 'g');
  viewport.setAttribute('class', 'viewport');
  svg.insertBefore(viewport, graph);
  viewport.append(graph);

  for (const state of ROOM_STATES) {
    const g = svg.querySelector<SVGGElement>(`g#state-${state}`);
    if (!g) throw new Error(`diagram: no node for state ${state}; rebuild the page`);
    g.setAttribute('data-state', state);
    focusable(g, `state ${state}`, `${state}: ${STATE_MEANING[state]}`);
  }
  for (const e of EDGES.values()) {
    const g = svg.querySelector<SVGGElement>(`g#${e.id}`);
    if (!g) throw new Error(`diagram: no edge ${e.id}; rebuild the page`);
    g.setAttribute('data-edge', e.origin);
    g.setAttribute('data-from', e.from);
    g.setAttribute('data-to', e.to);
    if (e.event === undefined) g.setAttribute('data-eventless', 'true');
    else g.setAttribute('data-event', e.event);
    if (e.guard) g.setAttribute('data-guard', e.guard);
    focusable(g, edgeName(e), edgeName(e));
  }
  const drawn = svg.querySelectorAll('g.edge[id^="edge-"]:not(#edge-start)').length;
  if (drawn !== EDGES.size) throw new Error(`diagram: ${drawn} edges drawn, the machine has ${EDGES.size}; rebuild the page`);
  svg.querySelector('#edge-start')?.setAttribute('aria-hidden', 'true');
  svg.querySelector('#start')?.setAttribute('aria-hidden', 'true');
  return viewport;
}

function focusable(g: SVGGElement, name: string, tooltip: string): void {
  g.setAttribute('tabindex', '0');
  g.setAttribute('role', 'button');
  g.setAttribute('aria-label', name);
  const title = g.querySelector('title');
  if (title) title.textContent = tooltip;
}

/** Mark the current state, the edges the last step took, and the edges the current snapshot would take now. */
export function highlight(svg: SVGSVGElement, state: RoomState, takenCandidates: readonly string[], available: ReadonlyMap<string, string>): void {
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('[data-state]'))) {
    const s = g.getAttribute('data-state') as RoomState;
    const on = s === state;
    if (on) g.setAttribute('data-active', 'true');
    else g.removeAttribute('data-active');
    g.setAttribute('aria-label', `state ${s}${on ? ', current' : ''}`);
  }
  const taken = new Set(takenCandidates.map((id) => EDGE_OF_CANDIDATE.get(id)));
  const now = new Set([...available.keys()].map((id) => EDGE_OF_CANDIDATE.get(id)));
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('[data-edge]'))) {
    toggle(g, 'data-taken', taken.has(g.id));
    toggle(g, 'data-available', now.has(g.id));
    const e = EDGES.get(g.id);
    if (e) g.setAttribute('aria-label', `${edgeName(e)}${now.has(g.id) ? ', available now' : ''}`);
  }
}

function toggle(g: Element, attr: string, on: boolean): void {
  if (on) g.setAttribute(attr, 'true');
  else g.removeAttribute(attr);
}
