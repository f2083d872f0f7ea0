// The page's diagram: the SVG laid out at build time (layout.ts) from the machine, tagged here so people, assistive
// technology and tests can find, focus and click its states and edges. Tags come from the same machine edges.
import { ROOM_STATES, type RoomState } from '../../../machines/domain';
import { diagramEdges, type DiagramEdge } from '../../model/diagramEdges';
import { edgeGroups, type EdgeGroup } from './edgeGroups';
import { edgeName, guardShort, STATE_CONDITION, STATE_MEANING } from './explain';

export const EDGES: ReadonlyMap<string, DiagramEdge> = new Map(diagramEdges().map((e) => [e.id, e]));
/** The edges drawn as one line (the frame's "last peer leaves"), by the drawn line's id. */
export const GROUPS: ReadonlyMap<string, EdgeGroup> = new Map(edgeGroups([...EDGES.values()]).map((g) => [g.id, g]));
/** Machine edge id -> the id of the line that draws it (its own, or its group's). */
export const DRAWN_AS: ReadonlyMap<string, string> = new Map([...EDGES.keys()].map((id) => [id, [...GROUPS.values()].find((g) => g.members.some((m) => m.id === id))?.id ?? id]));
/** Candidate id -> SVG edge id. */
const EDGE_OF_CANDIDATE = new Map([...EDGES.values()].map((e) => [e.candidate.id, DRAWN_AS.get(e.id) as string]));

/** A state's accessible name: its drawn name and condition, e.g. "state sendrecv: 2+ people, both ways". */
export const stateName = (s: RoomState) => `state ${s}: ${STATE_CONDITION[s]}`;

/** The accessible name of a grouped line, its drawn label first: "Session.connectionDestroyed [last peer] from any state in the call to waiting". */
export const groupName = (g: EdgeGroup) => `${g.event} [${guardShort(g.guard)}] from any state in the call to ${g.to}`;

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
    focusable(g, stateName(state), `${state}: ${STATE_MEANING[state]}`);
  }
  for (const e of EDGES.values()) {
    if (DRAWN_AS.get(e.id) !== e.id) continue;
    const g = svg.querySelector<SVGGElement>(`g#${e.id}`);
    if (!g) throw new Error(`diagram: no edge ${e.id}; rebuild the page`);
    g.setAttribute('data-edge', e.origin);
    g.setAttribute('data-from', e.from);
    g.setAttribute('data-to', e.to);
    if (e.event === undefined) g.setAttribute('data-eventless', 'true');
    else g.setAttribute('data-event', e.event);
    if (e.guard) g.setAttribute('data-guard', e.guard);
    focusable(g, edgeName(e), edgeName(e));
    hitArea(g);
  }
  for (const group of GROUPS.values()) {
    const g = svg.querySelector<SVGGElement>(`g#${group.id}`);
    if (!g) throw new Error(`diagram: no line for ${group.id}; rebuild the page`);
    g.setAttribute('data-edge', 'group');
    g.setAttribute('data-to', group.to);
    g.setAttribute('data-event', group.event);
    g.setAttribute('data-guard', group.guard);
    g.setAttribute('data-members', group.members.map((m) => m.id).join(' '));
    focusable(g, groupName(group), `${groupName(group)}: ${group.members.length} edges, one from each state in the frame`);
    hitArea(g);
  }
  const lines = new Set(DRAWN_AS.values()).size;
  const drawn = svg.querySelectorAll('g.edge[id^="edge-"]:not(#edge-start)').length;
  if (drawn !== lines) throw new Error(`diagram: ${drawn} edges drawn, the machine's edges need ${lines}; rebuild the page`);
  // The frame is a drawing aid: its label is read with the grouped line's name.
  svg.querySelector('#frame-call')?.setAttribute('aria-hidden', 'true');
  svg.querySelector('#edge-start')?.setAttribute('aria-hidden', 'true');
  svg.querySelector('#start')?.setAttribute('aria-hidden', 'true');
  return viewport;
}

