// Test support for the browser suites: Debian's Chromium, headless, driven by playwright-core (never a downloaded browser),
// and the single-file page built into a temporary directory by the real build script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startVisualizerServer, type VisualizerServer } from '../../src/visualizer/server';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ROOT = join(__dirname, '..', '..');

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); no browser is downloaded`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
}

/** Build dist-like files into a fresh temp dir: `visualizer.html` (and the CLI when asked). */
export function buildInto(what: { cli?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'loop-visualizer-'));
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-visualizer.mjs'), join(dir, 'visualizer.html')], { cwd: ROOT, stdio: 'pipe' });
  if (what.cli) {
    // The CLI as scripts/build.mjs bundles it, but with its dependencies inlined so it runs from the temp dir.
    buildSync({
      entryPoints: [join(ROOT, 'src/cli/bin.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'es2022',
      logLevel: 'warning',
      external: ['bufferutil', 'utf-8-validate'], // ws's optional native helpers
      outfile: join(dir, 'cli.cjs'),
    });
  }
  return dir;
}

/** What a browser suite needs, set up once per test file by `usePageFixture`. */
export interface PageFixture {
  dir: string;
  server: VisualizerServer;
  browser: Browser;
  /** The built single-file page. */
  html(): string;
  /** Its file:// URL. */
  fileUrl(): string;
  /** The two ways a designer opens the page: served by `visualize`, and the single file from disk. */
  targets: Array<[string, () => string]>;
}

/** Builds the page into a temp dir, serves it with the visualizer server (port 0) and launches one browser. */
export function usePageFixture(): PageFixture {
  const fx = {
    html: () => readFileSync(join(fx.dir, 'visualizer.html'), 'utf8'),
    fileUrl: () => pathToFileURL(join(fx.dir, 'visualizer.html')).href,
    targets: [
      ['served by `visualize`', () => fx.server.url],
      ['opened from disk', () => fx.fileUrl()],
    ],
  } as PageFixture;
  beforeAll(async () => {
    fx.dir = buildInto();
    fx.server = await startVisualizerServer({ html: fx.html(), port: 0 });
    fx.browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await fx.browser?.close();
    await fx.server?.close();
    if (fx.dir) rmSync(fx.dir, { recursive: true, force: true });
  });
  return fx;
}

/** Wait until the page has laid out its diagram (or failed to, which fails the test with the page's words). */
export async function diagramReady(page: Page): Promise<void> {
  await page.waitForSelector('body[data-diagram]', { timeout: 30_000 });
  const outcome = await page.getAttribute('body', 'data-diagram');
  if (outcome !== 'ready') throw new Error(`diagram not drawn: ${await page.textContent('#diagram')}`);
}

/** What the page shows now, read through the test contract's selectors. */
export async function shown(page: Page) {
  return page.evaluate(() => {
    const text = (sel: string) => document.querySelector(sel)?.textContent ?? null;
    return {
      state: text('[data-testid="current-state"]'),
      connections: Number(text('[data-testid="counter-connections"]')),
      sendStreams: Number(text('[data-testid="counter-sendStreams"]')),
      recvStreams: Number(text('[data-testid="counter-recvStreams"]')),
      active: Array.from(document.querySelectorAll('[data-state][data-active="true"]')).map((e) => e.getAttribute('data-state')),
      log: Array.from(document.querySelectorAll('[data-testid="log-entry"]')).map((li) => ({
        accepted: li.getAttribute('data-accepted') === 'true',
        report: li.querySelector('[data-testid="report"]')?.textContent ?? null,
        mismatch: Array.from(li.querySelectorAll('[data-testid="mismatch"]')).map((m) => m.textContent),
      })),
      rejected: Array.from(document.querySelectorAll('button[data-event][aria-disabled="true"]')).map((b) => b.getAttribute('data-event')),
    };
  });
}

/** Wait until `selector`'s text is `text` (or, with `part`, contains it): the page does some things asynchronously. */
export async function textIs(page: Page, selector: string, text: string, part = false, timeout = 10_000): Promise<void> {
  try {
    await page.waitForFunction(
      ([sel, want, contains]) => {
        const got = document.querySelector(sel as string)?.textContent ?? '';
        return contains ? got.includes(want as string) : got === want;
      },
      [selector, text, part] as const,
      { timeout },
    );
  } catch {
    throw new Error(`${selector} never read ${JSON.stringify(text)}; it reads ${JSON.stringify(await page.textContent(selector))}`);
  }
}

/**
 * The smallest rendered size of any diagram text, in CSS px: its computed font size (Graphviz's attribute or the
 * page's CSS, for labels added after layout) times the SVG's screen scale.
 */
export const minDiagramTextPx = (page: Page) =>
  page.$$eval('#diagram svg text', (texts) => Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * ((t as SVGTextElement).getScreenCTM()?.a ?? 0))));

/** The texts matching `selector` whose drawn box is not wholly inside the diagram's visible box (none, when fitted). */
export const textsOutsideDiagram = (page: Page, selector: string) =>
  page.$$eval(selector, (texts) => {
    const box = (document.querySelector('#diagram') as HTMLElement).getBoundingClientRect();
    const svg = (document.querySelector('#diagram > svg') as SVGSVGElement).getBoundingClientRect();
    const left = Math.max(box.left, svg.left);
    const top = Math.max(box.top, svg.top);
    const right = Math.min(box.right, svg.right);
    const bottom = Math.min(box.bottom, svg.bottom);
    return texts
      .map((t) => [t.textContent ?? '', t.getBoundingClientRect()] as const)
      .filter(([, r]) => r.width === 0 || r.left < left || r.top < top || r.right > right || r.bottom > bottom)
      .map(([text, r]) => `${text} at ${Math.round(r.left)},${Math.round(r.top)}-${Math.round(r.right)},${Math.round(r.bottom)} (box ${Math.round(left)},${Math.round(top)}-${Math.round(right)},${Math.round(bottom)})`);
  });

/**
 * Labels on the diagram closer than `gap` CSS px (or overlapping), as drawn now: a label is the texts of one state's
 * or edge's name, or one added traffic label (a count, a state's figures). The distance is between the rendered boxes
 * (bold and halos included in the box the browser gives), the larger of the horizontal and vertical gaps.
 * Also gives the smallest gap found, for reporting.
 */
export const closeLabels = (page: Page, gap: number) =>
  page.$$eval(
    '#diagram svg text',
    (texts, want) => {
      const owners = new Map<string, DOMRect[]>();
      for (const t of texts) {
        const r = t.getBoundingClientRect();
        if (!(r.width > 0 && r.height > 0)) continue;
        const added = t.getAttribute('data-for');
        const key = added ? `${t.getAttribute('class')}:${added}` : t.closest('[data-edge], [data-state], g.cluster')?.id ?? `text:${t.textContent}`;
        owners.set(key, [...(owners.get(key) ?? []), r]);
      }
      const boxes = [...owners].map(([key, rs]) => ({
        key,
        l: Math.min(...rs.map((r) => r.left)),
        r: Math.max(...rs.map((r) => r.right)),
        t: Math.min(...rs.map((r) => r.top)),
        b: Math.max(...rs.map((r) => r.bottom)),
      }));
      const out: string[] = [];
      let least = Infinity;
      boxes.forEach((a, i) =>
        boxes.slice(i + 1).forEach((c) => {
          const d = Math.max(c.l - a.r, a.l - c.r, c.t - a.b, a.t - c.b);
          least = Math.min(least, d);
          if (d < (want as number)) out.push(`${a.key} / ${c.key}: ${d.toFixed(1)} px`);
        }),
      );
      return { close: out, least: Math.round(least * 10) / 10 };
    },
    gap,
  );

/** How far a drawn line reaches into a box on screen, in CSS px (negative: it stays that far outside). */
type Reach = (r: DOMRect) => number;
type StrokeWindow = { lrsReach?: (p: SVGPathElement) => Reach };

/**
 * Puts `lrsReach(path)` in the page: the path sampled every CSS px and widened as it is drawn (across the line by half
 * its width; past its ends only with round caps: a butt end stops where the line does), as a box's test. The label
 * checks below share it.
 */
const installReach = (page: Page) =>
  page.evaluate(() => {
    const w = window as StrokeWindow;
    w.lrsReach ??= (p) => {
      const m = p.getScreenCTM() as DOMMatrix;
      const style = getComputedStyle(p);
      const half = (parseFloat(style.strokeWidth) * m.a) / 2;
      const round = style.strokeLinecap === 'round';
      const len = p.getTotalLength();
      const at = (s: number) => p.getPointAtLength(Math.max(0, Math.min(len, s))).matrixTransform(m);
      // Where the stroke is at each sample: a round cap's disc around it, or the segment across the line (its
      // direction from the points beside).
      const samples: Array<{ x: number; y: number; nx: number; ny: number }> = [];
      for (let s = 0; s <= len; s += 1 / m.a) {
        const q = at(s);
        const [a, b] = [at(s - 0.5), at(s + 0.5)];
        const d = Math.hypot(b.x - a.x, b.y - a.y) || 1;
        samples.push({ x: q.x, y: q.y, nx: -(b.y - a.y) / d, ny: (b.x - a.x) / d });
      }
      /** How deep a point is inside a box (negative: outside). */
      const depth = (x: number, y: number, r: DOMRect) => Math.min(x - r.left, r.right - x, y - r.top, r.bottom - y);
      return (r) => {
        let deepest = -Infinity;
        for (const { x, y, nx, ny } of samples) {
          if (round) deepest = Math.max(deepest, depth(x, y, r) + half);
          else for (const u of [-1, -0.5, 0, 0.5, 1]) deepest = Math.max(deepest, depth(x + u * half * nx, y + u * half * ny, r));
        }
        return deepest;
      };
    };
  });

/**
 * Edge lines drawn through a label: every line (its click band aside), as drawn (installReach), that enters a label's
 * text box by more than 2 px (its line box's leading: no glyph is there) and is painted over it, that is, not under an
 * opaque backing drawn after the line and before the label. Traffic counts aside (`countLabelClashes` checks them).
 */
export const linesThroughLabels = async (page: Page) => {
  await page.waitForSelector('#diagram[data-labels="ready"]');
  await installReach(page);
  return page.evaluate(() => {
    const reachOf = (window as StrokeWindow).lrsReach!;
    const after = (a: Node, b: Node) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_PRECEDING) !== 0;
    const texts = Array.from(document.querySelectorAll<SVGTextElement>('#diagram svg text:not(.traffic-count)'))
      .map((t) => {
        // An edge's label: its backing beside it; an added traffic label: the backing made for the same element.
        const added = t.getAttribute('data-for');
        const back = added ? document.querySelector(`#diagram rect.traffic-backing[data-for="${CSS.escape(added)}"]`) : t.parentElement?.querySelector(':scope > rect.label-backing');
        return { t, r: t.getBoundingClientRect(), back };
      })
      .filter(({ r }) => r.width > 0);
    const out: string[] = [];
    for (const p of Array.from(document.querySelectorAll<SVGPathElement>('#diagram .edge path:not(.hit)'))) {
      const reach = reachOf(p);
      const id = (p.closest('g') as Element).id;
      for (const { t, r, back } of texts) {
        if (reach(r) <= 2) continue;
        const b = back?.getBoundingClientRect();
        const covered = back && b && after(back, p) && b.left <= r.left + 2 && b.right >= r.right - 2 && b.top <= r.top + 2 && b.bottom >= r.bottom - 2 && getComputedStyle(back).fillOpacity === '1';
        if (!covered) out.push(`${id} through "${t.textContent}" (${t.closest('g[id]')?.id ?? t.getAttribute('data-for')})`);
      }
    }
    return out;
  });
};

