// docs/client.md's Vue and Svelte recipes, as documented, against the real room server (SQLite, 127.0.0.1),
// in a room with the defaults (the owner away keeps a spot: one guest at clientMaxSize 2).
// Vue: a scope ended and another begun at once in the same room (a remount, a hot reload) joins after the
// leave. Svelte (compiled by svelte/compiler, in real Chromium): an event sent before any subscriber is
// reported, and get(store) is not a join and a leave.
import { build, type Plugin } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createRoom, registerHawkSession, type HawkSession } from '../../src/index';
import { listenRoomServer, type ListeningRoomServer } from '../../src/server/server';
import { MANGLED } from '../support/mangle';
import { freshSqlite, type FreshStore } from '../support/stores';
import { hawkGet } from '../server/helpers';
import { launchChromium, ROOT } from '../support/visualizerPage';

const DOCS = readFileSync(join(ROOT, 'docs/client.md'), 'utf8');
/** The first ```lang block after `heading` in docs/client.md. */
function block(heading: string, lang: string): string {
  const m = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'm').exec(DOCS.slice(DOCS.indexOf(heading)));
  return m![1];
}
const sources: Plugin = {
  name: 'loop-room-state-from-sources',
  setup(b) {
    b.onResolve({ filter: /^loop-room-state$/ }, () => ({ path: join(ROOT, 'src/index.ts') }));
  },
};

let server: ListeningRoomServer;
let fresh: FreshStore;
let owner: HawkSession;
beforeAll(async () => {
  fresh = await freshSqlite();
  server = await listenRoomServer({ store: fresh.store, fallback: (req, res) => page(req.url ?? '', res) });
  owner = await registerHawkSession(server.serverUrl);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await fresh?.cleanup();
});
const newRoom = async () => (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'Recipe', roomOwner: 'Alice' })).roomToken;
const participants = async (roomToken: string) => (await hawkGet(`${server.serverUrl}/rooms/${roomToken}`, owner.credentials)).json().participants as unknown[];
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 10_000; !(await done()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  expect(await done()).toBe(true);
}