/**
 * A line takes clicks along a band 12 CSS px wide whatever the zoom: a transparent copy of its path with a
 * non-scaling stroke (style.css), under the drawn one.
 */
function hitArea(g: SVGGElement): void {
  const path = g.querySelector('path');
  if (!path) return;
  const hit = path.cloneNode(false) as SVGPathElement;
  hit.setAttribute('class', 'hit');
  hit.setAttribute('aria-hidden', 'true');
  path.before(hit);
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
    g.setAttribute('aria-label', `${stateName(s)}${on ? ', current' : ''}`);
  }
  const taken = new Set(takenCandidates.map((id) => EDGE_OF_CANDIDATE.get(id)));
  const now = new Set([...available.keys()].map((id) => EDGE_OF_CANDIDATE.get(id)));
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('[data-edge]'))) {
    toggle(g, 'data-taken', taken.has(g.id));
    toggle(g, 'data-available', now.has(g.id));
    const e = EDGES.get(g.id);
    const group = GROUPS.get(g.id);
    const name = e ? edgeName(e) : group ? groupName(group) : undefined;
    if (name) g.setAttribute('aria-label', `${name}${now.has(g.id) ? ', available now' : ''}`);
  }
}

function toggle(g: Element, attr: string, on: boolean): void {
  if (on) g.setAttribute(attr, 'true');
  else g.removeAttribute(attr);
}

/**
 * No line drawn through a label: each edge label gets an opaque backing (the page's background, under its text),
 * and an edge whose label another edge's line crosses is painted after that edge, so the crossing line goes under
 * the label. Reads the layout (getBBox, path lengths): called after the first paint, not before it.
 */
export function knockOutLabels(svg: SVGSVGElement): void {
  const edges = Array.from(svg.querySelectorAll<SVGGElement>('g.edge[data-edge]'));
  // Labels are measured bold, as they are drawn when highlighted or hovered: their backings fit them then too.
  svg.classList.add('measure-bold');
  placeEdgeLabels(svg, edges);
  const pad = 2.5; // chart units around the text: room inside the available label's green-edged box
  const boxes = new Map<SVGGElement, DOMRect>();
  for (const g of edges) {
    const texts = Array.from(g.querySelectorAll<SVGTextElement>(':scope > text'));
    if (texts.length === 0) continue;
    const bs = texts.map((t) => t.getBBox());
    const x = Math.min(...bs.map((b) => b.x)) - pad;
    const y = Math.min(...bs.map((b) => b.y)) - pad;
    const box = new DOMRect(x, y, Math.max(...bs.map((b) => b.x + b.width)) + pad - x, Math.max(...bs.map((b) => b.y + b.height)) + pad - y);
    boxes.set(g, box);
    let rect = g.querySelector<SVGRectElement>(':scope > rect.label-backing');
    if (!rect) {
      rect = document.createElementNS(SVG_NS, 'rect') as SVGRectElement;
      rect.setAttribute('class', 'label-backing');
      rect.setAttribute('aria-hidden', 'true');
      rect.setAttribute('rx', '3');
      rect.setAttribute('fill', '#ffffff'); // the exported file's; the page's is its background (style.css)
      texts[0].before(rect);
    }
    for (const [k, v] of Object.entries({ x: box.x, y: box.y, width: box.width, height: box.height })) rect.setAttribute(k, v.toFixed(1));
  }
  svg.classList.remove('measure-bold');
  // How far each edge's line runs through each other edge's label (samples inside its box, with a margin for the width).
  const depth = new Map<SVGGElement, Map<SVGGElement, number>>();
  for (const a of edges) {
    const path = a.querySelector<SVGPathElement>(':scope > path:not(.hit)');
    if (!path) continue;
    const len = path.getTotalLength();
    const points = Array.from({ length: Math.floor(len) + 1 }, (_, s) => path.getPointAtLength(s));
    const m = 3; // the line's half width and more
    for (const [b, box] of boxes) {
      if (b === a) continue;
      const n = points.filter((p) => p.x > box.x - m && p.x < box.x + box.width + m && p.y > box.y - m && p.y < box.y + box.height + m).length;
      if (n > 0) depth.set(a, (depth.get(a) ?? new Map()).set(b, n));
    }
  }
  // after.get(b): the edges whose lines cross b's label, which b must be painted after; where two cross each other's
  // labels, the longer crossing wins (the shorter one is the line that only grazes a label).
  const after = new Map<SVGGElement, SVGGElement[]>(edges.map((g) => [g, []]));
  for (const [a, crossed] of depth)
    for (const [b, n] of crossed) if (n >= (depth.get(b)?.get(a) ?? 0)) after.get(b)?.push(a);
  // Paint in an order that puts every crossed label after the lines crossing it (depth-first; a cycle keeps the
  // document's order for its last link).
  const order: SVGGElement[] = [];
  const state = new Map<SVGGElement, 'visiting' | 'done'>();
  const visit = (g: SVGGElement) => {
    if (state.get(g)) return;
    state.set(g, 'visiting');
    for (const a of after.get(g) ?? []) visit(a);
    state.set(g, 'done');
    order.push(g);
  };
  for (const g of edges) visit(g);
  const parent = edges[0]?.parentNode;
  const labels = parent?.querySelector(':scope > g.traffic-labels') ?? null;
  for (const g of order) parent?.insertBefore(g, labels);
  svg.closest('#diagram')?.setAttribute('data-labels', 'ready');
}

