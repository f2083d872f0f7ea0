// Item 2 of issue 20: useRoomSession in real Chromium, under StrictMode (React's development build), against
// the real room server (SQLite, 127.0.0.1) serving the page on its own origin. One join per mount, every
// accepted event reported (and judged conformant), the leave on unmount and on page hide.
import { build } from 'esbuild';
import { MANGLED } from '../support/mangle';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createRoom, joinRoom, registerHawkSession, type HawkSession } from '../../src/index';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { freshSqlite, type FreshStore } from '../support/stores';
import { hawkGet, raw } from '../server/helpers';
import { launchChromium, ROOT } from '../support/visualizerPage';

const ADMIN = 'admin-token-for-react-tests';
let browser: Browser;
let server: ListeningRoomServer;
let fresh: FreshStore;
let owner: HawkSession;
let app: string;
let inputs: string[];

beforeAll(async () => {
  const out = await build({
    ...MANGLED,
    entryPoints: [join(ROOT, 'test/react/app.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // React's development build: StrictMode runs every effect twice on mount only there.
    define: { 'process.env.NODE_ENV': '"development"' },
  });
  app = out.outputFiles[0].text;
  inputs = Object.keys(out.metafile.inputs);
  fresh = await freshSqlite();
  const html = '<!doctype html><meta charset="utf-8"><title>call</title><div id="root"></div><script type="module" src="/app.js"></script>';
  server = await listenRoomServer({
    store: fresh.store,
    adminToken: ADMIN,
    fallback: (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/favicon.ico') return res.writeHead(204).end();
      if (path === '/app.js') return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(app);
      if (path === '/' || path === '/next') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(path === '/' ? html : '<!doctype html><title>next</title>');
      res.writeHead(404).end();
    },
  });
  owner = await registerHawkSession(server.serverUrl);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fresh?.cleanup();
});

const participants = async (roomToken: string) => (await hawkGet(`${server.serverUrl}/rooms/${roomToken}`, owner.credentials)).json().participants as unknown[];
const call = (page: Page) => page.locator('#call');
/** Polls `read` until `done` holds (10 s at most), and returns the last value read. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function openCall(query: string): Promise<{ page: Page; roomToken: string; actions: string[]; consoleErrors: string[] }> {
  // maxSize 2: a second join from a StrictMode replay would leave one participant too many behind, or be refused.
  const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'React', roomOwner: 'Alice', maxSize: 2 });
  const page = await browser.newPage();
  const actions: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') actions.push(JSON.parse(r.postData() ?? '{}').action);
  });
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${server.origin}/?room=${roomToken}${query}`);
  await page.waitForSelector('#call[data-status="joined"]', { state: 'attached' });
  return { page, roomToken, actions, consoleErrors };
}

it('the page bundle reaches no Node-only module (loop-room-state/react is browser-safe)', () => {
  expect(inputs.some((i) => i.includes('src/react/index.ts'))).toBe(true);
  expect(inputs.filter((i) => /^node:|^(fs|net|http|https|crypto|buffer|events|stream)$/.test(i))).toEqual([]);
  expect(app).not.toMatch(/require\(["']node:|from ["']node:/);
});

it('StrictMode: joins once per mount, reports every accepted event, leaves on unmount', async () => {
  const { page, roomToken, actions, consoleErrors } = await openCall('');
  expect(actions).toEqual(['join']);
  expect(await participants(roomToken)).toHaveLength(1);
  const roomConnectionId = await call(page).getAttribute('data-room');
  expect(roomConnectionId).toMatch(/\S/);

  for (const row of WORKED_EXAMPLE) {
    await page.evaluate((type) => (window as unknown as { send: (t: string) => void }).send(type), row.event);
    await page.waitForSelector(`#call[data-state="${row.state}"]`, { state: 'attached' });
  }
  // A rejected event (a stream destroyed that never was) moves nothing and sends nothing.
  await page.evaluate(() => (window as unknown as { send: (t: string) => void }).send('Session.streamDestroyed'));
  expect(JSON.parse((await call(page).getAttribute('data-counters'))!)).toEqual({ connections: 0, sendStreams: 0, recvStreams: 0 });

  const stored = async () => (await raw(`${server.serverUrl}/sessions/${roomConnectionId}/reports`, { headers: { Authorization: `Bearer ${ADMIN}` } })).json().reports as Array<{ report: { state: string }; verdict: string }>;
  const reports = await until(stored, (r) => r.length >= WORKED_EXAMPLE.length);
  expect(reports.map((r) => r.report.state)).toEqual(WORKED_EXAMPLE.map((r) => r.state));
  expect(reports.every((r) => r.verdict === 'conformant')).toBe(true);

  await page.evaluate(() => (window as unknown as { unmount: () => void }).unmount());
  expect(await until(() => participants(roomToken), (p) => p.length === 0)).toEqual([]);
  // The browser tells Playwright of each request on another channel than the request itself: wait for the leave's.
  await until(async () => actions.includes('leave'), Boolean);
  expect(actions.filter((a) => a === 'join')).toHaveLength(1);
  expect(actions.filter((a) => a === 'leave')).toHaveLength(1);
  expect(actions.filter((a) => a === 'status')).toHaveLength(WORKED_EXAMPLE.length);
  expect(consoleErrors).toEqual([]);
  await page.close();
});

it('leaveOnPageHide: navigating away leaves the room', async () => {
  const { page, roomToken, consoleErrors } = await openCall('&leaveOnPageHide');
  await page.evaluate(() => (window as unknown as { send: (t: string) => void }).send('Session.connectionCreated'));
  await page.waitForSelector('#call[data-state="waiting"]', { state: 'attached' });
  expect(await participants(roomToken)).toHaveLength(1);
  await page.goto(`${server.origin}/next`);
  expect(await until(() => participants(roomToken), (p) => p.length === 0)).toEqual([]);
  expect(consoleErrors).toEqual([]);
  await page.close();
});

it("a refused join: status 'error', with the server's reason", async () => {
  const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'Full', roomOwner: 'Alice', maxSize: 2 });
  await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'A' });
  await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'B' }).catch(() => {});
  const page = await browser.newPage();
  await page.goto(`${server.origin}/?room=${roomToken}`);
  await page.waitForSelector('#call[data-status="error"]', { state: 'attached' });
  expect(await call(page).getAttribute('data-error')).toMatch(/could not join the room: RoomsApiError: POST \/v1\/rooms\/:roomToken: HTTP 400 errno 202/);
  await page.close();
});
