// What a designer's trial of the page found, each checked in Debian's Chromium: the skip link on an empty scenario,
// timeline chips that name their event whole, a bad replay file said where the eye is, the result of a click brought
// into view (a state tapped on a phone, a live session followed), the live view naming the admin token, and a page
// opened from disk told plainly that it cannot follow live sessions.
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { createActor } from 'xstate';
import { roomSessionMachine } from '../../machines/roomSession';
import { createVisualizerInspector, type SocketConstructor } from '../../src/visualizer/inspector';
import { startVisualizerServer } from '../../src/visualizer/server';
import { axeViolations, diagramReady, usePageFixture } from '../support/visualizerPage';

const fx = usePageFixture();

async function open(browser: Browser, url: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await (await browser.newContext({ viewport, hasTouch: viewport.width < 600, isMobile: viewport.width < 600 })).newPage();
  await page.goto(url);
  await diagramReady(page);
  return page;
}
const close = (page: Page) => page.context().close();

/** Whether the element's box is (at least partly, its top) in the window, the page as scrolled now. */
const inView = (page: Page, selector: string) =>
  page.$eval(selector, (e) => {
    const r = e.getBoundingClientRect();
    return r.top >= 0 && r.top < innerHeight && r.height > 0;
  });

const focused = (page: Page) => page.evaluate(() => ({ id: document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.id ?? document.activeElement?.tagName, disabled: (document.activeElement as HTMLButtonElement | null)?.disabled === true, inTimeline: document.activeElement?.closest('[data-testid="timeline"]') !== null }));

