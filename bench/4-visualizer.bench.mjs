// The visualizer: size of dist/visualizer.html, and navigation-to-diagram-drawn time in headless Chromium as a
// ratio to loading a blank page in the same browser (both read from the page's own performance timeline).
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { fmt, median, printTable } from './harness.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RUNS = 11;
const BUDGET_KIB = 400; // issue 8: one file, at most 400 KiB

export default async function () {
  const html = new URL('../dist/visualizer.html', import.meta.url);
  const bytes = statSync(html).size;
  const gz = gzipSync(readFileSync(html)).length;
  const rows = [
    { what: 'dist/visualizer.html', value: `${fmt(bytes / 1024, 0)} KiB`, ratio: `${fmt(bytes / 1024 / BUDGET_KIB)} of the ${BUDGET_KIB} KiB budget` },
    { what: 'dist/visualizer.html, gzipped', value: `${fmt(gz / 1024, 0)} KiB`, ratio: '-' },
  ];
  if (!existsSync(CHROMIUM)) {
    rows.push({ what: 'navigation to diagram drawn', value: `skipped: ${CHROMIUM} not found`, ratio: '-' });
    return printTable('Visualizer (single file)', rows);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-blank-'));
  const blank = pathToFileURL(join(dir, 'blank.html')).href;
  writeFileSync(join(dir, 'blank.html'), '<!doctype html><meta charset="utf-8"><title>blank</title><p>blank</p>');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  try {
    // Blank page and visualizer alternate run by run, so a busy machine slows both alike; run 0 is a warm-up.
    const blankSamples = [];
    const loadSamples = [];
    const drawnSamples = [];
    for (let i = 0; i <= RUNS; i++) {
      const blankPage = await browser.newPage();
      await blankPage.goto(blank);
      await blankPage.waitForLoadState('load');
      const b = await blankPage.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
      await blankPage.close();
      const page = await browser.newPage();
      await page.goto(html.href);
      await page.waitForLoadState('load');
      await page.waitForSelector('body[data-diagram="ready"]', { timeout: 60_000 });
      const [load, drawn] = await page.evaluate(() => [performance.getEntriesByType('navigation')[0].loadEventEnd, performance.getEntriesByName('diagram-drawn')[0].startTime]);
      await page.close();
      if (i === 0) continue;
      blankSamples.push(b);
      loadSamples.push(load);
      drawnSamples.push(drawn);
    }
    const [blankMs, loadMs, drawnMs] = [blankSamples, loadSamples, drawnSamples].map(median);
    rows.push(
      { what: 'blank page: navigation to load (baseline)', value: `${fmt(blankMs, 1)} ms`, ratio: '1.00' },
      { what: 'visualizer: navigation to load', value: `${fmt(loadMs, 1)} ms`, ratio: fmt(loadMs / blankMs) },
      { what: 'visualizer: navigation to diagram drawn', value: `${fmt(drawnMs, 1)} ms`, ratio: fmt(drawnMs / blankMs) },
    );
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(`Visualizer (single file, from disk; headless Chromium, median of ${RUNS} fresh pages)`, rows);
}