/**
 * Edge labels that sit nearer another line than their own, as drawn (installReach, in CSS px between the line's
 * stroke and the label's box; lines that pass under the label aside): a label reads as the nearest line's. Each with both distances; `least` is the smallest
 * margin found (own line's distance subtracted from the nearest other's), for reporting.
 */
export const labelsNearerOtherLines = async (page: Page) => {
  await page.waitForSelector('#diagram[data-labels="ready"]');
  await installReach(page);
  return page.evaluate(() => {
    const reachOf = (window as StrokeWindow).lrsReach!;
    const lines = Array.from(document.querySelectorAll<SVGPathElement>('#diagram .edge path:not(.hit)')).map((p) => ({ id: (p.closest('g') as Element).id, reach: reachOf(p) }));
    const out: string[] = [];
    let least = Infinity;
    for (const g of Array.from(document.querySelectorAll<SVGGElement>('#diagram g.edge[data-edge]'))) {
      const rs = Array.from(g.querySelectorAll(':scope > text'), (t) => t.getBoundingClientRect()).filter((r) => r.width > 0);
      if (rs.length === 0) continue;
      const box = new DOMRect(Math.min(...rs.map((r) => r.left)), Math.min(...rs.map((r) => r.top)), 0, 0);
      box.width = Math.max(...rs.map((r) => r.right)) - box.left;
      box.height = Math.max(...rs.map((r) => r.bottom)) - box.top;
      const away = (l: (typeof lines)[number]) => -l.reach(box);
      const own = Math.min(...lines.filter((l) => l.id === g.id).map(away));
      // A line that goes under the label (its backing hides it there, knockOutLabels) is seen passing beneath, not
      // ending at it: the nearest of the others that stay outside is what the label could be taken for.
      const other = lines.filter((l) => l.id !== g.id).map((l) => ({ id: l.id, d: away(l) })).filter((l) => l.d > 0).sort((a, b) => a.d - b.d)[0];
      if (!other) continue;
      least = Math.min(least, other.d - own);
      if (other.d <= own) out.push(`"${rs.length && Array.from(g.querySelectorAll(':scope > text'), (t) => t.textContent).join(' ')}" (${g.id}) ${own.toFixed(1)} px from its line, ${other.d.toFixed(1)} px from ${other.id}`);
    }
    return { nearer: out, least: Math.round(least * 10) / 10 };
  });
};

