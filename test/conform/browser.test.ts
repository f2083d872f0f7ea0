// The browser recipe of docs/conformance.md, run as written: its playwright adapter drives a page whose
// client is this package's createRoomSession, bundled for the browser, and the page reports to the kit's
// server from another origin (CORS).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { MANGLED } from '../support/mangle';
import { runConformance } from '../../src/conform/runner';
import { CHROMIUM, ROOT } from '../support/visualizerPage';

// Inside the package, so the recipe's `import 'playwright-core'` resolves as it would in a user's project.
const dir = join(ROOT, 'node_modules', '.conform-browser-test');
let server: Server;

const PAGE_CLIENT = `
import { createRoomSession } from ${JSON.stringify(join(ROOT, 'src/index.ts'))};
let s;
window.roomClient = {
  start(serverUrl, roomToken, auth) { s?.stop(); s = createRoomSession({ serverUrl, roomToken, auth }); },
  send(event) { s.send(event); },
  get state() { return s.getSnapshot().value; },
  get counters() { const { connections, sendStreams, recvStreams } = s.getSnapshot().context; return { connections, sendStreams, recvStreams }; },
  async leave() { await s.leave(); },
  stop() { s?.stop(); },
};`;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'client.js'), PAGE_CLIENT);
  const bundle = buildSync({ ...MANGLED, entryPoints: [join(dir, 'client.js')], bundle: true, format: 'iife', platform: 'browser', write: false, logLevel: 'warning' }).outputFiles[0].text;
  const html = `<!doctype html><meta charset="utf-8"><title>client under test</title><script>${bundle.replace(/<\/script/gi, '<\\/script')}</script>`;
  server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

it('the recipe adapter, as documented, runs a browser client through the kit: model and wire cases pass', async () => {
  const doc = readFileSync(join(ROOT, 'docs/conformance.md'), 'utf8');
  const recipe = /### A browser client[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)![1];
  const pageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client-under-test.html`;
  expect(recipe).toContain("'http://127.0.0.1:8080/client-under-test.html'");
  expect(recipe).toContain("executablePath: '/usr/bin/chromium'");
  const adapter = join(dir, 'conform-browser-adapter.mjs');
  writeFileSync(adapter, recipe.replace('http://127.0.0.1:8080/client-under-test.html', pageUrl).replace("'/usr/bin/chromium'", JSON.stringify(CHROMIUM)));
  const cases = ['model:init|Session.connectionCreated|0', 'model:sendrecv|Session.connectionCreated|0', 'model:unknown:Session.StreamDestroyed', 'wire:basic:auth', 'wire:basic:dropped-connection', 'wire:basic:401-stop', 'wire:hawk:auth'];
  const result = await runConformance({ adapter: `"${process.execPath}" "${adapter}"`, cases, jobs: 1, quietMs: 400 });
  expect(result.adapter.name).toBe('my browser client');
  expect(result.cases.filter((c) => c.status === 'failed').map((c) => `${c.id}: ${JSON.stringify(c.divergence)}`)).toEqual([]);
  expect(result.cases.find((c) => c.id === 'wire:hawk:auth')!.status).toBe('skipped');
  // The page's requests crossed origins: each carried an Origin header.
  expect(result.cases.find((c) => c.id === 'wire:basic:auth')!.requests[0].headers.Origin ?? result.cases.find((c) => c.id === 'wire:basic:auth')!.requests[0].headers.origin).toMatch(/^http:\/\/127\.0\.0\.1:/);
});
