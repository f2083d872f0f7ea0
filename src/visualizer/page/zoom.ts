// Pan and zoom of the diagram with d3-zoom: drag to pan, ctrl/cmd + wheel and pinch to zoom (a plain wheel still
// scrolls the page), buttons and + - 0 keys. The fit view is the SVG's own viewBox scaling (the browser fits the
// chart to its box, at any size, with no script and no layout read); zooming transforms the chart within it, so a
// scale of 1 is the fit view.
import { select } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomTransform } from 'd3-zoom';

export const ZOOM_STEP = 1.25;
/** Arrow-key pan step, in CSS px. */
const PAN: Record<string, [number, number]> = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };

export interface DiagramZoom {
  zoomIn(): void;
  zoomOut(): void;
  fit(): void;
}

export function setupZoom(box: HTMLElement, svg: SVGSVGElement, viewport: SVGGElement): DiagramZoom {
  const sel = select<SVGSVGElement, unknown>(svg);
  const behaviour = zoom<SVGSVGElement, unknown>()
    .scaleExtent([0.5, 12])
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
      box.dataset.fit = String(t.k === 1 && t.x === 0 && t.y === 0);
    });

  const fit = () => sel.call(behaviour.transform, zoomIdentity);
  const scaleBy = (f: number) => sel.call(behaviour.scaleBy, f);

  sel.call(behaviour).on('dblclick.zoom', null); // double clicks belong to the edges
  fit();

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
