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
const RUNS = 7;

export default async function () {
  const html = new URL('../dist/visualizer.html', import.meta.url);
  const bytes = statSync(html).size;
  const gz = gzipSync(readFileSync(html)).length;
  const rows = [
    { what: 'dist/visualizer.html', value: `${fmt(bytes / 1024, 0)} KiB`, ratio: '-' },
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
    const measure = async (url, ready, read) => {
      const samples = [];
      for (let i = 0; i <= RUNS; i++) {
        const page = await browser.newPage(); // a fresh page each run; run 0 is a warm-up
        await page.goto(url);
        await ready(page);
        if (i > 0) samples.push(await page.evaluate(read));
        await page.close();
      }
      return median(samples);
    };
    const blankMs = await measure(blank, (p) => p.waitForLoadState('load'), () => performance.getEntriesByType('navigation')[0].loadEventEnd);
    const loadMs = await measure(html.href, (p) => p.waitForLoadState('load'), () => performance.getEntriesByType('navigation')[0].loadEventEnd);
    const drawnMs = await measure(
      html.href,
      (p) => p.waitForSelector('body[data-diagram="ready"]', { timeout: 60_000 }),
      () => performance.getEntriesByName('diagram-drawn')[0].startTime,
    );
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
