// Pan and zoom of the diagram with d3-zoom: drag to pan, ctrl/cmd + wheel and pinch to zoom (a plain wheel still
// scrolls the page), buttons and + - 0 keys. The fit view is the SVG's own viewBox scaling (the browser fits the
// chart to its box, at any size); zooming transforms the chart within it, so a scale of 1 is the fit view.
// The viewBox is the chart's drawn extent, not only Graphviz's layout: labels added after layout (traffic mode's
// counts) are measured (getBBox) and fitted too, again whenever they are added, removed or change.
import { select } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomTransform } from 'd3-zoom';

export const ZOOM_STEP = 1.25;
/** Room kept around labels that stick out of the layout (their halo is drawn outside their box), in chart units. */
const MARGIN = 6;
/** Arrow-key pan step, in CSS px. */
const PAN: Record<string, [number, number]> = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };

export interface DiagramZoom {
  zoomIn(): void;
  zoomOut(): void;
  fit(): void;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The layout's box joined with everything drawn in the chart (plus a margin where that sticks out). */
export function drawnBox(layout: Box, viewport: SVGGElement): Box {
  let b: Box;
  try {
    b = viewport.getBBox(); // the chart's own units: the viewport's zoom transform is not part of it
  } catch {
    return layout; // not rendered (e.g. display: none): nothing to measure
  }
  if (!(b.width > 0 && b.height > 0)) return layout;
  // The layout's background fills its box, so only what sticks out of it moves a side (by it and the margin).
  const lo = (l: number, d: number) => (d < l - 0.5 ? d - MARGIN : l);
  const hi = (l: number, d: number) => (d > l + 0.5 ? d + MARGIN : l);
  const x0 = lo(layout.x, b.x);
  const y0 = lo(layout.y, b.y);
  const x1 = hi(layout.x + layout.width, b.x + b.width);
  const y1 = hi(layout.y + layout.height, b.y + b.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Text drawn smaller than this in the fit view (CSS px) makes the page open zoomed in instead. */
export const MIN_PX = 11;
/** The size, in CSS px, the zoomed-in initial view draws the chart's smallest text at. */
export const READABLE_PX = 12;

/**
 * The initial view where the fit view's text would be smaller than MIN_PX (a phone, a narrow window): zoomed in until
 * it is READABLE_PX, with `home` (the start of the chart) at the top, centred as far as the chart allows. Undefined:
 * the fit view.
 */
function readableStart(svg: SVGSVGElement, viewport: SVGGElement, layout: Box, home: Element[]): ZoomTransform | undefined {
  const sizes = Array.from(viewport.querySelectorAll('text[font-size]'), (t) => Number(t.getAttribute('font-size'))).filter((n) => n > 0);
  const smallest = Math.min(...sizes);
  // Layout-free first, from style.css's layout: up to 900px wide the diagram box is short (always measure); wider, it is
  // the window less 23.75rem (margins and the side panel) wide and max(300px, the window less 10.5rem: header,
  // toolbar and the docked timeline) tall. When that box
  // draws the text at MIN_PX or more, the measuring below, which lays the page out before its first paint, is skipped.
  // Asked as a media query: reading innerWidth or innerHeight would itself force that layout.
  const least = MIN_PX / smallest; // the least screen scale that draws the smallest text at MIN_PX
  const tooSmall = ['(max-width: 900px)', `(max-width: calc(${layout.width * least}px + 23.75rem))`];
  if (layout.height * least > 300) tooSmall.push(`(max-height: calc(${layout.height * least}px + 10.5rem))`);
  if (!Number.isFinite(least) || !matchMedia(tooSmall.join(', ')).matches) return undefined;
  const ctm = svg.getScreenCTM();
  const local = viewport.getCTM();
  if (!ctm || !local || !(ctm.a > 0) || smallest * ctm.a >= MIN_PX) return undefined; // not rendered, or readable
  const k = READABLE_PX / (smallest * ctm.a);
  // What the box shows, in the SVG's units (the viewBox, and the room "meet" leaves around it).
  const r = svg.getBoundingClientRect();
  const toUser = ctm.inverse();
  const a = new DOMPoint(r.left, r.top).matrixTransform(toUser);
  const b = new DOMPoint(r.right, r.bottom).matrixTransform(toUser);
  // `home`'s box in the chart's units (the viewport's, untransformed).
  const toChart = local.inverse();
  const xs: number[] = [];
  const ys: number[] = [];
  for (const e of home) {
    if (!(e instanceof SVGGraphicsElement)) continue;
    const m = toChart.multiply(e.getCTM() ?? new DOMMatrix());
    const h = e.getBBox();
    for (const [x, y] of [[h.x, h.y], [h.x + h.width, h.y + h.height]]) {
      const p = new DOMPoint(x, y).matrixTransform(m);
      xs.push(p.x);
      ys.push(p.y);
    }
  }
  if (xs.length === 0) return undefined;
  // Centred on home, unless that would leave empty room beside the chart.
  const centre = (from: number, to: number) => (a.x + b.x) / 2 - (k * (from + to)) / 2;
  const left = a.x - k * layout.x; // the chart's left side at the box's
  const right = b.x - k * (layout.x + layout.width); // its right side at the box's
  const tx = right <= left ? Math.min(left, Math.max(right, centre(Math.min(...xs), Math.max(...xs)))) : centre(layout.x, layout.x + layout.width);
  const ty = a.y + 8 / ctm.a - k * Math.min(...ys);
  return zoomIdentity.translate(tx, ty).scale(k);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * The minimap: the whole chart small in the box's corner (a `<use>` of the chart's graph, so nothing is drawn twice
 * by hand) with the part in view outlined. Shown by style.css on narrow screens while zoomed; hidden, it costs nothing.
 */
function minimap(box: HTMLElement, svg: SVGSVGElement): { show(t: ZoomTransform): void } | undefined {
  const graph = svg.querySelector<SVGGElement>('g.graph[id]');
  if (!graph) return undefined;
  const map = document.createElementNS(SVG_NS, 'svg');
  map.setAttribute('class', 'minimap');
  map.setAttribute('data-testid', 'minimap');
  map.setAttribute('aria-hidden', 'true');
  map.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  const use = document.createElementNS(SVG_NS, 'use');
  use.setAttribute('href', `#${graph.id}`);
  const view = document.createElementNS(SVG_NS, 'rect');
  view.setAttribute('class', 'minimap-view');
  map.append(use, view);
  box.append(map);
  return {
    show(t: ZoomTransform) {
      const vb = svg.viewBox.baseVal;
      map.setAttribute('viewBox', `${vb.x} ${vb.y} ${vb.width} ${vb.height}`);
      // The part of the chart in view: the viewBox seen through the inverse of the zoom.
      for (const [k, v] of Object.entries({ x: (vb.x - t.x) / t.k, y: (vb.y - t.y) / t.k, width: vb.width / t.k, height: vb.height / t.k })) view.setAttribute(k, v.toFixed(1));
    },
  };
}

export function setupZoom(box: HTMLElement, svg: SVGSVGElement, viewport: SVGGElement, home: Element[] = []): DiagramZoom {
  const base = svg.viewBox.baseVal;
  const layout: Box = { x: base.x, y: base.y, width: base.width, height: base.height };
  const sel = select<SVGSVGElement, unknown>(svg);
  const map = minimap(box, svg);
  const behaviour = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.5, 12])
    // d3's own step (x10 with ctrl) takes one wheel notch from 1x to 4x: at most ZOOM_STEP a notch here, as the keys.
    .wheelDelta((ev: WheelEvent) => {
      const d = -ev.deltaY * (ev.deltaMode === 1 ? 0.05 : ev.deltaMode ? 1 : 0.002) * (ev.ctrlKey ? 10 : 1);
      const most = Math.log2(ZOOM_STEP);
      return Math.max(-most, Math.min(most, d));
    })
    // Wheel zooms only with ctrl/cmd (trackpad pinch arrives as ctrl + wheel); a plain wheel scrolls the page.
    .filter((ev: Event) => {
      const e = ev as MouseEvent;
      if (e.type === 'wheel') return e.ctrlKey || e.metaKey;
      return !e.ctrlKey && !e.button;
    })
    .on('zoom', (ev: { transform: ZoomTransform }) => {
      const t = ev.transform;
      viewport.setAttribute('transform', t.toString());
      box.dataset.zoom = t.k.toFixed(4);
      const fit = t.k === 1 && t.x === 0 && t.y === 0;
      box.dataset.fit = String(fit);
      // The cue that part of the chart is out of view (a phone opens zoomed in).
      box.parentElement?.querySelector('[data-testid="zoom-cue"]')?.toggleAttribute('hidden', fit);
      map?.show(t);
    });

  /** Make the viewBox the drawn extent (the layout's own, as built, when nothing sticks out). */
  const original = svg.getAttribute('viewBox') ?? '';
  const close = (a: Box, b: Box) => [a.x - b.x, a.y - b.y, a.width - b.width, a.height - b.height].every((d) => Math.abs(d) < 0.5);
  const measure = (): void => {
    const b = drawnBox(layout, viewport);
    if (close(b, svg.viewBox.baseVal)) return;
    svg.setAttribute('viewBox', close(b, layout) ? original : [b.x, b.y, b.width, b.height].map((n) => Math.round(n * 100) / 100).join(' '));
  };
  const fit = () => {
    measure();
    sel.call(behaviour.transform, zoomIdentity);
  };
  const scaleBy = (f: number) => sel.call(behaviour.scaleBy, f);

  sel.call(behaviour).on('dblclick.zoom', null); // double clicks belong to the edges
  // At start everything drawn is the build-time layout, whose box is the viewBox: no measuring (getBBox would
  // force a synchronous layout of the whole page before its first paint), except on a screen too small for the fit view.
  sel.call(behaviour.transform, readableStart(svg, viewport, layout, home) ?? zoomIdentity);
  // Labels added, removed or rewritten after layout: the fit view follows them (a zoomed view is left where it is;
  // Fit measures again).
  new MutationObserver(() => {
    if (box.dataset.fit === 'true') measure();
  }).observe(viewport, { childList: true, subtree: true, characterData: true });

  box.addEventListener('keydown', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === '+' || ev.key === '=') scaleBy(ZOOM_STEP);
    else if (ev.key === '-' || ev.key === '_') scaleBy(1 / ZOOM_STEP);
    else if (ev.key === '0') fit();
    else if (ev.target === svg && ev.key in PAN) {
      // Arrow keys pan when the chart itself has focus (on a state or an edge they are left to the browser).
      const [dx, dy] = PAN[ev.key];
      const px = viewport.getScreenCTM()?.a ?? 1; // CSS px per chart unit, zoom included
      sel.call(behaviour.translateBy, dx / px, dy / px);
    } else return;
    ev.preventDefault();
  });

  return { zoomIn: () => scaleBy(ZOOM_STEP), zoomOut: () => scaleBy(1 / ZOOM_STEP), fit };
}