/**
 * Traffic counts that sit as near another edge's label as their own (box to box, CSS px): a count reads as the nearest
 * label's. Each with both distances.
 */
export const countsNearerOtherLabels = (page: Page) =>
  page.evaluate(() => {
    const boxOf = (ts: Element[]) => {
      const rs = ts.map((t) => t.getBoundingClientRect()).filter((r) => r.width > 0);
      return rs.length === 0 ? undefined : { l: Math.min(...rs.map((r) => r.left)), t: Math.min(...rs.map((r) => r.top)), r: Math.max(...rs.map((r) => r.right)), b: Math.max(...rs.map((r) => r.bottom)) };
    };
    const gap = (a: { l: number; t: number; r: number; b: number }, c: { l: number; t: number; r: number; b: number }) => Math.hypot(Math.max(0, c.l - a.r, a.l - c.r), Math.max(0, c.t - a.b, a.t - c.b));
    const labels = Array.from(document.querySelectorAll('#diagram g.edge[data-edge]'), (g) => ({ id: g.id, box: boxOf(Array.from(g.querySelectorAll(':scope > text'))) })).filter((x) => x.box);
    const out: string[] = [];
    for (const c of Array.from(document.querySelectorAll('#diagram text.traffic-count'))) {
      const box = boxOf([c]);
      const mine = labels.find((l) => l.id === c.getAttribute('data-for'));
      if (!box || !mine?.box) continue;
      const own = gap(box, mine.box);
      const other = labels.filter((l) => l !== mine).map((l) => ({ id: l.id, d: gap(box, l.box!) })).sort((a, b) => a.d - b.d)[0];
      if (other && other.d <= own) out.push(`${c.textContent} of ${mine.id}: ${own.toFixed(1)} px from its label, ${other.d.toFixed(1)} px from ${other.id}'s`);
    }
    return out;
  });

