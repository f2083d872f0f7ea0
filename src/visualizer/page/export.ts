// Export the diagram as it is shown (current state highlighted) as SVG or PNG, without any network.
const EXPORT_STYLE = `
  [data-active="true"] path, [data-active="true"] polygon { fill: #fde9a9; stroke: #b9770e; stroke-width: 3px; }
  [data-taken="true"] path { stroke-width: 3px; }
  text.traffic-count { font: bold 16px Helvetica, sans-serif; }
  text.traffic-state { font: 15px Helvetica, sans-serif; }
`;

/** The chart as a standalone SVG file at its drawn size (not as zoomed on screen), current state highlighted, traffic counts if shown. */
export function svgText(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const { x, y, width, height } = size(svg);
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('viewBox', `${x} ${y} ${width} ${height}`);
  copy.setAttribute('width', String(Math.ceil(width)));
  copy.setAttribute('height', String(Math.ceil(height)));
  copy.querySelector('.viewport')?.removeAttribute('transform');
  for (const e of Array.from(copy.querySelectorAll('[tabindex]'))) e.removeAttribute('tabindex');
  for (const a of ['tabindex', 'role', 'aria-labelledby', 'aria-describedby', 'data-width', 'data-height']) copy.removeAttribute(a);
  const style = document.createElementNS('http://www.w3.org/2000/svg', 'style');
  style.textContent = EXPORT_STYLE;
  copy.insertBefore(style, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

/** The chart as drawn (the fit view's box: the layout, and any label added after it such as traffic counts). */
const size = (svg: SVGSVGElement) => {
  const b = svg.viewBox.baseVal;
  return { x: b.x, y: b.y, width: b.width || Number(svg.dataset.width), height: b.height || Number(svg.dataset.height) };
};

export function downloadSvg(svg: SVGSVGElement, name: string): void {
  download(new Blob([svgText(svg)], { type: 'image/svg+xml' }), name);
}

export async function downloadPng(svg: SVGSVGElement, name: string, scale = 2): Promise<void> {
  const box = size(svg);
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(box.width * scale);
    canvas.height = Math.ceil(box.height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser gives no 2D canvas');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
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
