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
 * Pairs of diagram texts of different states or edges (an added traffic label belongs to the element it is for)
 * whose boxes overlap by more than `slack` CSS px both ways: labels drawn over each other.
 */
export const overlappingTexts = (page: Page, slack: number) =>
  page.$$eval(
    '#diagram svg text',
    (texts, px) => {
      const boxes = texts.map((t) => ({
        owner: t.closest('[data-edge], [data-state]')?.id || t.getAttribute('data-for') || '',
        text: t.textContent ?? '',
        r: t.getBoundingClientRect(),
      }));
      const out: string[] = [];
      boxes.forEach((a, i) =>
        boxes.slice(i + 1).forEach((b) => {
          if (a.owner === b.owner) return;
          const x = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
          const y = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
          if (x > px && y > px) out.push(`${a.text} (${a.owner}) / ${b.text} (${b.owner}): ${x.toFixed(1)}x${y.toFixed(1)} px`);
        }),
      );
      return out;
    },
    slack,
  );

/**
 * Traffic mode's `×N` counts, measured on screen: every count whose box meets another text's, and every count whose
 * box a line touches (the path sampled every CSS px, widened by half its drawn width) without an opaque backing (the
 * page's background colour, over the lines, under the count) that covers the count and hides nothing but lines.
 * `knockedOut`: the counts whose backing does hide a piece of line.
 */
export const countLabelClashes = (page: Page) =>
  page.evaluate(() => {
    const all = <T extends Element>(sel: string) => Array.from(document.querySelectorAll<T>(sel));
    const meets = (a: DOMRect, b: DOMRect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const texts = all<SVGTextElement>('#diagram svg text');
    const shapes = all<SVGGraphicsElement>('#diagram .edge polygon, #diagram .node path, #diagram .node polygon, #diagram .node ellipse');
    const background = getComputedStyle(document.body).backgroundColor;
    const lines = all<SVGPathElement>('#diagram .edge path').map((p) => {
      const m = p.getScreenCTM() as DOMMatrix;
      const len = p.getTotalLength();
      const pts: Array<[number, number]> = [];
      for (let s = 0; s <= len; s += 1 / m.a) {
        const q = p.getPointAtLength(s).matrixTransform(m);
        pts.push([q.x, q.y]);
      }
      return { path: p, id: (p.closest('g') as Element).id, half: (parseFloat(getComputedStyle(p).strokeWidth) * m.a) / 2, pts };
    });
    const clashes: string[] = [];
    let knockedOut = 0;
    const counts = all<SVGTextElement>('#diagram text.traffic-count');
    for (const c of counts) {
      const r = c.getBoundingClientRect();
      const name = `${c.textContent} of ${c.getAttribute('data-for')}`;
      if (!(r.width > 0 && r.height > 0)) clashes.push(`${name} is not drawn`);
      for (const t of texts) if (t !== c && meets(r, t.getBoundingClientRect())) clashes.push(`${name} meets the text "${t.textContent}"`);
      const touching = lines.filter((l) => l.pts.some(([x, y]) => x > r.left - l.half && x < r.right + l.half && y > r.top - l.half && y < r.bottom + l.half));
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
