// Where traffic mode's `×N` edge counts go. Graphviz left room for each edge's label, not for a count under it, so a
// fixed spot lands on lines (thick ones, in traffic mode) or on other labels. Each count takes the first of a few spots
// around its edge's label that touches no line, arrowhead, state, text or earlier count, inside the chart; it also sits
// on an opaque backing, so that where no spot is free the line under it is knocked out, not drawn through the digits.
// All geometry is in the chart's units (the graph group's): the zoom does not change it.

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Clearance around a count, in chart units: its halo (2 units) and a 4 CSS px gap to any other label at the fit view. */
const PAD = 7.5;
/** Sampling step along edge paths, in chart units. */
const STEP = 2;

const samples = new WeakMap<SVGPathElement, Array<[number, number]>>();
/** Points along a path (its geometry is the build's layout: sampled once). */
function pointsOf(path: SVGPathElement): Array<[number, number]> {
  let pts = samples.get(path);
  if (!pts) {
    pts = [];
    const len = path.getTotalLength();
    for (let s = 0; s <= len + STEP / 2; s += STEP) {
      const p = path.getPointAtLength(Math.min(s, len));
      pts.push([p.x, p.y]);
    }
    samples.set(path, pts);
  }
  return pts;
}

/** A spot this much (chart units) farther from its own label than from another's still reads as the other's. */
const AMBIGUOUS = 6;

/** The distance between two boxes (0 when they meet). */
const gapBetween = (a: Box, b: Box) => Math.hypot(Math.max(0, a.x - b.x - b.width, b.x - a.x - a.width), Math.max(0, a.y - b.y - b.height, b.y - a.y - a.height));
const grow = (b: Box, d: number): Box => ({ x: b.x - d, y: b.y - d, width: b.width + 2 * d, height: b.height + 2 * d });
const meets = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const within = (a: Box, b: Box) => a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
const union = (bs: Box[]): Box => {
  const x = Math.min(...bs.map((b) => b.x));
  const y = Math.min(...bs.map((b) => b.y));
  return { x, y, width: Math.max(...bs.map((b) => b.x + b.width)) - x, height: Math.max(...bs.map((b) => b.y + b.height)) - y };
};

/**
 * The chart's labels as blocks, in chart units: the texts of one edge's or state's name (or the frame's) as one box,
 * each added traffic label as its own; `skip` leaves texts out. A label placed in the notch beside a block's short
 * line is inside the block: it would read as part of that label.
 */
export function textBlocks(graph: SVGGElement, skip: (t: SVGTextElement) => boolean): Box[] {
  const owners = new Map<Element, Box[]>();
  for (const t of Array.from(graph.querySelectorAll<SVGTextElement>('text'))) {
    if (skip(t)) continue;
    const b = t.getBBox();
    if (!(b.width > 0 && b.height > 0)) continue;
    const owner = t.hasAttribute('data-for') ? t : (t.closest('[data-edge], [data-state], g.cluster') ?? t);
    owners.set(owner, [...(owners.get(owner) ?? []), b]);
  }
  return [...owners.values()].map(union);
}

export interface CountLabel {
  /** The edge group the count is for. */
  edge: SVGGElement;
  text: SVGTextElement;
  backing: SVGRectElement;
}

