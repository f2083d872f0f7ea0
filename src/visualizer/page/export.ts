// Export the diagram as it is shown (highlights, traffic counts, the page's colour scheme) as SVG or PNG, with a
// header that says what it is: a title, the scenario, and the legend. Without any network.
const SVG_NS = 'http://www.w3.org/2000/svg';

/** What the exported file says above the chart. */
export interface ExportInfo {
  title: string;
  /** The scenario shown, e.g. "events: Session.connectionCreated, ..." or a traffic window. */
  scenario: string;
  legend: readonly string[];
}

/**
 * Properties copied from the page's computed style, so the file looks as the page does (light or dark), its text
 * measured as on the page (unhinted: a PNG's hinted glyphs came out wider than the boxes the page made for them).
 */
const STYLED = ['fill', 'stroke', 'stroke-width', 'stroke-dasharray', 'opacity', 'font-weight', 'font-size', 'font-family', 'paint-order', 'stroke-linejoin', 'text-rendering'];
const HEADER_LINE = 22;

/** The chart as a standalone SVG file at its drawn size (not as zoomed on screen), styled as shown, with its header. */
export function svgText(svg: SVGSVGElement, info: ExportInfo): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  // The styles the page computes, inlined (the file has no page CSS); the clone mirrors the original element by element.
  const from = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const to = [copy, ...Array.from(copy.querySelectorAll('*'))];
  from.forEach((e, i) => {
    if (!(e instanceof SVGGraphicsElement) || e instanceof SVGGElement || e instanceof SVGSVGElement) return;
    const cs = getComputedStyle(e);
    (to[i] as SVGElement).setAttribute('style', STYLED.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(';'));
  });
  for (const e of Array.from(copy.querySelectorAll('path.hit'))) e.remove(); // click bands: the page's only
  const page = getComputedStyle(document.body);
  const { x, y, width, height } = size(svg);
  // The legend's items, as many on a line as fit the chart's width (about 7 units a character at 13 px).
  const fit = Math.max(20, Math.floor(width / 7));
  const legend: string[] = [];
  for (const item of info.legend) {
    const last = legend[legend.length - 1];
    if (last !== undefined && last.length + item.length + 3 <= fit) legend[legend.length - 1] = `${last} · ${item}`;
    else legend.push(item);
  }
  const scenario = info.scenario.length > fit ? `${info.scenario.slice(0, fit - 1)}…` : info.scenario;
  const lines = [info.title, scenario, ...legend];
  const head = HEADER_LINE * lines.length + 8;
  const top = y - head;
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('viewBox', `${x} ${top} ${width} ${height + head}`);
  copy.setAttribute('width', String(Math.ceil(width)));
  copy.setAttribute('height', String(Math.ceil(height + head)));
  copy.querySelector('.viewport')?.removeAttribute('transform');
  for (const e of Array.from(copy.querySelectorAll('[tabindex]'))) e.removeAttribute('tabindex');
  for (const a of ['tabindex', 'role', 'aria-labelledby', 'aria-describedby', 'data-width', 'data-height', 'style', 'class']) copy.removeAttribute(a);
  const back = document.createElementNS(SVG_NS, 'rect');
  for (const [k, v] of Object.entries({ x, y: top, width, height: height + head, fill: page.backgroundColor })) back.setAttribute(k, String(v));
  const header = document.createElementNS(SVG_NS, 'g');
  header.setAttribute('class', 'export-header');
  lines.forEach((line, i) => {
    const t = document.createElementNS(SVG_NS, 'text');
    for (const [k, v] of Object.entries({ x: x + 8, y: top + HEADER_LINE * (i + 1), fill: page.color, 'font-family': 'Helvetica, Arial, sans-serif', 'font-size': i === 0 ? 18 : 13, 'font-weight': i === 0 ? 'bold' : 'normal' }))
      t.setAttribute(k, String(v));
    t.textContent = line;
    header.append(t);
  });
  copy.insertBefore(header, copy.firstChild);
  copy.insertBefore(back, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

/**
 * The chart as drawn (the fit view's box: the layout, and any label added after it such as traffic counts), grown to
 * take in anything drawn past it (a bold label wider in the browser's font than the layout's estimate): nothing cropped.
 */
const size = (svg: SVGSVGElement) => {
  const b = svg.viewBox.baseVal;
  const box = { x: b.x, y: b.y, width: b.width || Number(svg.dataset.width), height: b.height || Number(svg.dataset.height) };
  const drawn = svg.querySelector<SVGGraphicsElement>(':scope > .viewport')?.getBBox();
  if (!drawn || !(drawn.width > 0)) return box;
  // Where something is drawn past a side, that side moves out to it, and a little more.
  const out = (past: boolean, at: number, edge: number, margin: number) => (past ? at + margin : edge);
  const x = out(drawn.x < box.x, drawn.x, box.x, -4);
  const y = out(drawn.y < box.y, drawn.y, box.y, -4);
  const right = out(drawn.x + drawn.width > box.x + box.width, drawn.x + drawn.width, box.x + box.width, 4);
  const bottom = out(drawn.y + drawn.height > box.y + box.height, drawn.y + drawn.height, box.y + box.height, 4);
  return { x, y, width: right - x, height: bottom - y };
};

export function downloadSvg(svg: SVGSVGElement, info: ExportInfo, name: string): void {
  download(new Blob([svgText(svg, info)], { type: 'image/svg+xml' }), name);
}

export async function downloadPng(svg: SVGSVGElement, info: ExportInfo, name: string, scale = 2): Promise<void> {
  const text = svgText(svg, info);
  const box = /viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"/.exec(text);
  const width = Number(box?.[1]);
  const height = Number(box?.[2]);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil(height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser gives no 2D canvas');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('the canvas could not be encoded as PNG');
    download(blob, name);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
