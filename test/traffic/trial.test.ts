// What a designer's trial of Traffic mode found, checked in Debian's Chromium against a real `serve`: the
// non-conformance table wraps between words (and parts of names), never inside one; choosing a row brings the replay
// into view; a page opened from disk says it cannot read a server and links to the served page; the live view of a
// server with an admin token says so; the timeline and the export name say Traffic.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { trafficPlans } from '../../src/cli/simulateTraffic';
import { axeViolations, buildInto, countsNearerOtherLabels, diagramReady, launchChromium, openTraffic } from '../support/visualizerPage';
import { feed, startServe, type TrafficServer } from './support';

let dir: string;
let server: TrafficServer;
let browser: Browser;

beforeAll(async () => {
  dir = buildInto();
  server = await startServe({ dir });
  browser = await launchChromium();
  // The trial's traffic: seeded sessions, a fifth of them broken (lost, doubled, wrong or misspelt reports).
  await feed(server.serverUrl, trafficPlans({ sessions: 60, seed: 7 }));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function open(url: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport })).newPage();
  await page.goto(url);
  await diagramReady(page);
  return page;
}

/** `check` on the served page in Traffic mode, its stream live (1280x800 unless told). */
async function inTraffic(viewport: { width: number; height: number } | undefined, check: (page: Page) => Promise<void>): Promise<void> {
  const page = await open(`${server.origin}/`, viewport);
  try {
    await openTraffic(page);
    await check(page);
  } finally {
    await page.context().close();
  }
}

/**
 * The words of the non-conformance table drawn on more than one line: a run of letters in one text node (the page
 * splits names at their parts with <wbr>, which ends a text node) whose glyphs sit on two lines or more.
 */
const brokenWords = (page: Page) =>
  page.$eval('[data-testid="nonconformance"]', (table) => {
    const out: string[] = [];
    const walk = document.createTreeWalker(table, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const node = walk.currentNode as Text;
      for (const m of (node.textContent ?? '').matchAll(/\S+/g)) {
        const r = document.createRange();
        r.setStart(node, m.index ?? 0);
        r.setEnd(node, (m.index ?? 0) + m[0].length);
        const lines = new Set(Array.from(r.getClientRects()).filter((x) => x.width > 0).map((x) => Math.round(x.top)));
        if (lines.size > 1) out.push(m[0]);
      }
    }
    return out;
  });

it.each([
  [1280, 800],
  [1440, 900],
])('the non-conformance table at %ix%i breaks no word inside itself and fits the panel', async (width, height) => {
  await inTraffic({ width, height }, async (page) => {
    await page.waitForSelector('[data-testid="nonconformance"] tr[data-session]');
    expect(await page.locator('[data-testid="nonconformance"] tr[data-session]').count()).toBeGreaterThan(3);
    expect(await brokenWords(page)).toEqual([]);
    expect(await page.$eval('[data-testid="nonconformance"]', (t) => t.scrollWidth <= (t.parentElement as HTMLElement).clientWidth)).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
  });
});

it('in Traffic, the timeline says what the mode offers it, and an export is named for what it shows', async () => {
  await inTraffic(undefined, async (page) => {
    expect(await page.textContent('[data-testid="timeline-label"]')).toBe('Traffic: replay a session from the panel here');
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-png"]')]);
    expect(png.suggestedFilename()).toBe('room-session-traffic.png');
  });
});

it("choosing a row's verdict brings the replay, its chart and its flagged step, into view, the focus on that step", async () => {
  await inTraffic(undefined, async (page) => {
    await page.locator('[data-testid="nonconformance-replay"]').nth(1).click(); // scrolled down to it, as a user would
    await page.locator('[data-testid="mode"]', { hasText: 'replay' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.getAttribute('aria-current') === 'step');
    const view = await page.evaluate(() => {
      const top = (sel: string) => (document.querySelector(sel) as HTMLElement).getBoundingClientRect();
      const d = top('#diagram');
      const chip = top('[data-testid="timeline"] [aria-current="step"]');
      return { diagram: d.top >= 0 && d.top < innerHeight, chip: chip.top >= 0 && chip.bottom <= innerHeight };
    });
    expect(view).toEqual({ diagram: true, chip: true });
  });
});

it('opened from disk: says it cannot read a room server, links to the page the server serves, and says what is wrong with an address', async () => {
  const page = await open(pathToFileURL(join(dir, 'visualizer.html')).href);
  try {
    await page.click('[data-testid="mode-traffic"]');
    await page.waitForSelector('[data-testid="traffic-connect"]:not([hidden])');
    const detail = page.locator('[data-testid="traffic-detail"]');
    expect(await detail.textContent()).toContain('A page opened from disk cannot read a room server');
    expect(await page.isVisible('[data-testid="traffic-token"]')).toBe(false);
    for (const [input, said] of [
      ['', "give the room server's address, such as http://127.0.0.1:5000/v1"],
      ['not a url', '"not a url" is not an address: give one such as http://127.0.0.1:5000/v1'],
    ]) {
      await page.fill('[data-testid="traffic-url"]', input);
      await page.click('[data-testid="traffic-go"]');
      await detail.filter({ hasText: said }).waitFor();
    }
    await page.fill('[data-testid="traffic-url"]', `${server.origin}/v1`);
    await page.click('[data-testid="traffic-go"]');
    await page.waitForSelector('[data-testid="traffic-served-page"]');
    expect(await page.getAttribute('[data-testid="traffic-served-page"]', 'href')).toBe(`${server.origin}/`);
    // It never tries (and so never says "reconnecting" forever).
    expect(await page.getAttribute('[data-testid="traffic-live"]', 'data-state')).toBe('closed');
    expect(await axeViolations(page)).toEqual([]);
  } finally {
    await page.context().close();
  }
});

it('served by a room server with an admin token, the live view says the server wants its token, as Traffic does', async () => {
  const guarded = await startServe({ dir, adminToken: 'trial-admin-token-0123456789' });
  const page = await open(`${guarded.origin}/`);
  try {
    const status = page.locator('[data-testid="live-status"]');
    await status.filter({ hasText: '401' }).waitFor();
    expect(await status.textContent()).toBe('the server wants its admin token (401): enter it in Admin token and press Connect');
    await page.fill('[data-testid="live-token"]', 'a-wrong-token');
    await page.click('[data-testid="live-connect"]');
    await status.filter({ hasText: 'refused this admin token (401)' }).waitFor();
    await page.fill('[data-testid="live-token"]', 'trial-admin-token-0123456789');
    await page.click('[data-testid="live-connect"]');
    await status.filter({ hasText: /^connected/ }).waitFor();
  } finally {
    await page.context().close();
    await guarded.stop();
  }
});

it.each([
  [1280, 800],
  [1440, 900],
  [1920, 1080],
])("at %ix%i every count is nearer its own edge's label than any other's", async (width, height) => {
  await inTraffic({ width, height }, async (page) => {
    await page.waitForSelector('#diagram text.traffic-count');
    expect(await countsNearerOtherLabels(page)).toEqual([]);
  });
});
