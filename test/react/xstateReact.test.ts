// docs/client.md's `@xstate/react` recipe, as documented, in real Chromium under StrictMode (React's
// development build) against the real room server (SQLite, 127.0.0.1) serving the page on its own origin;
// and `useActorRef(fromRoomSession({...}))` written inline, which must not re-render forever.
import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createRoom, registerHawkSession, type HawkSession } from '../../src/index';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { MANGLED } from '../support/mangle';
import { freshSqlite, type FreshStore } from '../support/stores';
import { hawkGet } from '../server/helpers';
import { launchChromium, ROOT } from '../support/visualizerPage';

const DOCS_URL = "'https://loop.example.com/v1'";

/** The ```tsx block of docs/client.md's "With `@xstate/react`" section, serverUrl made this page's server. */
function recipe(): string {
  const md = readFileSync(join(ROOT, 'docs/client.md'), 'utf8');
  const section = md.slice(md.indexOf('### With `@xstate/react`'));
  const code = /^```tsx\n([\s\S]*?)^```$/m.exec(section)![1];
  expect(code).toContain(DOCS_URL);
  return code.replaceAll(DOCS_URL, '`${location.origin}/v1`');
}

// The page: the recipe's Counters, or an inline useActorRef(fromRoomSession(...)), under StrictMode.
const harness = `
import { StrictMode, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { useActorRef as useActorRef2, useSelector as useSelector2 } from '@xstate/react';
import { fromRoomSession as fromRoomSession2 } from 'loop-room-state';

function Inline({ roomToken }: { roomToken: string }) {
  const room = useActorRef2(fromRoomSession2({ roomToken, serverUrl: location.origin + '/v1', join: { displayName: 'Inline' } }));
  const connections = useSelector2(room, (s) => s.context.connections);
  const reporting = useSelector2(room, (s) => s.reporting);
  return <button onClick={() => room.send({ type: 'Session.connectionCreated' })}>{reporting}: {connections}</button>;
}
const params = new URLSearchParams(location.search);
const roomToken = params.get('room') ?? '';
function App(): ReactNode {
  const [mounted, setMounted] = useState(true);
  const [token, setToken] = useState(roomToken);
  (window as unknown as { unmount: () => void }).unmount = () => setMounted(false);
  (window as unknown as { retoken: (t: string) => void }).retoken = setToken;
  if (!mounted) return <p id="unmounted">unmounted</p>;
  return params.has('inline') ? <Inline roomToken={token} /> : <Counters roomToken={token} />;
}
createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
`;

const sources: Plugin = {
  name: 'loop-room-state-from-sources',
  setup(b) {
    b.onResolve({ filter: /^loop-room-state$/ }, () => ({ path: join(ROOT, 'src/index.ts') }));
  },
};

let browser: Browser;
let server: ListeningRoomServer;
let fresh: FreshStore;
let owner: HawkSession;
let app: string;

beforeAll(async () => {
  const out = await build({
    ...MANGLED,
    stdin: { contents: `${recipe()}\n${harness}`, loader: 'tsx', resolveDir: join(ROOT, 'test/react'), sourcefile: 'recipe.tsx' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    jsx: 'automatic',
    write: false,
    logLevel: 'silent',
    plugins: [sources],
    // React's development build: StrictMode runs every effect twice on mount, and reports render loops.
    define: { 'process.env.NODE_ENV': '"development"' },
  });
  app = out.outputFiles[0].text;
  fresh = await freshSqlite();
  const html = '<!doctype html><meta charset="utf-8"><title>counters</title><div id="root"></div><script type="module" src="/app.js"></script>';
  server = await listenRoomServer({
    store: fresh.store,
    fallback: (req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/favicon.ico') return res.writeHead(204).end();
      if (path === '/app.js') return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(app);
      if (path === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
      res.writeHead(404).end();
    },
  });
  owner = await registerHawkSession(server.serverUrl);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fresh?.cleanup();
});

const participants = async (roomToken: string) => (await hawkGet(`${server.serverUrl}/rooms/${roomToken}`, owner.credentials)).json().participants as unknown[];
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function open(query: string): Promise<{ page: Page; roomToken: string; actions: string[]; errors: string[] }> {
  // The room's defaults and the recipe's (clientMaxSize 2): with the owner away, one guest spot.
  const { roomToken } = await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'Counters', roomOwner: 'Alice' });
  const page = await browser.newPage();
  const actions: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') actions.push(JSON.parse(r.postData() ?? '{}').action);
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.origin}/?room=${roomToken}${query}`);
  return { page, roomToken, actions, errors };
}

async function clickThreeAndUnmount({ page, roomToken, actions, errors }: Awaited<ReturnType<typeof open>>) {
  const button = page.locator('button');
  await page.waitForFunction(() => document.querySelector('button')?.textContent === 'active: 0', null, { timeout: 10_000 }).catch(() => {});
  // A render loop shows here: React's "Too many re-renders" / "Maximum update depth exceeded".
  expect(errors).toEqual([]);
  expect(await button.textContent()).toBe('active: 0');
  expect(await participants(roomToken)).toHaveLength(1);
  for (let i = 0; i < 3; i++) await button.click();
  expect(await button.textContent()).toBe('active: 3');
  await until(async () => actions.filter((a) => a === 'status').length, (n) => n === 3);
  await page.evaluate(() => (window as unknown as { unmount: () => void }).unmount());
  expect(await until(() => participants(roomToken), (p) => p.length === 0)).toEqual([]);
  await until(async () => actions.filter((a) => a === 'leave').length, (n) => n === 2);
  expect(errors).toEqual([]);
}

it("the docs' recipe under StrictMode: join, leave, then the second join (after the leave), reports, leaves on unmount", async () => {
  const opened = await open('');
  await clickThreeAndUnmount(opened);
  // StrictMode's stop and restart: the restarted actor's join waits for the first session's leave, or the
  // server (one guest spot while the owner is away) would find the room full.
  expect(opened.actions.filter((a) => a !== 'status')).toEqual(['join', 'leave', 'join', 'leave']);
  await opened.page.close();
}, 30_000);

it('useActorRef(fromRoomSession({...})) written in the component keeps its first actor (a later room is ignored): no render loop', async () => {
  const opened = await open('&inline');
  await opened.page.waitForFunction(() => document.querySelector('button')?.textContent === 'active: 0', null, { timeout: 10_000 }).catch(() => {});
  // Another room in a later render: ignored, the first render's actor stays (as with a machine).
  await opened.page.evaluate(() => (window as unknown as { retoken: (t: string) => void }).retoken('AnotherRoom'));
  await clickThreeAndUnmount(opened);
  expect(opened.actions.filter((a) => a === 'join')).toHaveLength(2);
  await opened.page.close();
}, 30_000);
