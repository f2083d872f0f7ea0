// docs/client.md's import map, as documented: the built ES module (dist/index.mjs) in real Chromium without a
// bundler, served statically from 127.0.0.1 as an app's node_modules would be, registers, creates a room with
// Hawk (loading @noble/hashes through the map), joins and reports once to the real room server.
// Needs `npm run build` first (dist/).
import { existsSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import type { Browser } from 'playwright-core';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { freshSqlite, type FreshStore } from '../support/stores';
import { launchChromium, ROOT } from '../support/visualizerPage';

const DOCS = readFileSync(join(ROOT, 'docs/client.md'), 'utf8');
const importMap = /<script type="importmap">[\s\S]*?<\/script>/.exec(DOCS.slice(DOCS.indexOf('an import map')))![0];

// The page: the docs' map, then the app (as a plain module script, no bundler).
const page = (withMap: boolean) => `<!doctype html><meta charset="utf-8"><title>esm</title>${withMap ? importMap : ''}
<script type="module">
  import { createRoom, createRoomSession, registerHawkSession } from '/node_modules/loop-room-state/dist/index.mjs';
  const serverUrl = location.origin + '/v1';
  try {
    const { credentials } = await registerHawkSession(serverUrl);
    const { roomToken } = await createRoom({ serverUrl, credentials, roomName: 'ESM', roomOwner: 'Alice' });
    const room = createRoomSession({ roomToken, serverUrl, auth: { type: 'hawk', credentials }, join: { displayName: 'Alice' } });
    room.send('Session.connectionCreated');
    const flushed = await room.flush();
    const left = await room.leave();
    window.result = { joined: (await room.ready()).ok, flushed, left: left.ok };
  } catch (e) {
    window.result = { error: String(e) };
  }
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript' };
let server: ListeningRoomServer;
let fresh: FreshStore;
let browser: Browser;
beforeAll(async () => {
  expect(existsSync(join(ROOT, 'dist/index.mjs'))).toBe(true);
  fresh = await freshSqlite();
  server = await listenRoomServer({
    store: fresh.store,
    fallback: (req, res) => {
      const path = decodeURIComponent((req.url ?? '').split('?')[0]);
      if (path === '/' || path === '/nomap') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(page(path === '/'));
      // This repository stands for node_modules/loop-room-state; its node_modules for the app's.
      const file = path.startsWith('/node_modules/loop-room-state/') ? join(ROOT, path.slice('/node_modules/loop-room-state/'.length)) : path.startsWith('/node_modules/') ? join(ROOT, path) : '';
      const ext = /\.m?js$/.exec(file)?.[0] ?? '';
      if (!file || normalize(file) !== file || !file.startsWith(ROOT) || !TYPES[ext] || !existsSync(file)) return res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': TYPES[ext] }).end(readFileSync(file));
    },
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fresh?.cleanup();
});

async function run(path: string): Promise<{ result: unknown; errors: string[] }> {
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(`${server.origin}${path}`);
  const read = () => p.evaluate(() => (window as unknown as { result?: unknown }).result);
  // The app's result, or the error that kept it from running.
  for (const deadline = Date.now() + 10_000; (await read()) === undefined && errors.length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25));
  const result = await read();
  await p.close();
  return { result, errors };
}

it("with the docs' import map, the built ES module registers, creates a room (Hawk), joins and reports once", async () => {
  const { result, errors } = await run('/');
  expect(errors).toEqual([]);
  expect(result).toEqual({ joined: true, flushed: { delivered: 1, dropped: 0 }, left: true });
});

it('without it, the bare "xstate" fails to resolve (what the map is for)', async () => {
  const { result, errors } = await run('/nomap');
  expect(result).toBeUndefined();
  expect(errors.join('\n')).toMatch(/Failed to resolve module specifier "xstate"/);
});