describe.each(fx.targets)('the page %s', (_name, base) => {
  it('skip link: lands on First when it can take the focus, else on the first usable control after it (an empty scenario)', async () => {
    const page = await open(fx.browser, base());
    try {
      await page.keyboard.press('Tab');
      expect(await focused(page)).toMatchObject({ id: 'skip-diagram' });
      await page.keyboard.press('Enter');
      // At 0 / 0 every step button is disabled: the focus goes on, where Tab would, and never stays on the link.
      expect(await focused(page)).toEqual({ id: 'play-speed', disabled: false, inTimeline: true });
      expect(page.url()).toBe(base());
      await page.goto(`${base()}#events=Session.connectionCreated`);
      await page.reload();
      await diagramReady(page);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      expect(await focused(page)).toEqual({ id: 'step-first', disabled: false, inTimeline: true });
      expect(page.url()).toBe(`${base()}#events=Session.connectionCreated`);
    } finally {
      await close(page);
    }
  });

  it("timeline chips name the event's object: Publisher's and Session's streamCreated differ, to the eye and by name", async () => {
    const page = await open(fx.browser, `${base()}#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated,Session.streamCreated`);
    try {
      const names = await page.$$eval('[data-testid="timeline"] button[data-step]:not([data-step="0"])', (bs) => bs.map((b) => (b.textContent ?? '').replace(/\s+/g, ' ')));
      expect(names).toEqual(['1 Session.connectionCreated', '2 Publisher.streamCreated', '3 Session.connectionCreated', '4 Session.streamCreated']);
      expect(await page.getByRole('button', { name: '2 Publisher.streamCreated', exact: true }).count()).toBe(1);
      expect(await page.getByRole('button', { name: '4 Session.streamCreated', exact: true }).count()).toBe(1);
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await close(page);
    }
  });

  it('a bad replay file dropped on the chart says, in view under the mode, that it was not loaded; the parser\'s words come second', async () => {
    const page = await open(fx.browser, base());
    const drop = (name: string, text: string) =>
      page.evaluate(
        ([n, t]) => {
          const data = new DataTransfer();
          data.items.add(new File([t], n, { type: 'application/json' }));
          const target = document.querySelector('#diagram') as HTMLElement;
          for (const type of ['dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
        },
        [name, text],
      );
    try {
      await drop('garbage.json', 'not json');
      const error = page.locator('[data-testid="replay-error"]');
      await error.filter({ hasText: 'was not loaded' }).waitFor();
      expect(await error.textContent()).toMatch(/^garbage\.json was not loaded: it is not JSON; nothing was replayed\. \(garbage\.json: .+\)$/);
      expect(await inView(page, '[data-testid="replay-error"]')).toBe(true);
      // After a good file, a bad one: the header still says replay, and the error says what is still shown.
      await drop('good.json', JSON.stringify([{ action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 }]));
      await page.locator('[data-testid="mode"]', { hasText: 'replay' }).waitFor();
      expect(await error.textContent()).toBe('');
      await drop('bad.json', '[{"action":"status"}]');
      await error.filter({ hasText: 'bad.json was not loaded' }).waitFor();
      expect(await error.textContent()).toMatch(/^bad\.json was not loaded: it is not a list of status reports or test vectors; the page still shows Replay of .+\. \(bad\.json: report 1: "event" must be an event type string\)$/);
      expect(await inView(page, '[data-testid="replay-error"]')).toBe(true);
      expect(await axeViolations(page)).toEqual([]);
    } finally {
      await close(page);
    }
  });
});

it('on a phone, a tapped state brings its details into view', async () => {
  const page = await open(fx.browser, `${fx.server.url}#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated,Session.streamCreated`, { width: 390, height: 844 });
  try {
    expect(await inView(page, '[data-testid="details"]')).toBe(false);
    await page.tap('#diagram [data-state="sendrecv"]');
    await page.waitForSelector('[data-testid="details"][data-subject="sendrecv"]');
    expect(await inView(page, '[data-testid="details"]')).toBe(true);
  } finally {
    await close(page);
  }
});

it('Follow brings the followed session, on the chart and its timeline, into view', async () => {
  const page = await open(fx.browser, fx.server.url);
  const label = `trial-${Math.random().toString(36).slice(2, 8)}`;
  const inspector = createVisualizerInspector({ url: fx.server.url, label, WebSocket: WebSocket as unknown as SocketConstructor });
  const actor = createActor(roomSessionMachine, { inspect: inspector });
  try {
    actor.on('anomaly', () => {});
    actor.start();
    actor.send({ type: 'Session.connectionCreated' });
    const item = page.locator('[data-testid="live-sessions"] li', { hasText: label });
    await item.waitFor();
    await item.locator('button[data-follow]').click(); // Playwright scrolls the list into view first, as a user would
    await page.locator('[data-testid="mode"]', { hasText: 'live' }).waitFor();
    expect(await inView(page, '[data-testid="timeline"]')).toBe(true);
    expect(await inView(page, '#diagram')).toBe(true);
  } finally {
    actor.stop();
    await inspector.close();
    await close(page);
  }
});

it('live view under an admin token: names the token, not "cannot reach"; from disk, says it cannot follow and where the served page is', async () => {
  const relay = await startVisualizerServer({ html: fx.html(), port: 0, adminToken: 'trial-admin-token' });
  const page = await open(fx.browser, relay.url);
  try {
    const status = page.locator('[data-testid="live-status"]');
    await status.filter({ hasText: /admin token/ }).waitFor();
    expect(await status.textContent()).toMatch(/^the server answers but refused the live view \(if it has an admin token, enter it in Admin token and press Connect\): reconnecting/);
    const disk = await open(fx.browser, fx.fileUrl());
    try {
      await disk.fill('[data-testid="live-url"]', relay.url);
      await disk.click('[data-testid="live-connect"]');
      const said = disk.locator('[data-testid="live-status"]');
      await said.filter({ hasText: /from disk/ }).waitFor();
      expect(await said.textContent()).toBe(`a page opened from disk cannot follow live sessions (the server refuses its null Origin): open the page the server serves, ${relay.url.replace(/\/$/, '')}/`);
    } finally {
      await close(disk);
    }
  } finally {
    await close(page);
    await relay.close();
  }
});
