// Traffic mode with a very broken client, in Debian's Chromium against a real `serve`: a client that reports made-up
// events makes a non-conformance group of each; the panel lists the NC_SHOWN largest, all of them on request (by
// pointer or keyboard), keeps that choice while the figures update live, and stays axe-clean.
import { rmSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { basicAuthorization } from '../../src/transport/basic';
import { NC_SHOWN } from '../../src/visualizer/traffic';
import { axeViolations, buildInto, launchChromium, openTraffic } from '../support/visualizerPage';
import { startServe, useServedPage, type TrafficServer } from './support';

let dir: string;
let server: TrafficServer;
let browser: Browser;
let post: (event: string) => Promise<void>;

/** Groups made: NC_SHOWN + 5, the first five of them three times each. */
const GROUPS = NC_SHOWN + 5;
const TIMES = (k: number) => (k < 5 ? 3 : 1);

beforeAll(async () => {
  dir = buildInto();
  server = await startServe({ dir });
  browser = await launchChromium();
  const owner = await registerHawkSession(server.serverUrl);
  const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'broken', roomOwner: 'o', maxSize: 2 });
  const { sessionToken } = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'broken client' });
  post = async (event) => {
    const res = await fetch(`${server.serverUrl}/rooms/${roomToken}`, {
      method: 'POST',
      headers: { Authorization: basicAuthorization(sessionToken), 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'status', event, state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }),
    });
    if (res.status !== 204) throw new Error(`report ${event}: HTTP ${res.status} ${await res.text()}`);
  };
  for (let k = 0; k < GROUPS; k++) for (let i = 0; i < TIMES(k); i++) await post(`made-up-${k}`);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const served = useServedPage(() => browser, () => server);

const rows = (page: Page) =>
  page.$$eval('[data-testid="nonconformance"] tr[data-session]', (trs) => trs.map((tr) => ({ event: (tr.querySelectorAll('td')[1].textContent ?? '').split(', ')[1], count: Number(tr.getAttribute('data-count')) })));
const toggle = '[data-testid="nonconformance-more"]';

describe('traffic mode, a client that makes many non-conformance groups', () => {
  it(`lists the ${NC_SHOWN} largest groups, every one on request, and keeps that while the figures update`, async () => {
    const page = served.page();
    await openTraffic(page);
    await page.waitForSelector(toggle, { timeout: 15_000 });
    // The largest first: the five reported three times lead, the rest fill the table up to NC_SHOWN rows.
    const top = await rows(page);
    expect(top).toHaveLength(NC_SHOWN);
    expect(top.slice(0, 5).map((r) => r.count)).toEqual([3, 3, 3, 3, 3]);
    expect(new Set(top.slice(0, 5).map((r) => r.event))).toEqual(new Set([0, 1, 2, 3, 4].map((k) => `made-up-${k}`)));
    expect(await page.textContent(toggle)).toBe(`Show all ${GROUPS} groups (${GROUPS - NC_SHOWN} more)`);
    expect(await page.getAttribute(toggle, 'aria-expanded')).toBe('false');

    await page.click(toggle);
    const all = await rows(page);
    expect(all).toHaveLength(GROUPS);
    expect(all.reduce((n, r) => n + r.count, 0)).toBe(Array.from({ length: GROUPS }, (_, k) => TIMES(k)).reduce((a, b) => a + b, 0));
    expect(await page.getAttribute(toggle, 'aria-expanded')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('nonconformance-more');

    // A new group arrives through the stream: listed with the others, the table still shows them all.
    await post('made-up-late');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="nonconformance"] tr[data-session]').length === n, GROUPS + 1, { timeout: 15_000 });
    expect(await page.textContent(toggle)).toBe(`Show the ${NC_SHOWN} largest`);

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      expect({ scheme, violations: await axeViolations(page) }).toEqual({ scheme, violations: [] });
    }
    // By keyboard, back to the largest.
    await page.focus(toggle);
    await page.keyboard.press('Enter');
    expect(await rows(page)).toHaveLength(NC_SHOWN);
    expect(await page.getAttribute(toggle, 'aria-expanded')).toBe('false');
  });
});