/** Chart units a label keeps from every other line, label, state and arrowhead it is moved beside (4 CSS px or more at the fit views). */
const ROOM = 6;

type Box = { x: number; y: number; width: number; height: number };
const grow = (b: Box, d: number): Box => ({ x: b.x - d, y: b.y - d, width: b.width + 2 * d, height: b.height + 2 * d });
const meets = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const unionOf = (bs: Box[]): Box => {
  const x = Math.min(...bs.map((b) => b.x));
  const y = Math.min(...bs.map((b) => b.y));
  return { x, y, width: Math.max(...bs.map((b) => b.x + b.width)) - x, height: Math.max(...bs.map((b) => b.y + b.height)) - y };
};
/** How far the nearest of `pts` is from the box: outside, the distance; inside, minus its depth. */
const away = (pts: ReadonlyArray<readonly [number, number]>, b: Box) => {
  let d = Infinity;
  for (const [x, y] of pts) {
    const dx = Math.max(b.x - x, x - b.x - b.width);
    const dy = Math.max(b.y - y, y - b.y - b.height);
    d = Math.min(d, dx <= 0 && dy <= 0 ? Math.max(dx, dy) : Math.hypot(Math.max(0, dx), Math.max(0, dy)));
  }
  return d;
};

/**
 * Each edge label where it reads as its own line's. Graphviz puts a label at its edge's middle, which can leave it
 * nearer another line (a dotted fan out of `starting`), grazing another line, or far from a line it clips (the call
 * frame's, whose label sits at the middle of the whole unclipped curve). Such a label moves to the nearest spot beside
 * its own line that keeps ROOM from every other line, label, state and arrowhead, inside the chart, with its own line
 * nearer than any other by ROOM; one with no such spot stays. Reads the layout: from knockOutLabels.
 */