/** How near (CSS px, stroke to box) the line of edge `id` passes any label but its own: its room between them. */
export const lineRoom = async (page: Page, id: string) => {
  await installReach(page);
  return page.evaluate((edge) => {
    const p = document.querySelector<SVGPathElement>(`#diagram g#${CSS.escape(edge)} > path:not(.hit)`) as SVGPathElement;
    const reach = (window as StrokeWindow).lrsReach!(p);
    const blocks = Array.from(document.querySelectorAll<SVGGElement>('#diagram g.edge[data-edge], #diagram g.node[data-state]'))
      .filter((g) => g.id !== edge)
      .map((g) => {
        const rs = Array.from(g.querySelectorAll(':scope > text'), (t) => t.getBoundingClientRect()).filter((r) => r.width > 0);
        return rs.length === 0 ? undefined : { id: g.id, box: new DOMRect(Math.min(...rs.map((r) => r.left)), Math.min(...rs.map((r) => r.top)), Math.max(...rs.map((r) => r.right)) - Math.min(...rs.map((r) => r.left)), Math.max(...rs.map((r) => r.bottom)) - Math.min(...rs.map((r) => r.top))) };
      })
      .filter((b): b is { id: string; box: DOMRect } => b !== undefined);
    return blocks.map((b) => ({ id: b.id, d: Math.round(-reach(b.box) * 10) / 10 })).sort((a, b) => a.d - b.d).slice(0, 2);
  }, id);
};

/**
 * Traffic mode's `×N` counts, measured on screen: every count whose box meets another text's, and every count whose
 * box a line touches (as drawn: installReach) without an opaque backing (the page's background colour, over the
 * lines, under the count) that covers the count and hides nothing but lines. `knockedOut`: the counts whose backing
 * does hide a piece of line.
 */
