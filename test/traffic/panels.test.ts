// Traffic mode's comparison of two windows, its top paths from init and a state's breakdown, in Debian's Chromium
// against a real `serve` whose clock the test sets: sessions are fed through the package's own client "yesterday"
// (the server's clock a day and ten minutes back) and now, and what the page shows is worked out from what was sent.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ROOM_STATES, type RoomEventType } from '../../machines/domain';
import { trafficPlans, type SessionPlan, type TrafficRun } from '../../src/cli/simulateTraffic';
import { diagramEdges } from '../../src/model/diagramEdges';
import { walkScenario } from '../../src/visualizer/scenario';
import { lineChange } from '../../src/visualizer/trafficCompare';
import { pathEdges } from '../../src/visualizer/trafficEdges';
import { PATH_MAX_STATES } from '../../src/visualizer/trafficWire';
import { buildInto, closeLabels, countLabelClashes, diagramReady, launchChromium, linesThroughLabels, minDiagramTextPx, ROOT, screenshot, textsOutsideDiagram } from '../support/visualizerPage';
import { drawnAs, expected, feed, plan, startServe, type TrafficServer } from './support';

const AXE = join(ROOT, 'node_modules/axe-core/axe.min.js');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const J: RoomEventType = 'Session.connectionCreated';
const L: RoomEventType = 'Session.connectionDestroyed';
const P: RoomEventType = 'Publisher.streamCreated';
const S: RoomEventType = 'Session.streamCreated';

/** Yesterday: three sessions join and leave again (waiting -> init), one gets a peer (waiting -> starting). */
const YESTERDAY: SessionPlan[] = [...[0, 1, 2].map((i) => plan(`y-back-${i}`, [J, L])), plan('y-peer', [J, J])];
/** Now: more sessions get a peer, and then send or receive; none goes back to init. */
const TODAY: SessionPlan[] = [...[0, 1, 2, 3, 4].map((i) => plan(`t-send-${i}`, [J, J, P])), ...[0, 1].map((i) => plan(`t-recv-${i}`, [J, J, S]))];

let dir: string;
let server: TrafficServer;
let browser: Browser;
/** The server's clock: real time plus this. */
let offset = 0;
const ids: TrafficRun['ids'] = {};
/** When yesterday's sessions were sent (the server's clock). */
let yesterdayAt = 0;

