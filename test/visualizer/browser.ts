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