function placeEdgeLabels(svg: SVGSVGElement, edges: readonly SVGGElement[]): void {
  const chart = svg.querySelector<SVGGraphicsElement>('.viewport > g > polygon')?.getBBox();
  const sample = (p: SVGGeometryElement | null): Array<[number, number]> => {
    if (!p) return [];
    const len = p.getTotalLength();
    return Array.from({ length: Math.floor(len / 2) + 2 }, (_, i) => {
      const q = p.getPointAtLength(Math.min(len, i * 2));
      return [q.x, q.y] as [number, number];
    });
  };
  // Every line a label could be read with: the edges', and the call frame's outline.
  const lines = new Map<Element, Array<[number, number]>>(Array.from(svg.querySelectorAll<SVGGElement>('g.edge'), (g) => [g, sample(g.querySelector<SVGPathElement>(':scope > path:not(.hit)'))]));
  for (const frame of Array.from(svg.querySelectorAll<SVGGeometryElement>('g.cluster > path, g.cluster > polygon'))) lines.set(frame, sample(frame));
  const blocks = new Map<Element, Box>();
  for (const g of Array.from(svg.querySelectorAll<SVGGElement>('g.edge, g.node, g.cluster'))) {
    const texts = Array.from(g.querySelectorAll<SVGTextElement>(':scope > text'), (t) => t.getBBox()).filter((b) => b.width > 0);
    if (texts.length > 0) blocks.set(g, unionOf(texts));
  }
  const shapes = Array.from(svg.querySelectorAll<SVGGraphicsElement>('.node path, .node polygon, .node ellipse, .edge polygon'), (e) => e.getBBox());
  for (const g of edges) {
    const block = blocks.get(g);
    const own = lines.get(g) ?? [];
    if (!block || own.length < 3) continue;
    const others = [...lines].filter(([e]) => e !== g).map(([, pts]) => pts);
    const fits = (b: Box, margin: number) => {
      const mine = away(own, b);
      if (mine < 1) return false;
      for (const pts of others) {
        const d = away(pts, b);
        if (d < ROOM || d < mine + margin) return false;
      }
      return true;
    };
    const mine = away(own, block);
    // Where it is, is it clearly its own line's? Lines that go under it (its backing hides them) aside.
    const seen = others.map((pts) => away(pts, block)).filter((d) => d > -3);
    if (mine <= 3 * ROOM && seen.every((d) => d >= Math.max(3, mine + 4))) continue;
    const clear = (b: Box) =>
      (!chart || (b.x >= chart.x && b.y >= chart.y && b.x + b.width <= chart.x + chart.width && b.y + b.height <= chart.y + chart.height)) &&
      ![...blocks].some(([e, o]) => e !== g && meets(grow(b, ROOM), o)) &&
      !shapes.some((o) => meets(grow(b, ROOM / 2), o)) &&
      fits(b, ROOM);
    const cx = block.x + block.width / 2;
    const cy = block.y + block.height / 2;
    let best: { b: Box; cost: number } | undefined;
    for (let i = Math.floor(own.length * 0.1); i <= Math.ceil(own.length * 0.9); i++) {
      const [x, y] = own[Math.min(i, own.length - 1)];
      const [ax, ay] = own[Math.max(0, i - 2)];
      const [bx, by] = own[Math.min(own.length - 1, i + 2)];
      const n = Math.hypot(bx - ax, by - ay) || 1;
      const [nx, ny] = [-(by - ay) / n, (bx - ax) / n];
      const reach = (Math.abs(nx) * block.width) / 2 + (Math.abs(ny) * block.height) / 2 + ROOM;
      for (const side of [1, -1]) {
        const b = { x: x + side * nx * reach - block.width / 2, y: y + side * ny * reach - block.height / 2, width: block.width, height: block.height };
        const cost = Math.hypot(b.x + b.width / 2 - cx, b.y + b.height / 2 - cy);
        if ((!best || cost < best.cost) && clear(b)) best = { b, cost };
      }
    }
    if (!best) continue;
    const [dx, dy] = [best.b.x - block.x, best.b.y - block.y];
    for (const t of Array.from(g.querySelectorAll<SVGTextElement>(':scope > text'))) {
      t.setAttribute('x', (Number(t.getAttribute('x')) + dx).toFixed(2));
      t.setAttribute('y', (Number(t.getAttribute('y')) + dy).toFixed(2));
    }
    blocks.set(g, best.b);
  }
}