beforeAll(async () => {
  dir = buildInto();
  // The client signs its requests with the real time: the server allows that much skew.
  server = await startServe({ dir, now: () => Date.now() + offset, hawkSkewSec: 2 * DAY / 1000 });
  browser = await launchChromium();
  offset = -(DAY + 10 * MINUTE);
  yesterdayAt = Date.now() + offset;
  Object.assign(ids, (await feed(server.serverUrl, YESTERDAY)).ids);
  offset = 0;
  Object.assign(ids, (await feed(server.serverUrl, TODAY)).ids);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function axeViolations(page: Page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** Every drawn line's change between two sets of plans, as the page must show it. */
function changes(before: SessionPlan[], after: SessionPlan[]): Record<string, { change: string; before: number; after: number }> {
  const [b, a] = [drawnAs(expected(before).edges), drawnAs(expected(after).edges)];
  return Object.fromEntries(Object.keys(a).map((id) => [id, (({ change, before, after }) => ({ change, before, after }))(lineChange(b[id] ?? 0, a[id]))]));
}

/** What the page shows on the diagram while comparing, line by line. */
const shownChanges = (page: Page) =>
  page.$$eval('#diagram [data-edge][data-change]', (gs) =>
    Object.fromEntries(gs.map((g) => [g.id, { change: g.getAttribute('data-change') as string, before: Number(g.getAttribute('data-before')), after: Number(g.getAttribute('data-count')) }])),
  );

/** The path a session's reports make as the server holds it: init, then each state it settled in, repeats joined. */
function pathOf(p: SessionPlan): { states: string[]; truncated: boolean } {
  const states = ['init'];
  for (const s of walkScenario(p.events).steps) if (s.state !== states[states.length - 1]) states.push(s.state);
  return { states: states.slice(0, PATH_MAX_STATES), truncated: states.length > PATH_MAX_STATES };
}

let context: BrowserContext;
let page: Page;
const errors: string[] = [];
beforeEach(async () => {
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.origin}/`);
  await diagramReady(page);
  await page.click('[data-testid="mode-traffic"]');
  await page.waitForSelector('[data-testid="traffic-live"][data-live="true"]', { timeout: 15_000 });
  await page.waitForSelector(`[data-testid="funnel"] [data-funnel-state="init"][data-count="${YESTERDAY.length + TODAY.length}"]`, { timeout: 15_000 });
});
afterEach(async () => {
  await context.close();
  expect(errors).toEqual([]);
});

/** Choose a comparison and wait until the diagram shows it. */
async function compare(page: Page, choose: () => Promise<void>): Promise<void> {
  await page.evaluate(() => document.querySelector('[data-testid="compare-status"]')?.replaceChildren());
  await choose();
  await page.waitForSelector('[data-testid="compare-status"]:has-text("Comparing")', { timeout: 15_000 });
  await page.waitForSelector('body[data-compare] #diagram [data-edge][data-change]');
}

describe('compare two windows', () => {
  it('this hour vs the same hour yesterday, and the same two chosen ranges: every line coloured by its change, grown and gone among them', async () => {
    const want = changes(YESTERDAY, TODAY);
    // The known lines: one taken more often, one no longer taken, one taken only now.
    const id = (from: string, to: string, event: string) => diagramEdges().find((e) => e.from === from && e.to === to && e.event === event)?.id as string;
    const [grown, gone, fresh] = [id('init', 'waiting', J), id('waiting', 'init', L), id('starting', 'sending', P)];
    expect([want[grown], want[gone], want[fresh]]).toEqual([
      { change: 'up', before: 4, after: 7 },
      { change: 'gone', before: 3, after: 0 },
      { change: 'new', before: 0, after: 5 },
    ]);
    await compare(page, () => page.selectOption('[data-testid="traffic-compare"]', 'hour').then(() => undefined));
    expect(await shownChanges(page)).toEqual(want);
    // Told apart by colour AND pattern AND the sign in the label; the numbers before -> after with the change in words.
    const look = (line: string) =>
      page.evaluate((line) => {
        const g = document.getElementById(line) as Element;
        const p = getComputedStyle(g.querySelector('path:not(.hit)') as Element);
        return { stroke: p.stroke, dashed: p.strokeDasharray !== 'none', label: document.querySelector(`#diagram text.traffic-count[data-for="${line}"]`)?.textContent, name: g.getAttribute('aria-label') };
      }, line);
    const [up, down, added] = [await look(grown), await look(gone), await look(fresh)];
    expect(new Set([up.stroke, down.stroke, added.stroke]).size).toBe(3);
    expect([up.dashed, down.dashed, added.dashed]).toEqual([false, true, false]);
    expect([up.label, down.label, added.label]).toEqual(['▲ 4→7', '✕ 3→0', '✚ 0→5']);
    expect(up.name).toContain('4 → 7 (+75 %, more than before)');
    // Its own legend, and the table of changes with the same numbers.
    expect(await page.isVisible('[data-testid="compare-legend"]')).toBe(true);
    expect(await page.isVisible('[data-testid="traffic-legend"]')).toBe(false);
    const table = await page.$$eval('[data-testid="compare-table"] tr[data-line]', (trs) => Object.fromEntries(trs.map((tr) => [tr.getAttribute('data-line'), [tr.getAttribute('data-change'), Number(tr.getAttribute('data-before')), Number(tr.getAttribute('data-after'))]])));
    expect(table).toEqual(Object.fromEntries(Object.entries(want).filter(([, c]) => c.change !== 'unused').map(([k, c]) => [k, [c.change, c.before, c.after]])));

    // Two chosen ranges around the same sessions, typed into the date-time inputs: the same changes.
    await page.selectOption('[data-testid="traffic-compare"]', 'ranges');
    const local = (ms: number) =>
      page.evaluate((ms) => {
        const d = new Date(ms);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      }, ms);
    const now = Date.now();
    for (const [field, at] of [
      ['compare-before-since', yesterdayAt - 30 * MINUTE],
      ['compare-before-until', yesterdayAt + 30 * MINUTE],
      ['compare-after-since', now - 30 * MINUTE],
      ['compare-after-until', now + 30 * MINUTE],
    ] as const)
      await page.fill(`[data-testid="${field}"]`, await local(at));
    await compare(page, () => page.click('[data-testid="compare-go"]'));
    expect(await shownChanges(page)).toEqual(want);
    // A range ending before it starts is refused with words, and the comparison stays.
    await page.fill('[data-testid="compare-after-until"]', await local(now - 60 * MINUTE));
    await page.click('[data-testid="compare-go"]');
    expect(await page.textContent('[data-testid="compare-error"]')).toContain('a start and an end after it');
    expect(await shownChanges(page)).toEqual(want);
    // Off: the diagram's counts are the window's again, with no change marked.
    await page.selectOption('[data-testid="traffic-compare"]', '');
    await page.waitForSelector('body:not([data-compare])');
    expect(await page.$$eval('#diagram [data-change]', (x) => x.length)).toBe(0);
    expect(await page.isVisible('[data-testid="traffic-legend"]')).toBe(true);
  });
});
