// A browser tells a CORS refusal as a bare "TypeError: Failed to fetch": the room helpers' RoomsNetworkError
// then says the browser may have refused it, naming the server flag and this page's origin. In real
// Chromium, a page on one 127.0.0.1 port calling the real room server, started without --cors-origin, on another.
import { build } from 'esbuild';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { registerHawkSession, RoomsNetworkError } from '../../src/index';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { MANGLED } from '../support/mangle';
import { freshSqlite, type FreshStore } from '../support/stores';
import { launchChromium, ROOT } from '../support/visualizerPage';

let server: ListeningRoomServer;
let fresh: FreshStore;
let pages: Server;
let pagesOrigin: string;
let browser: Browser;
beforeAll(async () => {
  const out = await build({
    ...MANGLED,
    stdin: {
      contents: `import { registerHawkSession, joinRoom } from './src/index';
const serverUrl = new URLSearchParams(location.search).get('server');
const tell = (e) => ({ name: e.name, message: e.message });
window.result = {
  registration: await registerHawkSession(serverUrl).then(() => 'ok', tell),
  join: await joinRoom({ serverUrl, roomToken: 'QzBbvGmIZWU', displayName: 'Bob' }).then(() => 'ok', tell),
};`,
      loader: 'ts',
      resolveDir: ROOT,
      sourcefile: 'cors.ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const app = out.outputFiles.map((f) => f.text).join('\n');
  fresh = await freshSqlite();
  server = await listenRoomServer({ store: fresh.store }); // no corsOrigins: other origins are refused
  pages = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/app.js') return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(app);
    if (path === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>cors</title><script type="module" src="/app.js"></script>');
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesOrigin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => pages?.close(r));
  await server?.close();
  await fresh?.cleanup();
});

it("in a page on another origin, a refused request's RoomsNetworkError says CORS, the flag and the page's origin", async () => {
  const page = await browser.newPage();
  await page.goto(`${pagesOrigin}/?server=${encodeURIComponent(server.serverUrl)}`);
  await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, null, { timeout: 10_000 });
  const result = (await page.evaluate(() => (window as unknown as { result: unknown }).result)) as Record<string, { name: string; message: string }>;
  const host = new URL(server.serverUrl).host;
  expect(result.registration).toEqual({
    name: 'RoomsNetworkError',
    message: `POST /v1/registration: no answer from ${host}: TypeError: Failed to fetch; the browser may have refused it (CORS): start the server with --cors-origin ${pagesOrigin} (this page's origin)`,
  });
  expect(result.join.message).toMatch(/^POST \/v1\/rooms\/:roomToken: no answer from .*; the browser may have refused it \(CORS\): start the server with --cors-origin http:\/\/127\.0\.0\.1:\d+ \(this page's origin\)$/);
  await page.close();
});

it('in Node (no page, no CORS): no such hint', async () => {
  const closed = await listenRoomServer({ store: fresh.store });
  const serverUrl = closed.serverUrl;
  await closed.close();
  const e = await registerHawkSession(serverUrl).catch((err: unknown) => err);
  expect(e).toBeInstanceOf(RoomsNetworkError);
  expect((e as Error).message).toMatch(/no answer from/);
  expect((e as Error).message).not.toMatch(/CORS/);
});
