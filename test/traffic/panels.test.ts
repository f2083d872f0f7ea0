// Traffic mode's comparison of two windows, its top paths from init and a state's breakdown, in Debian's Chromium
// against a real `serve` whose clock the test sets: sessions are fed through the package's own client "yesterday"
// (the server's clock a day and ten minutes back) and now, and what the page shows is worked out from what was sent.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import type { RoomEventType } from '../../machines/domain';
import { trafficPlans, type SessionPlan, type TrafficRun } from '../../src/cli/simulateTraffic';
import { diagramEdges } from '../../src/model/diagramEdges';
import { walkScenario } from '../../src/visualizer/scenario';
import { lineChange } from '../../src/visualizer/trafficCompare';
import { pathEdges } from '../../src/visualizer/trafficEdges';
import { axeViolations, buildInto, closeLabels, countLabelClashes, launchChromium, linesThroughLabels, minDiagramTextPx, openTraffic, ROOT, screenshot, strokeContrast, textsOutsideDiagram } from '../support/visualizerPage';
import { drawnAs, expected, feed, plan, startServe, useServedPage, type TrafficServer } from './support';

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

/** A session's path as the server keeps it (expected's key for it: states, ' …' when cut). */
const pathOf = (p: SessionPlan) => Object.keys(expected([{ ...p, leave: true }]).paths)[0];

