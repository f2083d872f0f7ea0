// Test support for the browser suites: Debian's Chromium, headless, driven by playwright-core (never a downloaded browser),
// and the single-file page built into a temporary directory by the real build script.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

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
