// The client in a real browser (Debian's Chromium): src/index.ts bundled for the browser platform (so
// no Node-only module can be reachable from it), the worked example reported with Basic and with
// Hawk computed by the browser's WebCrypto, and verified by the hawk library on the server.
import { build } from 'esbuild';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startRoomServer, type RoomServer } from '../support/roomServer';
import { launchChromium, ROOT } from '../visualizer/browser';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';

let bundle: string;
let inputs: string[];
let browser: Browser;
let server: RoomServer;

beforeAll(async () => {
  const out = await build({ entryPoints: [join(ROOT, 'src/index.ts')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, metafile: true, logLevel: 'silent' });
  bundle = out.outputFiles[0].text;
  inputs = Object.keys(out.metafile.inputs);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(() => server?.close());

it('the browser bundle reaches no Node-only module', () => {
  expect(inputs.some((i) => i.includes('src/service/roomSession.ts'))).toBe(true);
  expect(inputs.filter((i) => /^node:|^(fs|net|http|https|crypto|buffer|events|stream)$/.test(i))).toEqual([]);
  expect(bundle).not.toMatch(/require\(["']node:|from ["']node:/);
});

it.each(['basic', 'hawk'] as const)('worked example from Chromium with %s auth', async (kind) => {
  const html = '<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "/lib.js"; window.lib = lib; document.body.dataset.ready = "1";</script><body></body>';
  server = await startRoomServer({ pages: { '/': { type: 'text/html', body: html }, '/lib.js': { type: 'text/javascript', body: bundle } } });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  const auth = kind === 'basic' ? { type: 'basic', sessionToken: server.sessionToken } : { type: 'hawk', credentials: server.hawk };
  const result = await page.evaluate(
    async ({ auth, roomToken, events }) => {
      const { createRoomSession } = (window as unknown as { lib: typeof import('../../src/index') }).lib;
      const session = createRoomSession({ roomToken, serverUrl: `${location.origin}/v1`, auth: auth as never, retry: { baseDelayMs: 5, maxDelayMs: 20 } });
      const reports: unknown[] = [];
      const errors: unknown[] = [];
      session.on('report', (r) => reports.push(r.body));
      session.on('error', (e) => errors.push(e));
      for (const type of events) session.send({ type } as never);
      await session.flush();
      const left = await session.leave();
      session.stop();
      return { reports, errors, left, secure: window.isSecureContext };
    },
    { auth, roomToken: server.roomToken, events: WORKED_EXAMPLE.map((r) => r.event) },
  );
  await page.close();
  const expected = WORKED_EXAMPLE.map(({ event, state, connections, sendStreams, recvStreams }) => ({ action: 'status', event, state, connections, sendStreams, recvStreams }));
  expect(result.secure).toBe(true);
  expect(result.errors).toEqual([]);
  expect(result.reports).toEqual(expected);
  expect(result.left).toMatchObject({ ok: true, status: 204 });
  const posts = server.received.filter((r) => r.method === 'POST'); // the browser also asks for /favicon.ico
  expect(posts.map((r) => r.body)).toEqual([...expected, { action: 'leave' }]);
  expect(posts.every((r) => r.auth === kind && r.headers['content-type'] === 'application/json; charset=utf-8')).toBe(true);
});