/** Place every count (text and backing) in `graph`, the group holding the chart's nodes, edges and the counts' layer. */
export function placeCounts(graph: SVGGElement, counts: readonly CountLabel[]): void {
  const mine = new Set<Element>(counts.flatMap((c) => [c.text, c.backing]));
  const background = graph.querySelector<SVGGraphicsElement>(':scope > polygon');
  const chart = background ? background.getBBox() : undefined;
  // What a count must not touch: every other text, state, arrowhead (boxes), and every line (points, each with its width).
  const boxes: Box[] = textBlocks(graph, (t) => mine.has(t));
  for (const e of Array.from(graph.querySelectorAll<SVGGraphicsElement>('.node path, .node polygon, .node ellipse, .edge polygon'))) boxes.push(e.getBBox());
  const paths = Array.from(graph.querySelectorAll<SVGPathElement>('.edge path:not(.hit)'), (p) => ({
    pts: pointsOf(p),
    r: (parseFloat(getComputedStyle(p).strokeWidth) || 1) / 2,
  }));
  // Each edge's label, as one block: a count must be nearer its own than any other (or it reads as another's).
  const blocks = new Map<Element, Box>(counts.map((c) => [c.edge, union(Array.from(c.edge.querySelectorAll<SVGTextElement>('text'), (t) => t.getBBox()))]));

  // Each count's spots (in order of preference) and what a spot costs it, given what is placed so far.
  const plans = counts.flatMap(({ edge, text, backing }) => {
    const lines = Array.from(edge.querySelectorAll<SVGTextElement>('text'), (t) => t.getBBox());
    const block = blocks.get(edge);
    if (lines.length === 0 || !block) return [];
    text.setAttribute('x', '0');
    text.setAttribute('y', '0');
    const own = text.getBBox(); // its size, and its box's offset from its anchor (middle, baseline)
    const { width: w, height: h } = own;
    // Only line points near the label matter here (every spot is within a couple of counts of it).
    const near = grow(block, 3 * (w + h));
    const inside = ([x, y]: [number, number]) => x > near.x && x < near.x + near.width && y > near.y && y < near.y + near.height;
    const local = paths.map((l) => ({ r: l.r, pts: l.pts.filter(inside) }));
    /** 0 when the spot is free and clearly its edge's; else the line samples it covers, and far worse, what it would mislead or hide. */
    const cost = (b: Box) => {
      const g = grow(b, PAD);
      let c = 0;
      for (const l of local) for (const [x, y] of l.pts) if (x > g.x - l.r && x < g.x + g.width + l.r && y > g.y - l.r && y < g.y + g.height + l.r) c++;
      for (const o of boxes) if (meets(g, o)) c += 1000;
      const mine = gapBetween(b, block);
      for (const [e, o] of blocks) if (e !== edge && gapBetween(b, o) <= mine + AMBIGUOUS) c += 300;
      if (chart && !within(g, chart)) c += 100;
      return c;
    };
    const gap = PAD + 0.5;
    const at = (x: number, y: number): Box => ({ x, y, width: w, height: h });
    const mid = block.x + block.width / 2 - w / 2;
    const [below, above] = [block.y + block.height + gap, block.y - gap - h];
    const [right, left] = [block.x + block.width + gap, block.x - gap - w];
    // In order of preference: under the label (as it reads), over it, beside its lines (last first), at its corners.
    const spots = [at(mid, below), at(mid, above)];
    for (const l of [...lines].reverse()) {
      const y = l.y + (l.height - h) / 2;
      spots.push(at(l.x + l.width + gap, y), at(l.x - gap - w, y), at(right, y), at(left, y));
    }
    spots.push(at(block.x, below), at(block.x + block.width - w, below), at(block.x, above), at(block.x + block.width - w, above));
    spots.push(at(right, below), at(left, below), at(right, above), at(left, above));
    // Then each of those nudged a little, and farther out.
    const nudged = spots.flatMap((s) => [[0, h / 2], [0, -h / 2], [w / 2, 0], [-w / 2, 0]].map(([dx, dy]) => at(s.x + dx, s.y + dy)));
    const farther = [1, 2].flatMap((k) => [at(mid, below + k * h), at(mid, above - k * h), at(right + (k * w) / 2, block.y), at(left - (k * w) / 2, block.y), at(right, below + k * h), at(left, below + k * h), at(right, above - k * h), at(left, above - k * h)]);
    // Last, on its own line near the label (its backing hides the bit of line under it): a crowded spot's way out.
    const line = edge.querySelector<SVGPathElement>('path:not(.hit)');
    const along = line ? pointsOf(line).filter((p, i) => i % 4 === 0 && inside(p)).map(([x, y]) => at(x - w / 2, y - h / 2)) : [];
    // Where all of those meet another label: rings around the label, farther and farther out, the nearest free spot.
    const rings = () =>
      [2, 3, 4, 5, 6].flatMap((k) => {
        const r = grow(block, gap + k * h);
        const xs = Array.from({ length: Math.ceil((r.width + w) / (w / 2)) + 1 }, (_, i) => Math.min(r.x - w + (i * w) / 2, r.x + r.width));
        const ys = Array.from({ length: Math.ceil((r.height + h) / (h / 2)) + 1 }, (_, i) => Math.min(r.y - h + (i * h) / 2, r.y + r.height));
        return [...xs.flatMap((x) => [at(x, r.y - h), at(x, r.y + r.height)]), ...ys.flatMap((y) => [at(r.x - w, y), at(r.x + r.width, y)])];
      });
    return [{ text, backing, own, cost, rings, spots: [...spots, ...nudged, ...farther, ...along] }];
  });
  // The most crowded first (fewest free spots before any count is placed): a count with room to spare goes elsewhere.
  const free = new Map(plans.map((p) => [p, p.spots.filter((s) => p.cost(s) === 0).length]));
  for (const { text, backing, own, cost, spots, rings } of [...plans].sort((a, b) => (free.get(a) ?? 0) - (free.get(b) ?? 0))) {
    let best = spots[0];
    let least = Infinity;
    for (const s of spots) {
      const c = cost(s);
      if (c < least) [best, least] = [s, c];
      if (c === 0) break;
    }
    if (least >= 1000)
      for (const s of rings()) {
        const c = cost(s);
        if (c < least) [best, least] = [s, c];
        if (c < 1000) break; // the nearest ring with room: it may read as another label's, but hides none
      }
    text.setAttribute('x', String(round(best.x - own.x)));
    text.setAttribute('y', String(round(best.y - own.y)));
    const back = grow(best, 1.5);
    backing.setAttribute('x', String(round(back.x)));
    backing.setAttribute('y', String(round(back.y)));
    backing.setAttribute('width', String(round(back.width)));
    backing.setAttribute('height', String(round(back.height)));
    boxes.push(best);
    blocks.set(text, best); // a placed count is another edge's, to those placed after it
  }
}

const round = (n: number) => Math.round(n * 100) / 100;
