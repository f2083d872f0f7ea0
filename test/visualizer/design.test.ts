// The visualizer as a designer uses it, in real Chromium, served and from disk: legible labels at laptop and desktop
// sizes, zoom and pan, a clickable diagram whose highlighted edges are the model's answer, details by keyboard,
// no sideways overflow, dark mode, forced colours, axe-core, dropped files. One browser, one page per target.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { BrowserContext, Page } from 'playwright-core';
import { ROOM_EVENTS } from '../../machines/domain';
import { diagramEdges } from '../../src/model/diagramEdges';
import { edgeGroups } from '../../src/visualizer/page/edgeGroups';
import { initialRoomSnapshot, stepRoom } from '../../src/model/step';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { generateTestCases } from '../../src/testgen/generate';
import { ROOT, axeViolations, diagramReady, usePageFixture, minDiagramTextPx, closeLabels, lineContrast, linesThroughLabels, screenshot, shown, textIs, textsOutsideDiagram } from '../support/visualizerPage';
import { availableEdgeIds } from './oracle';

const fx = usePageFixture();

const TARGETS = fx.targets;

const zoomOf = async (page: Page) => Number(await page.getAttribute('#diagram', 'data-zoom'));
const availableOnPage = (page: Page) => page.$$eval('#diagram [data-edge][data-available="true"]', (els) => els.map((e) => e.id).sort());

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await diagramReady(page);
}