describe('Vue', () => {
  type Recipe = {
    effectScope: () => { run<T>(fn: () => T): T | undefined; stop(): void };
    useRoomSession: (options: object) => { send?: (event: string) => void; snapshot: { value: { value: string; context: { connections: number } } } };
  };
  let vue: Recipe;
  beforeAll(async () => {
    const out = await build({
      ...MANGLED,
      stdin: { contents: `${block('## Vue', 'ts')}\nexport { effectScope } from 'vue';\n`, loader: 'ts', resolveDir: ROOT, sourcefile: 'vue-recipe.ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
      plugins: [sources],
    });
    const dir = mkdtempSync(join(tmpdir(), 'vue-recipe-'));
    try {
      writeFileSync(join(dir, 'recipe.cjs'), out.outputFiles[0].text);
      vue = require(join(dir, 'recipe.cjs')) as Recipe;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a scope ended and one begun at once in the same room: the new join waits for the leave, and is not refused', async () => {
    const roomToken = await newRoom();
    const log: string[] = [];
    // Records each request's action and answer; holds the leave's answer 300 ms, as a slow network would.
    const fetch = async (url: string, init: RequestInit) => {
      const action = (JSON.parse(String(init.body ?? '{}')) as { action?: string }).action;
      log.push(`${action}`);
      const res = await globalThis.fetch(url, init);
      if (action === 'leave') await new Promise((r) => setTimeout(r, 300));
      log.push(`${action} ${res.status}`);
      return res;
    };
    const options = { roomToken, serverUrl: server.serverUrl, join: { displayName: 'Ann' }, fetch };
    const first = vue.effectScope();
    first.run(() => vue.useRoomSession(options));
    await until(() => log.includes('join 200'));
    first.stop();
    const second = vue.effectScope();
    const room = second.run(() => vue.useRoomSession(options))!;
    room.send?.('Session.connectionCreated'); // before the session exists: it waits for it
    await until(() => log.filter((l) => l.startsWith('join ')).length === 2);
    expect(log.slice(0, 5)).toEqual(['join', 'join 200', 'leave', 'leave 204', 'join']);
    expect(log.filter((l) => l.startsWith('join '))).toEqual(['join 200', 'join 200']);
    await until(() => log.includes('status 204'));
    expect(room.snapshot.value.context.connections).toBe(1);
    expect(await participants(roomToken)).toHaveLength(1);
    second.stop();
    await until(async () => (await participants(roomToken)).length === 0);
  });
});

let browser: Browser | undefined;
let svelteApp = '';
function page(url: string, res: import('node:http').ServerResponse) {
  const path = url.split('?')[0];
  if (path === '/favicon.ico') return res.writeHead(204).end();
  if (path === '/app.js') return res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(svelteApp);
  if (path === '/') return res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>svelte</title><div id="app"></div><script type="module" src="/app.js"></script>');
  res.writeHead(404).end();
}

describe('Svelte', () => {
  // The docs' store module and a component that uses it as the trial did: send() and get() before `$room`.
  const component = `<script lang="ts">
  import { get } from 'svelte/store';
  import { roomSession } from './roomSession';
  let { roomToken, serverUrl }: { roomToken: string; serverUrl: string } = $props();
  // svelte-ignore state_referenced_locally
  const room = roomSession({ roomToken, serverUrl, join: { displayName: 'Sam' } });
  room.send('Session.connectionCreated');
  (window as unknown as { first: unknown }).first = get(room).value;
</script>

<p id="state">{$room.value}: {$room.context.connections}</p>`;
  const files: Record<string, string> = { 'Call.svelte': component };
  let compiled: typeof import('svelte/compiler');

  beforeAll(async () => {
    compiled = await import('svelte/compiler');
    const svelte: Plugin = {
      name: 'svelte',
      setup(b) {
        b.onResolve({ filter: /^\.\/Call\.svelte$|^\.\/roomSession$/ }, (a) => ({ path: a.path.slice(2), namespace: 'recipe' }));
        b.onLoad({ filter: /.*/, namespace: 'recipe' }, (a) =>
          a.path === 'roomSession'
            ? { contents: block('## Svelte', 'ts'), loader: 'ts', resolveDir: ROOT }
            : { contents: compiled.compile(files[a.path], { filename: a.path, generate: 'client' }).js.code, loader: 'js', resolveDir: ROOT },
        );
      },
    };
    const main = `import { mount } from 'svelte';
import Call from './Call.svelte';
const p = new URLSearchParams(location.search);
mount(Call, { target: document.getElementById('app'), props: { roomToken: p.get('room'), serverUrl: location.origin + '/v1' } });`;
    const out = await build({
      ...MANGLED,
      stdin: { contents: main, loader: 'ts', resolveDir: ROOT, sourcefile: 'main.ts' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      conditions: ['browser'],
      write: false,
      logLevel: 'silent',
      plugins: [svelte, sources],
    });
    svelteApp = out.outputFiles[0].text;
    browser = await launchChromium();
  }, 60_000);

  it("the docs' component compiles without a warning", () => {
    expect(compiled.compile(block('## Svelte', 'svelte'), { filename: 'Call.svelte', generate: 'client' }).warnings.map((w) => w.code)).toEqual([]);
  });

  it('an event sent before any subscriber is reported; get(store) is not a join and a leave', async () => {
    const roomToken = await newRoom();
    const p = await browser!.newPage();
    const actions: string[] = [];
    const errors: string[] = [];
    p.on('request', (r) => {
      if (r.method() === 'POST') actions.push(JSON.parse(r.postData() ?? '{}').action);
    });
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${server.origin}/?room=${roomToken}`);
    await p.waitForSelector('#state');
    await until(() => actions.includes('status'));
    expect(await p.textContent('#state')).toBe('waiting: 1');
    await new Promise((r) => setTimeout(r, 300));
    expect(actions).toEqual(['join', 'status']);
    expect(errors).toEqual([]);
    expect(await participants(roomToken)).toHaveLength(1);
    await p.close();
  }, 30_000);
});