const served = useServedPage(() => browser, () => server);
let page: Page;
beforeEach(async () => {
  page = served.page();
  await openTraffic(page);
  await page.waitForSelector(`[data-testid="funnel"] [data-funnel-state="init"][data-count="${YESTERDAY.length + TODAY.length}"]`, { timeout: 15_000 });
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

describe('top paths from init', () => {
  it('lists the paths the ended sessions took with their counts and shares; a path shows on the diagram; its example opens in replay', async () => {
    // Every session here ends (leaves): all of them, yesterday's and today's, are in the window "all".
    const sent = [...YESTERDAY, ...TODAY];
    const want = expected(sent).paths;
    await page.waitForSelector('[data-testid="traffic-paths"] li[data-path]', { timeout: 15_000 });
    const shown = await page.$$eval('[data-testid="traffic-paths"] li[data-path]', (lis) =>
      lis.map((li) => ({ path: li.getAttribute('data-path') as string, truncated: li.getAttribute('data-truncated') === 'true', count: Number(li.getAttribute('data-count')), text: li.textContent ?? '' })),
    );
    expect(Object.fromEntries(shown.map((s) => [`${s.path}${s.truncated ? ' …' : ''}`, s.count]))).toEqual(want);
    // Most frequent first, each with its share of the sessions that ended, the path in words.
    expect(shown.map((s) => s.count)).toEqual([...shown.map((s) => s.count)].sort((a, b) => b - a));
    for (const s of shown) expect(s.text).toContain(`${s.path.split(' ').join(' → ')}${s.count} · ${Math.round((s.count / sent.length) * 100)} %`);
    // Hovering a path fades the rest of the diagram: the lines and states left are the path's.
    const top = shown[0].path;
    await page.hover(`[data-testid="traffic-paths"] li[data-path="${top}"] [data-testid="path-show"]`);
    expect(await page.getAttribute('#diagram', 'data-path')).toBe(top);
    const on = await page.$$eval('#diagram [data-edge][data-on-path]', (gs) => gs.map((g) => g.id).sort());
    expect(on).toEqual([...new Set(pathEdges(top.split(' ')).map((id) => Object.keys(drawnAs({ [id]: 1 }))[0]))].sort());
    expect(await page.$$eval('#diagram [data-state][data-on-path]', (gs) => gs.map((g) => g.getAttribute('data-state')).sort())).toEqual([...new Set(top.split(' '))].sort());
    // By keyboard: Enter on a path pins it (it stays when the pointer and the focus go elsewhere), Enter again lets go.
    const second = shown[1].path;
    await page.focus(`[data-testid="traffic-paths"] li[data-path="${second}"] [data-testid="path-show"]`);
    await page.keyboard.press('Enter');
    await page.mouse.move(0, 0);
    await page.focus('[data-testid="traffic-window"]');
    expect(await page.getAttribute('#diagram', 'data-path')).toBe(second);
    await page.focus(`[data-testid="traffic-paths"] li[data-path="${second}"] [data-testid="path-show"]`);
    await page.keyboard.press('Enter');
    await page.focus('[data-testid="traffic-window"]');
    expect(await page.getAttribute('#diagram', 'data-path')).toBeNull();
    // Its example session opens in replay: one of the sessions that went that way, at its start.
    const session = (await page.getAttribute(`[data-testid="traffic-paths"] li[data-path="${top}"] [data-testid="path-replay"]`, 'data-session')) as string;
    const name = Object.entries(ids).find(([, id]) => id === session)?.[0];
    const p = sent.find((x) => x.name === name) as SessionPlan;
    expect(pathOf(p)).toBe(top);
    await page.click(`[data-testid="traffic-paths"] li[data-path="${top}"] [data-testid="path-replay"]`);
    await page.waitForFunction(() => document.querySelector('[data-testid="mode"]')?.textContent === 'replay');
    expect(await page.textContent('[data-testid="step-position"]')).toBe(`0 / ${p.events.length}`);
    expect(await page.$$eval('[data-testid="timeline"] button[data-step]:not([data-step="0"])', (bs) => bs.map((b) => b.getAttribute('title') ?? b.textContent))).toHaveLength(p.events.length);
    expect(await page.textContent('[data-testid="traffic-drilldown"]')).toContain(`Replaying session ${session} (${p.events.length} reports)`);
  });
});

describe("a state's breakdown", () => {
  it('shows its entries, time spent, ways in and out with counts and shares, and example sessions that open in replay where they entered it', async () => {
    const sent = [...YESTERDAY, ...TODAY];
    const edges = expected(sent).edges;
    const starting = page.locator('#diagram [data-state="starting"]');
    await starting.focus();
    await page.keyboard.press('Enter');
    const box = '[data-testid="traffic-breakdown"]';
    await page.waitForSelector(`${box} [data-testid="breakdown-in"]`);
    const rows = (side: string) =>
      page.$$eval(`${box} [data-testid="breakdown-${side}"] tr[data-way]`, (trs) => trs.map((tr) => [tr.getAttribute('data-way'), Number(tr.getAttribute('data-count')), tr.querySelectorAll('td')[1]?.textContent]));
    const ways = (side: 'from' | 'to') => {
      const list = diagramEdges().filter((e) => e[side] === 'starting' && e[side === 'from' ? 'to' : 'from'] !== 'starting' && edges[e.id] > 0);
      const all = list.reduce((a, e) => a + edges[e.id], 0);
      return list.map((e) => [e.id, edges[e.id], `${Math.round((edges[e.id] / all) * 100)} %`]).sort((a, b) => (b[1] as number) - (a[1] as number));
    };
    expect(await rows('in')).toEqual(ways('to'));
    expect(await rows('out')).toEqual(ways('from'));
    // Known from what was sent: 8 came in from waiting; 5 went on to sending, 2 to receiving; 1 ended there.
    expect((await rows('in')).map(([, n]) => n)).toEqual([8]);
    expect((await rows('out')).map(([, n]) => n)).toEqual([5, 2]);
    expect(await page.textContent(`${box} [data-testid="breakdown-ended"]`)).toContain('1 left');
    const { entered, visitsEnded } = expected(sent);
    expect(await page.getAttribute(`${box} [data-testid="breakdown-entered"]`, 'data-entered')).toBe(String(entered.starting));
    // Every visit that left it (to another state, or by ending there) is timed.
    expect(await page.getAttribute(`${box} [data-testid="breakdown-time"]`, 'data-visits')).toBe(String(visitsEnded.starting));
    expect(await page.textContent(`${box} [data-testid="breakdown-time"]`)).toMatch(/mean \d.* · p50 .* · p90 .* \(8 visits\)/);
    // Its examples: sessions that entered it, the newest first; the first opens in replay at the step it entered starting.
    const examples = await page.$$eval(`${box} [data-testid="breakdown-replay"]`, (bs) => bs.map((b) => b.getAttribute('data-session') as string));
    expect(examples.length).toBeGreaterThan(0);
    const names = examples.map((id) => Object.entries(ids).find(([, x]) => x === id)?.[0]);
    expect(names.every((n) => sent.find((p) => p.name === n && pathOf(p).split(' ').includes('starting')))).toBe(true);
    const p = sent.find((x) => x.name === names[0]) as SessionPlan;
    await page.focus(`${box} [data-testid="breakdown-replay"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('[data-testid="mode"]')?.textContent === 'replay');
    const at = walkScenario(p.events).steps.findIndex((s) => s.state === 'starting') + 1;
    expect(await page.textContent('[data-testid="step-position"]')).toBe(`${at} / ${p.events.length}`);
    expect(await page.textContent('[data-testid="current-state"]')).toBe('starting');
    expect(await page.textContent('[data-testid="traffic-drilldown"]')).toContain(`Replaying session ${examples[0]} (${p.events.length} reports) at step ${at}`);
  });
});

describe('compare with busier traffic', () => {
  it('keeps labels 4 px apart at 1280x800, 1920x1080 and 1280x720 (the fit view, text 11 px or more), every change colour 3:1 or more, axe clean light and dark after use; takes the docs screenshots', async () => {
    // More seeded sessions yesterday and now (yesterday's all leave: an open one would expire today).
    offset = -(DAY + 10 * MINUTE);
    await feed(server.serverUrl, trafficPlans({ sessions: 24, seed: 31, broken: 0 }).map((p, i) => ({ ...p, name: `busy-y-${i}`, leave: true })));
    offset = 0;
    await feed(server.serverUrl, trafficPlans({ sessions: 36, seed: 32, broken: 0 }).map((p, i) => ({ ...p, name: `busy-t-${i}` })));
    // By keyboard: the comparison chosen in its select, a state's breakdown, a path pinned.
    await page.focus('[data-testid="traffic-compare"]');
    await compare(page, () => page.keyboard.press('ArrowDown'));
    expect(await page.inputValue('[data-testid="traffic-compare"]')).toBe('hour');
    await page.locator('#diagram [data-state="sendrecv"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid="traffic-breakdown"] [data-testid="breakdown-out"]');
    await page.focus('[data-testid="traffic-paths"] li[data-path] [data-testid="path-show"]');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter'); // and let go again: the picture shows the whole comparison
    await page.locator('#diagram > svg[role="group"]').focus();
    const figures: string[] = [];
    const kinds = ['up', 'new', 'down', 'gone', 'same'];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect({ scheme, violations: await axeViolations(page) }).toEqual({ scheme, violations: [] });
      // Each change's colour, as its legend swatch shows it, against the background; every line drawn in its swatch's colour.
      const c = await strokeContrast(page, Object.fromEntries(kinds.map((k) => [k, `[data-testid="compare-legend"] .swatch.compare-${k}`])));
      figures.push(`compare ${scheme}: colour contrast against the background ${Object.entries(c).map(([k, v]) => `${k} ${v}:1`).join(', ')}`);
      expect({ scheme, low: Object.entries(c).filter(([, v]) => !(v !== null && v >= 3)) }).toEqual({ scheme, low: [] });
      const mismatched = await page.evaluate(() =>
        Array.from(document.querySelectorAll('#diagram [data-change]:not([data-change="unused"])')).filter((g) => {
          const swatch = document.querySelector(`[data-testid="compare-legend"] .swatch.compare-${g.getAttribute('data-change')}`) as Element;
          return getComputedStyle(g.querySelector('path:not(.hit)') as Element).stroke !== getComputedStyle(swatch).borderTopColor;
        }).map((g) => g.id),
      );
      expect({ scheme, mismatched }).toEqual({ scheme, mismatched: [] });
    }
    await page.emulateMedia({ colorScheme: 'light' });
    for (const [width, height] of [
      [1280, 800],
      [1920, 1080],
      [1280, 720],
    ]) {
      await page.setViewportSize({ width, height });
      await page.click('[data-testid="zoom-fit"]');
      await page.locator('#diagram > svg[role="group"]').focus();
      const size = `${width}x${height}`;
      const gaps = await closeLabels(page, 4);
      expect({ size, close: gaps.close }).toEqual({ size, close: [] });
      expect({ size, clashes: (await countLabelClashes(page)).clashes }).toEqual({ size, clashes: [] });
      expect({ size, through: await linesThroughLabels(page) }).toEqual({ size, through: [] });
      // A pinned path draws its lines 2 px wider (the busiest line, from init, among them): still clear of the labels.
      await page.focus('[data-testid="traffic-paths"] li[data-path] [data-testid="path-show"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#diagram[data-path]');
      expect({ size, pinned: await linesThroughLabels(page) }).toEqual({ size, pinned: [] });
      // Let go, and focus away (a focused path is shown too).
      await page.keyboard.press('Enter');
      await page.locator('#diagram > svg[role="group"]').focus();
      await page.waitForSelector('#diagram:not([data-path])');
      expect({ size, outside: await textsOutsideDiagram(page, '#diagram svg text') }).toEqual({ size, outside: [] });
      const px = await minDiagramTextPx(page);
      expect(px).toBeGreaterThanOrEqual(11);
      figures.push(`compare ${size}: least label gap ${gaps.least} px, smallest text ${px.toFixed(1)} px`);
      if (height === 720) continue; // measured, not pictured
      const file = process.env.UPDATE_SCREENSHOTS ? join(ROOT, width === 1280 ? 'docs/traffic-compare.png' : `docs/traffic-compare-${size}.png`) : join(tmpdir(), `loop-room-compare-${process.pid}-${size}.png`);
      await screenshot(page, file);
      if (!process.env.UPDATE_SCREENSHOTS) rmSync(file, { force: true });
    }
    process.stdout.write(`${figures.join('\n')}\n`);
  });
});