export const countLabelClashes = async (page: Page) => {
  await installReach(page);
  return page.evaluate(() => {
    const reachOf = (window as StrokeWindow).lrsReach!;
    const all = <T extends Element>(sel: string) => Array.from(document.querySelectorAll<T>(sel));
    const meets = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const texts = all<SVGTextElement>('#diagram svg text');
    const shapes = all<SVGGraphicsElement>('#diagram .edge polygon, #diagram .node path, #diagram .node polygon, #diagram .node ellipse');
    const background = getComputedStyle(document.body).backgroundColor;
    const lines = all<SVGPathElement>('#diagram .edge path:not(.hit)').map((p) => ({ path: p, id: (p.closest('g') as Element).id, reach: reachOf(p) }));
    const clashes: string[] = [];
    let knockedOut = 0;
    const counts = all<SVGTextElement>('#diagram text.traffic-count');
    for (const c of counts) {
      const r = c.getBoundingClientRect();
      const name = `${c.textContent} of ${c.getAttribute('data-for')}`;
      if (!(r.width > 0 && r.height > 0)) clashes.push(`${name} is not drawn`);
      for (const t of texts) if (t !== c && meets(r, t.getBoundingClientRect())) clashes.push(`${name} meets the text "${t.textContent}"`);
      const touching = lines.filter((l) => l.reach(r) > 0);
      if (touching.length === 0) continue;
      const back = document.querySelector<SVGRectElement>(`#diagram rect.traffic-backing[data-for="${CSS.escape(c.getAttribute('data-for') ?? '')}"]`);
      const b = back?.getBoundingClientRect();
      const s = back ? getComputedStyle(back) : undefined;
      const ok =
        back && b && s &&
        b.left <= r.left && b.top <= r.top && b.right >= r.right && b.bottom >= r.bottom &&
        s.fill === background && s.fillOpacity === '1' && s.opacity === '1' && s.visibility === 'visible' &&
        touching.every((l) => l.path.compareDocumentPosition(back) & Node.DOCUMENT_POSITION_FOLLOWING) &&
        back.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING &&
        !texts.some((t) => t !== c && meets(b, t.getBoundingClientRect())) &&
        !shapes.some((e) => meets(b, e.getBoundingClientRect()));
      if (ok) knockedOut++;
      else clashes.push(`${name} touches the line of ${touching.map((l) => l.id).join(', ')} and no backing hides it`);
    }
    return { counts: counts.length, clashes, knockedOut };
  });
};

/**
 * WCAG contrast against the page's background of the colour of the first element each selector finds: a line's stroke,
 * an HTML element's top border (a legend's swatch); null when there is none. Given two names in `between`, also those
 * two colours against each other.
 */
export const strokeContrast = (page: Page, selectors: Record<string, string>, between?: [string, string]) =>
  page.evaluate(
    ([sels, pair]) => {
      const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
      const lum = (c: string) => {
        const [r, g, b] = rgb(c).map((v) => {
          const x = v / 255;
          return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const ratio = (a: string, b: string) => {
        const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
        return Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100;
      };
      const bg = getComputedStyle(document.body).backgroundColor;
      const strokes = Object.fromEntries(
        Object.entries(sels as Record<string, string>).map(([k, sel]) => {
          const e = document.querySelector(sel);
          return [k, e ? (e instanceof SVGElement ? getComputedStyle(e).stroke : getComputedStyle(e).borderTopColor) : null];
        }),
      );
      const out: Record<string, number | null> = Object.fromEntries(Object.entries(strokes).map(([k, c]) => [k, c ? ratio(c, bg) : null]));
      if (pair) {
        const [a, b] = pair as [string, string];
        out.between = strokes[a] && strokes[b] ? ratio(strokes[a] as string, strokes[b] as string) : null;
      }
      return out;
    },
    [selectors, between ?? null] as const,
  );

/** WCAG contrast of the available and the taken lines' colours against the page's background (null: none drawn). */
export const lineContrast = (page: Page) =>
  strokeContrast(page, { available: '#diagram [data-available="true"]:not([data-taken="true"]) path:not(.hit)', taken: '#diagram [data-taken="true"] path:not(.hit)' }, ['available', 'taken']);

const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');

/** axe-core's violations on the page as it is now (its script added to the page). */
export async function axeViolations(page: Page): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** Press Traffic and wait until the page's stream is live. */
export async function openTraffic(page: Page): Promise<void> {
  await page.click('[data-testid="mode-traffic"]');
  await page.waitForSelector('[data-testid="traffic-live"][data-live="true"]', { timeout: 15_000 });
}

/** A screenshot to `path`; once more after a moment when Chromium answers "Unable to capture screenshot" (seen under load). */
export async function screenshot(page: Page, path: string): Promise<void> {
  try {
    await page.screenshot({ path });
  } catch (err) {
    if (!String(err).includes('Unable to capture screenshot')) throw err;
    await page.waitForTimeout(500);
    await page.screenshot({ path });
  }
}