describe.each(TARGETS)('the page %s', (_name, base) => {
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    context = await fx.browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(() => context.close());
  afterEach(() => expect(errors).toEqual([]));

  it('renders every diagram text at 11 CSS px or more in the initial view: the fit view at 1280x720, 1280x800 and 1920x1080, zoomed in at init on phones and narrow windows', async () => {
    await open(page, base());
    expect(await page.getAttribute('#diagram', 'data-fit')).toBe('true');
    expect(await minDiagramTextPx(page)).toBeGreaterThanOrEqual(11);
    expect(await textsOutsideDiagram(page, '#diagram svg text')).toEqual([]);
    // No two labels closer than 4 px (the available edges' bold labels included), no line through a label.
    expect((await closeLabels(page, 4)).close).toEqual([]);
    expect(await linesThroughLabels(page)).toEqual([]);
    // No page scroll is needed for that: the diagram box is inside the first screen.
    const box = await page.locator('#diagram').boundingBox();
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(800);
    const measured = [`1280x800 ${(await minDiagramTextPx(page)).toFixed(1)} px`];
    await page.setViewportSize({ width: 1920, height: 1080 });
    await open(page, base());
    expect(await page.getAttribute('#diagram', 'data-fit')).toBe('true');
    expect(await minDiagramTextPx(page)).toBeGreaterThanOrEqual(11);
    expect((await closeLabels(page, 4)).close).toEqual([]);
    expect(await linesThroughLabels(page)).toEqual([]);
    measured.push(`1920x1080 ${(await minDiagramTextPx(page)).toFixed(1)} px`);
    // A 1280x720 laptop: the whole chart too, readable without zooming (the box under the header, above the docked
    // timeline, is 552 px tall there: the chart's 759 units draw its 16-unit labels at about 11.6 px).
    await page.setViewportSize({ width: 1280, height: 720 });
    await open(page, base());
    expect(await page.getAttribute('#diagram', 'data-fit')).toBe('true');
    expect(await minDiagramTextPx(page)).toBeGreaterThanOrEqual(11);
    expect((await closeLabels(page, 4)).close).toEqual([]);
    measured.push(`1280x720 ${(await minDiagramTextPx(page)).toFixed(1)} px (fit view)`);
    // Phones and narrow windows: the fit view would draw the text at about 4 to 10 px; the chart opens zoomed in,
    // its start (init) in view.
    for (const [width, height] of [
      [390, 844],
      [320, 640],
      [1024, 768],
      [1100, 800],
    ]) {
      await page.setViewportSize({ width, height });
      await open(page, base());
      const px = await minDiagramTextPx(page);
      expect({ width, px: px >= 11 }).toEqual({ width, px: true });
      if (width >= 1024 && (await page.getAttribute('#diagram', 'data-fit')) === 'true') {
        // The story layout is narrow enough that a 1024 px window reads the fit view: nothing to zoom.
        measured.push(`${width}x${height} ${px.toFixed(1)} px (fit view)`);
        continue;
      }
      expect({ width, fit: await page.getAttribute('#diagram', 'data-fit') }).toEqual({ width, fit: width >= 1024 ? expect.any(String) : 'false' });
      expect(await page.isVisible('[data-testid="zoom-cue"]')).toBe(true); // the cue that the chart is zoomed in
      // Phones: a minimap in the corner, the part in view outlined inside it.
      if (width < 900) {
        const map = await page.locator('[data-testid="minimap"]').boundingBox();
        const view = await page.locator('[data-testid="minimap"] .minimap-view').boundingBox();
        expect(map && view && view.width > 0 && view.width < map.width).toBe(true);
      }
      const init = await page.locator('#diagram [data-state="init"]').boundingBox();
      const box = await page.locator('#diagram').boundingBox();
      if (!init || !box) throw new Error('no init or diagram box');
      const inside = (a: typeof init, b: { x: number; y: number; width: number; height: number }) =>
        a.width > 0 && a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
      expect({ width, initInBox: inside(init, box), initOnScreen: inside(init, { x: 0, y: 0, width, height }) }).toEqual({ width, initInBox: true, initOnScreen: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      // Fit still shows the whole chart (every text inside the box), at the size that made the zoom necessary.
      await page.click('[data-testid="zoom-fit"]');
      expect(await page.getAttribute('#diagram', 'data-fit')).toBe('true');
      expect(await textsOutsideDiagram(page, '#diagram svg text')).toEqual([]);
      const fitted = await minDiagramTextPx(page);
      expect(fitted).toBeLessThan(11);
      measured.push(`${width}x${height} ${px.toFixed(1)} px (fit view ${fitted.toFixed(1)} px)`);
    }
    process.stdout.write(`visualizer: smallest diagram text in the initial view: ${measured.join(', ')}\n`);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("finds a line drawn through a label (the check the layout tests rely on), and not a line whose butt end stops short of one", async () => {
    await open(page, base());
    expect(await linesThroughLabels(page)).toEqual([]);
    // One edge's line redrawn near init's second text, in chart units: across it, then ending 2 units below it.
    const line = '#edge-init-Session_connectionCreated-0 path:not(.hit)';
    const place = (how: 'across' | 'below', cap: 'butt' | 'round') =>
      page.evaluate(
        ({ line, how, cap }) => {
          const text = Array.from(document.querySelectorAll<SVGTextElement>('#state-init text')).at(-1) as SVGTextElement;
          const b = text.getBBox();
          const p = document.querySelector(line) as SVGPathElement;
          const x = b.x + b.width / 2;
          p.setAttribute('d', how === 'across' ? `M${b.x - 20},${b.y + b.height / 2}L${b.x + b.width + 20},${b.y + b.height / 2}` : `M${x},${b.y + b.height + 2}L${x},${b.y + b.height + 60}`);
          p.style.strokeWidth = '11px';
          p.style.strokeLinecap = cap;
        },
        { line, how, cap },
      );
    const through = '"nobody connected" (state-init)';
    await place('across', 'butt');
    expect(await linesThroughLabels(page)).toEqual([`edge-init-Session_connectionCreated-0 through ${through}`]);
    await place('below', 'butt');
    expect(await linesThroughLabels(page)).toEqual([]);
    await place('below', 'round');
    expect(await linesThroughLabels(page)).toEqual([`edge-init-Session_connectionCreated-0 through ${through}`]);
  });

  it('has a skip link: the first Tab stop, shown when focused; Enter moves the focus past the diagram to the control after it', async () => {
    const skip = page.locator('[data-testid="skip-diagram"]');
    const active = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.id ?? null);
    for (const [width, height] of [
      [1280, 800],
      [320, 640],
    ]) {
      await page.setViewportSize({ width, height });
      await page.goto('about:blank'); // a fresh load (from the same URL, only the fragment would change, and the focus stay)
      await open(page, `${base()}#events=Session.connectionCreated`);
      const hidden = await skip.boundingBox();
      expect((hidden?.width ?? 0) * (hidden?.height ?? 0)).toBeLessThanOrEqual(1); // visually hidden until focused
      await page.keyboard.press('Tab');
      expect(await active()).toBe('skip-diagram');
      const r = await skip.boundingBox();
      if (!r) throw new Error('the focused skip link has no box');
      expect({ width, x: r.x >= 0, y: r.y >= 0, right: r.x + r.width <= width, bottom: r.y + r.height <= height, tall: r.height >= 24 }).toEqual({
        width,
        x: true,
        y: true,
        right: true,
        bottom: true,
        tall: true,
      });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    // The right element: the one Tab reaches from the diagram's last stop.
    await page.locator('#diagram [tabindex="0"]').last().focus();
    await page.keyboard.press('Tab');
    const after = await active();
    expect(after).toBe('step-first'); // the timeline, docked under the diagram
    // Without the link, that takes every stop before and in the diagram: its states and edges, and more.
    await skip.focus();
    let presses = 0;
    while ((await active()) !== after && presses < 100) {
      await page.keyboard.press('Tab');
      presses++;
    }
    expect(presses).toBeGreaterThanOrEqual(1 + 7 + diagramEdges().length);
    await skip.focus();
    await page.keyboard.press('Enter');
    expect(await active()).toBe(after);
    // It is a jump, not a navigation: the scenario in the URL fragment and on the page stays.
    expect(await page.evaluate(() => location.hash)).toBe('#events=Session.connectionCreated');
    expect((await shown(page)).state).toBe('waiting');
    await page.keyboard.press('Tab');
    expect(await active()).toBe('step-prev');
  });

  it('zooms by buttons, keys and ctrl + wheel, pans by dragging, and fits again', async () => {
    await open(page, base());
    const fit = await zoomOf(page);
    await page.click('[data-testid="zoom-in"]');
    expect(await zoomOf(page)).toBeCloseTo(fit * 1.25, 3);
    await page.click('[data-testid="zoom-out"]');
    await page.click('[data-testid="zoom-out"]');
    expect(await zoomOf(page)).toBeCloseTo(fit / 1.25, 3);
    await page.focus('#diagram svg');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    expect(await zoomOf(page)).toBeCloseTo(fit * 1.25, 3);
    await page.keyboard.press('-');
    expect(await zoomOf(page)).toBeCloseTo(fit, 3);
    await page.keyboard.press('0');
    expect(await zoomOf(page)).toBeCloseTo(fit, 3);
    const box = await page.locator('#diagram').boundingBox();
    if (!box) throw new Error('no diagram box');
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    // A plain wheel scrolls the page and leaves the zoom alone; ctrl + wheel (and a trackpad pinch, which arrives as one) zooms.
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, -100);
    expect(await zoomOf(page)).toBeCloseTo(fit, 3);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -100);
    await page.keyboard.up('Control');
    await page.waitForFunction((k) => Number(document.querySelector('#diagram')?.getAttribute('data-zoom')) > k * 1.1, fit);
    // One notch is one step, as + is: never more than 1.25x.
    expect(await zoomOf(page)).toBeLessThanOrEqual(fit * 1.25 + 1e-6);
    // Drag from an empty corner of the box: the chart moves on screen by the drag.
    const where = async () => {
      const b = await page.locator('#diagram [data-state="init"]').boundingBox();
      return [b?.x ?? NaN, b?.y ?? NaN];
    };
    const before = await where();
    await page.mouse.move(box.x + 6, box.y + box.height - 6);
    await page.mouse.down();
    await page.mouse.move(box.x + 106, box.y + box.height - 46, { steps: 5 });
    await page.mouse.up();
    const after = await where();
    expect(after[0] - before[0]).toBeCloseTo(100, 0);
    expect(after[1] - before[1]).toBeCloseTo(-40, 0);
    expect(await page.getAttribute('#diagram', 'data-fit')).toBe('false');
    // Arrow keys pan when the chart itself has focus.
    await page.focus('#diagram svg');
    await page.keyboard.press('ArrowLeft');
    expect((await where())[0] - after[0]).toBeCloseTo(60, 0);
    await page.click('[data-testid="zoom-fit"]');
    expect(await zoomOf(page)).toBeCloseTo(fit, 3);
    expect(await page.getAttribute('#diagram', 'data-fit')).toBe('true');
  });

  it('zooms with a two-finger pinch on a touch screen', async () => {
    const touch = await fx.browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
    try {
      const phone = await touch.newPage();
      await open(phone, base());
      const fit = await zoomOf(phone);
      const box = await phone.locator('#diagram').boundingBox();
      const cdp = await touch.newCDPSession(phone);
      await cdp.send('Input.synthesizePinchGesture', { x: (box?.x ?? 0) + 150, y: (box?.y ?? 0) + 150, scaleFactor: 2, gestureSourceType: 'touch', relativeSpeed: 2000 });
      expect(await zoomOf(phone)).toBeGreaterThan(fit * 1.5);
    } finally {
      await touch.close();
    }
  });

  it('tags every state and edge from the machine, focusable and named', async () => {
    await open(page, base());
    const edges = await page.$$eval('#diagram [data-edge]', (els) =>
      els.map((e) => ({
        id: e.id,
        from: e.getAttribute('data-from'),
        to: e.getAttribute('data-to'),
        event: e.getAttribute('data-event'),
        eventless: e.getAttribute('data-eventless'),
        tabindex: e.getAttribute('tabindex'),
        name: e.getAttribute('aria-label'),
      })),
    );
    // Every machine edge is drawn: on a line of its own, or as a member of the one line its group is drawn as.
    const groups = edgeGroups(diagramEdges());
    const grouped = new Set(groups.flatMap((g) => g.members.map((m) => m.id)));
    expect(edges.map(({ id, from, to, event, eventless }) => ({ id, from, to, event, eventless })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        ...diagramEdges()
          .filter((e) => !grouped.has(e.id))
          .map((e) => ({ id: e.id, from: e.from, to: e.to, event: e.event ?? null, eventless: e.event === undefined ? 'true' : null })),
        ...groups.map((g) => ({ id: g.id, from: null, to: g.to, event: g.event, eventless: null })),
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await page.$$eval('#diagram [data-members]', (els) => els.flatMap((e) => (e.getAttribute('data-members') ?? '').split(' ')).sort())).toEqual([...grouped].sort());
    expect(groups.map((g) => g.members.map((m) => m.from).sort())).toEqual([['cleanup', 'receiving', 'sending', 'sendrecv', 'starting']]);
    expect(edges.every(({ tabindex, from, to, name }) => tabindex === '0' && (from ? (name ?? '').startsWith(`${from} to ${to}`) : (name ?? '').endsWith(`from any state in the call to ${to}`)))).toBe(true);
    expect(edges.find((e) => e.from === 'sending' && e.to === 'sendrecv')?.name).toBe('sending to sendrecv on Session.streamCreated');
    const states = await page.$$eval('#diagram [data-state]', (els) => els.map((e) => [e.getAttribute('tabindex'), e.getAttribute('aria-label')]));
    expect(states).toHaveLength(7);
    expect(states.every(([t, n]) => t === '0' && (n ?? '').startsWith('state '))).toBe(true);
  });

  it('highlights exactly the edges the model would take, on every step of the generated transition tour; clicking one takes it', async () => {
    await open(page, base());
    let edgeClicks = 0;
    for (const tc of generateTestCases()) {
      await page.click('[data-testid="reset"]');
      let snapshot = initialRoomSnapshot();
      for (const st of tc.steps) {
        if (!(ROOM_EVENTS as readonly string[]).includes(st.event)) continue; // unknown types have no button; rejected, they change nothing
        expect({ case: tc.id, available: await availableOnPage(page) }).toEqual({ case: tc.id, available: availableEdgeIds(snapshot) });
        const edge = page.locator(`#diagram [data-edge][data-available="true"][data-event="${st.event}"]`);
        if ((await edge.count()) > 0) {
          await edge.locator('text').first().click();
          edgeClicks++;
        } else await page.locator(`button[data-event="${st.event}"]`).click({ force: true });
        snapshot = stepRoom(snapshot, { type: st.event }).snapshot;
        const now = await shown(page);
        expect({ state: now.state, connections: now.connections, sendStreams: now.sendStreams, recvStreams: now.recvStreams }).toEqual({
          state: st.state,
          connections: st.connections,
          sendStreams: st.sendStreams,
          recvStreams: st.recvStreams,
        });
      }
      expect(await availableOnPage(page)).toEqual(availableEdgeIds(snapshot));
    }
    expect(edgeClicks).toBeGreaterThanOrEqual(diagramEdges().filter((e) => e.event !== undefined).length);
  });

  it('shows details by keyboard: a state, an available edge (Enter also sends it), an edge not available now', async () => {
    await open(page, `${base()}#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated`);
    await page.focus('#diagram svg');
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => document.activeElement?.getAttribute('data-state'));
    expect(first).toBe('init');
    await page.keyboard.press('Enter');
    const details = page.locator('[data-testid="details"]');
    await expect(details.textContent()).resolves.toContain('initial and terminal state');
    await expect(page.textContent('[data-testid="details-rejects"]')).resolves.toContain('rejects Session.connectionDestroyed when connectionsIsZero (counter-underflow)');

    // sending -> cleanup on the last sent stream: available now (sending, one sent stream).
    const edge = page.locator('#diagram [data-from="sending"][data-to="cleanup"]');
    await expect(edge.getAttribute('data-available')).resolves.toBe('true');
    await edge.focus();
    await page.keyboard.press('Enter');
    expect((await shown(page)).state).toBe('cleanup');
    const text = (await details.textContent()) ?? '';
    for (const part of ['Publisher.streamDestroyed', 'isLastSendStream', 'sendStreams is 1 before the event, 0 after: the last sent stream ends', 'sendStreams -1', 'cleanup', "drawn in the spec's diagram", 'taken by the last step (4)'])
      expect(text).toContain(part);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-to'))).toBe('cleanup'); // focus stays on the edge

    // An edge that cannot be taken now: details only, nothing sent.
    const other = page.locator('#diagram [data-from="starting"][data-to="receiving"][data-event]');
    await other.focus();
    await page.keyboard.press(' ');
    expect((await shown(page)).state).toBe('cleanup');
    await expect(details.textContent()).resolves.toContain('not available now: the current state is cleanup');
    await textIs(page, '[data-testid="announcer"]', 'starting to receiving on Session.streamCreated', true);
    // The call frame's one line lists each of its five edges; from cleanup with a peer left, its cleanup edge can be
    // taken, and Enter sends it.
    const exceptional = page.locator('#diagram [data-edge="group"]');
    await exceptional.focus();
    await page.keyboard.press('Enter');
    expect((await shown(page)).state).toBe('waiting');
    await expect(page.locator('[data-testid="details-members"] li').count()).resolves.toBe(5);
    await expect(details.textContent()).resolves.toContain('an exceptional transition the spec names');
    await expect(page.textContent('[data-testid="details-members"] [data-member="edge-cleanup-Session_connectionDestroyed-0"]')).resolves.toContain("drawn in the spec's diagram");

    // Hover and focus thicken an edge and embolden its label.
    const width = () => exceptional.locator('path:not(.hit)').evaluate((p) => parseFloat(getComputedStyle(p).strokeWidth));
    const focused = await width();
    await page.focus('#diagram svg');
    const plain = await width();
    expect(focused).toBeGreaterThan(plain);
    await exceptional.locator('text').first().hover();
    expect(await width()).toBeGreaterThan(plain);
    await expect(exceptional.locator('text').first().evaluate((t) => getComputedStyle(t).fontWeight)).resolves.toBe('700');
  });

  it('never scrolls sideways at 320, 390, 1280 and 1920 px; controls are 24 px tall or more; an empty log says so', async () => {
    for (const [width, height] of [
      [320, 640],
      [390, 844],
      [1280, 800],
      [1920, 1080],
    ]) {
      await page.setViewportSize({ width, height });
      await open(page, base());
      await expect(page.isVisible('[data-testid="log-empty"]')).resolves.toBe(true);
      // a long scenario and a loaded replay put every kind of control and log entry on the page
      await page.setInputFiles('[data-testid="replay-file"]', { name: 'r.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(WORKED_EXAMPLE.map((r) => ({ action: 'status', ...r })))) });
      await textIs(page, '[data-testid="mode"]', 'replay');
      await page.click('[data-testid="step-last"]');
      await expect(page.isVisible('[data-testid="log-empty"]')).resolves.toBe(false);
      const m = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth,
        small: Array.from(document.querySelectorAll<HTMLElement>('button, input, select'))
          .filter((e) => e.offsetParent !== null)
          .map((e) => [e.dataset.testid ?? e.dataset.event ?? e.id, e.getBoundingClientRect().height] as const)
          .filter(([, h]) => h < 24),
      }));
      expect({ width, ...m }).toEqual({ width, scrollWidth: m.innerWidth, innerWidth: m.innerWidth, small: [] });
      expect(m.scrollWidth).toBeLessThanOrEqual(width);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('follows the dark scheme, and keeps rejected buttons distinct in forced colours', async () => {
    const luminance = () =>
      page.evaluate(() => {
        const rgb = getComputedStyle(document.body).backgroundColor.match(/\d+/g)?.map(Number) ?? [0, 0, 0];
        return (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
      });
    const nodeFill = () => page.locator('#diagram [data-state="waiting"] path').evaluate((p) => getComputedStyle(p).fill);
    await page.emulateMedia({ colorScheme: 'light' });
    await open(page, base());
    expect(await luminance()).toBeGreaterThan(0.8);
    const lightFill = await nodeFill();
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await luminance()).toBeLessThan(0.2);
    expect(await nodeFill()).not.toBe(lightFill);
    await page.emulateMedia({ colorScheme: 'light', forcedColors: 'active' });
    const look = (sel: string) =>
      page.locator(sel).evaluate((b) => {
        const s = getComputedStyle(b);
        return `${s.borderTopStyle} ${s.textDecorationLine} ${s.color}`;
      });
    const rejected = await look('button[data-event="Session.streamDestroyed"]');
    const accepted = await look('button[data-event="Session.streamCreated"]');
    expect(rejected).not.toBe(accepted);
    expect(rejected).toContain('dashed');
    await page.emulateMedia({ colorScheme: 'light', forcedColors: 'none' });
  });

  it('has no axe-core violations on first view and after five events, light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await open(page, base());
      expect({ scheme, first: await axeViolations(page) }).toEqual({ scheme, first: [] });
      for (const row of WORKED_EXAMPLE.slice(0, 5)) await page.click(`button[data-event="${row.event}"]`);
      await page.locator('#diagram [data-state="sending"]').click();
      expect({ scheme, afterFive: await axeViolations(page) }).toEqual({ scheme, afterFive: [] });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('replays a file dropped on the page', async () => {
    await open(page, base());
    const reports = WORKED_EXAMPLE.map((r) => ({ action: 'status', ...r }));
    const transfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      return dt;
    }, JSON.stringify(reports));
    await page.dispatchEvent('main', 'dragover', { dataTransfer: transfer });
    await expect(page.getAttribute('body', 'data-dropping')).resolves.toBe('');
    await page.dispatchEvent('main', 'drop', { dataTransfer: transfer });
    await textIs(page, '[data-testid="mode"]', 'replay');
    expect(await page.getAttribute('body', 'data-dropping')).toBeNull();
    await page.click('[data-testid="step-last"]');
    await expect(page.textContent('[data-testid="step-position"]')).resolves.toBe('8 / 8');
    expect((await shown(page)).log.every((l) => l.mismatch.length === 0)).toBe(true);
  });
});

describe('the docked timeline', () => {
  let page: Page;
  const errors: string[] = [];
  beforeAll(async () => {
    page = await fx.browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(() => page.close());
  afterEach(() => expect(errors).toEqual([]));

  const chips = () =>
    page.$$eval('[data-testid="timeline"] button[data-step]', (bs) =>
      bs.map((b) => ({ step: Number(b.getAttribute('data-step')), current: b.getAttribute('aria-current') === 'step', mismatch: b.hasAttribute('data-mismatch') })),
    );
  /** The boxes of the diagram, the timeline and its step buttons: all inside the window (one screen, no scrolling). */
  const onOneScreen = () =>
    page.evaluate(() => {
      const out: string[] = [];
      for (const sel of ['#diagram', '[data-testid="timeline"]', '[data-testid="step-prev"]', '[data-testid="step-next"]', '[data-testid="timeline"] [aria-current="step"]']) {
        const r = (document.querySelector(sel) as HTMLElement).getBoundingClientRect();
        if (!(r.width > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth)) out.push(`${sel} at ${Math.round(r.top)}-${Math.round(r.bottom)} of ${innerHeight}`);
      }
      return out;
    });

  it('explore: every step a chip; stepping back keeps the later steps, a chip jumps, a new event drops them', async () => {
    const events = WORKED_EXAMPLE.slice(0, 4).map((r) => r.event);
    await open(page, `${fx.fileUrl()}#events=${events.join(',')}`);
    expect(await chips()).toEqual([0, 1, 2, 3, 4].map((step) => ({ step, current: step === 4, mismatch: false })));
    expect(await onOneScreen()).toEqual([]);
    await page.click('[data-testid="step-prev"]');
    await page.click('[data-testid="step-prev"]');
    expect(await page.textContent('[data-testid="step-position"]')).toBe('2 / 4');
    expect((await shown(page)).state).toBe(WORKED_EXAMPLE[1].state);
    expect((await chips()).map((c) => c.current)).toEqual([false, false, true, false, false]);
    await page.click('[data-testid="timeline"] button[data-step="4"]');
    expect((await shown(page)).state).toBe(WORKED_EXAMPLE[3].state);
    await page.click('[data-testid="step-first"]');
    expect((await shown(page)).state).toBe('init');
    expect(await page.isDisabled('[data-testid="step-prev"]')).toBe(true);
    await page.click('[data-testid="step-next"]');
    await page.click('button[data-event="Session.connectionDestroyed"]');
    expect(await page.textContent('[data-testid="step-position"]')).toBe('2 / 2');
    expect(await page.evaluate(() => location.hash)).toBe(`#events=${events[0]},Session.connectionDestroyed`);
  });

  it('replay: a long track fits one screen with its header on one line; mismatching steps are marked; play walks to the end', async () => {
    await open(page, fx.fileUrl());
    const steps = WORKED_EXAMPLE.map((r) => ({ ...r, accepted: true }));
    steps[3] = { ...steps[3], state: 'receiving' }; // wrong on purpose
    const vectors = [{ id: 'long-track', description: 'a track whose description is long enough to wrap a header to three lines at 1280 px '.repeat(3), steps }];
    await page.setInputFiles('[data-testid="replay-file"]', { name: 'v.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(vectors)) });
    await textIs(page, '[data-testid="mode"]', 'replay');
    expect((await chips()).filter((c) => c.mismatch).map((c) => c.step)).toEqual([4]); // marked before it is reached
    expect(await page.textContent('[data-testid="step-position"]')).toBe(`0 / ${steps.length}`);
    const header = await page.locator('header').boundingBox();
    expect(header?.height ?? 0).toBeLessThan(60);
    expect(await onOneScreen()).toEqual([]);
    await page.selectOption('[data-testid="play-speed"]', '4');
    await page.click('[data-testid="play"]');
    expect(await page.getAttribute('[data-testid="play"]', 'aria-pressed')).toBe('true');
    await textIs(page, '[data-testid="step-position"]', `${steps.length} / ${steps.length}`, false, 10_000);
    await page.waitForSelector('[data-testid="play"][aria-pressed="false"]');
    expect((await shown(page)).state).toBe('init');
    expect(await onOneScreen()).toEqual([]);
    // axe after the replay was played, light and dark.
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect({ scheme, replay: await axeViolations(page) }).toEqual({ scheme, replay: [] });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  });
});

it('takes the docs screenshots of Explore and Replay at 1280x800, 1920x1080 and 390x844; measures label gaps and line contrast', async () => {
  const figures: string[] = [];
  // The docs' screenshots are rewritten only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
  const shot = async (page: Page, name: string) => {
    const file = process.env.UPDATE_SCREENSHOTS ? join(ROOT, 'docs', name) : join(tmpdir(), `loop-room-${process.pid}-${name}`);
    await screenshot(page, file);
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
    if (!process.env.UPDATE_SCREENSHOTS) rmSync(file, { force: true });
  };
  const reports = WORKED_EXAMPLE.map((r) => ({ action: 'status', ...r }));
  reports[3] = { ...reports[3], state: 'receiving' }; // a step the model disagrees with, marked on the timeline
  for (const [width, height] of [
    [1280, 800],
    [1920, 1080],
    [390, 844],
  ]) {
    const size = `${width}x${height}`;
    const page = await fx.browser.newPage({ viewport: { width, height }, colorScheme: 'light' });
    try {
      // Explore, mid-call, details of the current state open.
      const events = WORKED_EXAMPLE.slice(0, 4).map((r) => r.event);
      await open(page, `${fx.fileUrl()}#events=${events.join(',')}`);
      expect((await shown(page)).state).toBe('sendrecv');
      await page.locator('#diagram [data-state="sendrecv"]').focus();
      await page.keyboard.press('Enter');
      await textIs(page, '[data-testid="details"]', 'sending and receiving: the session is set up', true);
      await page.locator('#diagram > svg[role="group"]').focus(); // no focus ring in the picture
      const gaps = await closeLabels(page, 4);
      if (width > 900) expect({ size, close: gaps.close }).toEqual({ size, close: [] });
      const c = await lineContrast(page);
      figures.push(`explore ${size}: least label gap ${gaps.least} px; available ${c.available}:1, taken ${c.taken}:1 against the background`);
      await shot(page, width === 1280 ? 'visualizer.png' : `visualizer-explore-${size}.png`);
      // Replay of a file, stepped to the step the model disagrees with.
      await page.setInputFiles('[data-testid="replay-file"]', { name: 'reports.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(reports)) });
      await textIs(page, '[data-testid="mode"]', 'replay');
      await page.click('[data-testid="timeline"] button[data-step="4"]');
      await page.locator('#diagram > svg[role="group"]').focus();
      const replayGaps = await closeLabels(page, 4);
      if (width > 900) expect({ size, close: replayGaps.close }).toEqual({ size, close: [] });
      const r = await lineContrast(page);
      figures.push(`replay ${size}: least label gap ${replayGaps.least} px; taken ${r.taken}:1`);
      await shot(page, `visualizer-replay-${size}.png`);
    } finally {
      await page.close();
    }
  }
  process.stdout.write(`visualizer figures:\n  ${figures.join('\n  ')}\n`);
  expect(figures.every((f) => !/ (0|1|2)\.\d+:1/.test(f))).toBe(true); // every line colour at 3:1 or more
});
