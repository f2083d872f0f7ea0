// The whole flow from a real browser (Debian's Chromium) on another origin, through the server's CORS:
// register a Hawk session (HKDF in WebCrypto), create a room, join as desktop (Hawk) and standalone (none),
// report the worked example with Hawk and Basic, leave. Every report stored, every verdict conformant.
import { build } from 'esbuild';
import { MANGLED } from '../support/mangle';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, ROOT } from '../support/visualizerPage';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { freshSqlite } from '../support/stores';
import { startServer, type TestServer } from './helpers';

let browser: Browser;
let pages: Server;
let origin: string;
let server: TestServer;

beforeAll(async () => {
  const out = await build({ ...MANGLED, entryPoints: [join(ROOT, 'src/index.ts')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, logLevel: 'silent' });
  const lib = out.outputFiles[0].text;
  const html = '<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "/lib.js"; window.lib = lib; document.body.dataset.ready = "1";</script><body></body>';
  pages = createServer((req, res) => {
    const js = req.url === '/lib.js';
    res.writeHead(200, { 'Content-Type': js ? 'text/javascript' : 'text/html' });
    res.end(js ? lib : html);
  });
  await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  server = await startServer(freshSqlite, { corsOrigins: [origin] });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((r) => pages?.close(r));
});

it('a web page on another origin goes from nothing to reporting with the package alone', async () => {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  const result = await page.evaluate(
    async ({ serverUrl, events }) => {
      const { registerHawkSession, createRoom, joinRoom, createRoomSession } = (window as unknown as { lib: typeof import('../../src/index') }).lib;
      const { credentials } = await registerHawkSession(serverUrl);
      const { roomToken } = await createRoom({ serverUrl, credentials, roomName: 'browser', roomOwner: 'Alice', maxSize: 2 });
      const desktop = await joinRoom({ serverUrl, roomToken, displayName: 'Alice', auth: { type: 'hawk', credentials } });
      const web = await joinRoom({ serverUrl, roomToken, displayName: 'Bob' });
      const errors: unknown[] = [];
      for (const auth of [{ type: 'hawk' as const, credentials }, { type: 'basic' as const, sessionToken: web.sessionToken }]) {
        const session = createRoomSession({ roomToken, serverUrl, auth });
        session.on('error', (e) => errors.push(e));
        for (const type of events) session.send({ type } as never);
        await session.leave();
        session.stop();
      }
      return { ids: [desktop.roomConnectionId, web.roomConnectionId], errors };
    },
    { serverUrl: server.serverUrl, events: WORKED_EXAMPLE.map((r) => r.event) },
  );
  await page.close();
  expect(result.errors).toEqual([]);
  for (const id of result.ids) {
    const stored = await server.fresh.store.sessionReports(id);
    expect(stored.map((r) => [r.fields.event, r.verdict])).toEqual(WORKED_EXAMPLE.map((r) => [r.event, 'conformant']));
    expect((await server.fresh.store.getSession(id))?.endReason).toBe('left');
  }
});

it('a Hawk client on another origin whose clock is 10 minutes off corrects it from the Date header and reports', async () => {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  const result = await page.evaluate(async ({ serverUrl }) => {
    const { registerHawkSession, createRoom, joinRoom, createRoomSession } = (window as unknown as { lib: typeof import('../../src/index') }).lib;
    const { credentials } = await registerHawkSession(serverUrl);
    const { roomToken } = await createRoom({ serverUrl, credentials, roomName: 'skew', roomOwner: 'Alice', maxSize: 2 });
    const joined = await joinRoom({ serverUrl, roomToken, displayName: 'Alice', auth: { type: 'hawk', credentials } });
    const errors: unknown[] = [];
    const session = createRoomSession({ roomToken, serverUrl, auth: { type: 'hawk', credentials, localtimeOffsetMsec: -10 * 60_000 } });
    session.on('error', (e) => errors.push(e));
    session.send({ type: 'Session.connectionCreated' });
    const flushed = await session.flush();
    session.stop();
    return { id: joined.roomConnectionId, flushed, errors };
  }, { serverUrl: server.serverUrl });
  await page.close();
  // The stale-timestamp 401 is read cross-origin (Date exposed by CORS), the clock corrected, the report signed again.
  expect(result.errors).toEqual([]);
  expect(result.flushed).toEqual({ delivered: 1, dropped: 0 });
  expect((await server.fresh.store.sessionReports(result.id)).map((r) => r.fields.event)).toEqual(['Session.connectionCreated']);
});
