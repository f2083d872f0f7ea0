// The client in a real browser (Debian's Chromium): src/index.ts bundled for the browser platform (so
// no Node-only module can be reachable from it), the worked example reported with Basic and with
// Hawk computed in the browser, and verified by the hawk library on the server; and the leave sent when
// the page goes away (pagehide, keepalive fetch).
import { build } from 'esbuild';
import { MANGLED } from '../support/mangle';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startRoomServer, type RoomServer } from '../support/fakeLoopServer';
import { launchChromium, ROOT } from '../support/visualizerPage';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { walkRoom } from '../../src/model/step';

let bundle: string;
let inputs: string[];
let browser: Browser;
let server: RoomServer;

beforeAll(async () => {
  const out = await build({ ...MANGLED, entryPoints: [join(ROOT, 'src/index.ts')], bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, metafile: true, logLevel: 'silent' });
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

describe.each(['basic', 'hawk'] as const)('leaving when the page goes away, %s auth', (kind) => {
  it.each(['navigates away', 'is closed'] as const)('the tab %s mid-call: the room gets the leave', async (how) => {
    const html = '<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "/lib.js"; window.lib = lib; document.body.dataset.ready = "1";</script><body></body>';
    server = await startRoomServer({ pages: { '/': { type: 'text/html', body: html }, '/lib.js': { type: 'text/javascript', body: bundle }, '/next': { type: 'text/html', body: '<!doctype html><title>next</title>' } } });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector('body[data-ready]', { state: 'attached' });
    const auth = kind === 'basic' ? { type: 'basic', sessionToken: server.sessionToken } : { type: 'hawk', credentials: server.hawk };
    const errors = await page.evaluate(
      async ({ auth, roomToken, how }) => {
        const { createRoomSession } = (window as unknown as { lib: typeof import('../../src/index') }).lib;
        const options = { roomToken, serverUrl: `${location.origin}/v1`, auth: auth as never };
        // Both ways in: the option, and the method.
        const session = how === 'is closed' ? createRoomSession({ ...options, leaveOnPageHide: true }) : createRoomSession(options);
        if (how !== 'is closed') session.leaveOnPageHide();
        const errors: unknown[] = [];
        session.on('error', (e) => errors.push(e));
        session.send('Session.connectionCreated');
        session.send('Publisher.streamCreated');
        session.send('Session.connectionCreated');
        await session.flush();
        return errors;
      },
      { auth, roomToken: server.roomToken, how },
    );
    expect(errors).toEqual([]);
    if (how === 'is closed') await page.close({ runBeforeUnload: true });
    else await page.goto(`http://127.0.0.1:${server.port}/next`);
    await server.waitFor((s) => s.received.some((r) => (r.body as { action?: string })?.action === 'leave' && r.outcome === 204));
    const posts = server.received.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.body)).toEqual([...walkRoom(['Session.connectionCreated', 'Publisher.streamCreated', 'Session.connectionCreated']).map((s) => s.report), { action: 'leave' }]);
    expect(posts.every((r) => r.auth === kind && r.outcome === 204)).toBe(true);
    if (!page.isClosed()) await page.close();
  });
});

// An app bundled with code splitting, as a web client would be: the Hawk signer and its hashing are a
// chunk of their own, which a Basic page never loads and a Hawk session fetches when it is created.
describe('code-split app bundle', () => {
  let files: { name: string; text: string }[];
  let entryName: string;
  let startInputs: string[];
  let lazyInputs: string[];
  beforeAll(async () => {
    const out = await build({
      ...MANGLED,
      stdin: { contents: "export { createRoomSession } from './src/index';", resolveDir: ROOT, loader: 'ts', sourcefile: 'app.ts' },
      bundle: true,
      splitting: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      outdir: join(ROOT, 'split-bundle'),
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const outputs = Object.entries(out.metafile.outputs).filter(([name]) => name.endsWith('.js'));
    const entry = outputs.find(([, o]) => o.entryPoint)!;
    const atStart = new Set([entry[0]]);
    for (const name of atStart) for (const i of out.metafile.outputs[name].imports) if (i.kind === 'import-statement') atStart.add(i.path);
    startInputs = outputs.filter(([name]) => atStart.has(name)).flatMap(([, o]) => Object.keys(o.inputs));
    lazyInputs = outputs.filter(([name]) => !atStart.has(name)).flatMap(([, o]) => Object.keys(o.inputs));
    const base = (path: string) => path.split(/[\\/]/).pop()!;
    files = out.outputFiles.map((f) => ({ name: base(f.path), text: f.text }));
    entryName = base(entry[0]);
  });

  it('loads no hashing at start; the lazy chunk holds the signer and @noble/hashes', () => {
    expect(startInputs.some((i) => i.endsWith('src/service/roomSession.ts'))).toBe(true);
    expect(startInputs.filter((i) => /hawkSigner|@noble[\\/]hashes/.test(i))).toEqual([]);
    expect(lazyInputs.some((i) => i.endsWith('src/transport/hawkSigner.ts'))).toBe(true);
    expect(lazyInputs.some((i) => /@noble[\\/]hashes[\\/].*sha2/.test(i))).toBe(true);
  });

  it.each(['basic', 'hawk'] as const)('%s: reports verified by the server, chunk fetched only for Hawk, leave on pagehide', async (kind) => {
    const html = `<!doctype html><meta charset="utf-8"><script type="module">import * as lib from "/split/${entryName}"; window.lib = lib; document.body.dataset.ready = "1";</script><body></body>`;
    const pages: Record<string, { type: string; body: string }> = { '/': { type: 'text/html', body: html } };
    for (const f of files) pages[`/split/${f.name}`] = { type: 'text/javascript', body: f.text };
    server = await startRoomServer({ pages });
    const page = await browser.newPage();
    const scripts: string[] = [];
    page.on('request', (r) => void (r.url().includes('/split/') && scripts.push(r.url().split('/split/')[1])));
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await page.waitForSelector('body[data-ready]', { state: 'attached' });
    const auth = kind === 'basic' ? { type: 'basic', sessionToken: server.sessionToken } : { type: 'hawk', credentials: server.hawk };
    const errors = await page.evaluate(
      async ({ auth, roomToken }) => {
        const { createRoomSession } = (window as unknown as { lib: typeof import('../../src/index') }).lib;
        const session = createRoomSession({ roomToken, serverUrl: `${location.origin}/v1`, auth: auth as never, leaveOnPageHide: true });
        const errors: unknown[] = [];
        session.on('error', (e) => errors.push(e));
        session.send('Session.connectionCreated');
        await session.flush();
        return errors;
      },
      { auth, roomToken: server.roomToken },
    );
    expect(errors).toEqual([]);
    await page.close({ runBeforeUnload: true });
    await server.waitFor((s) => s.received.some((r) => (r.body as { action?: string })?.action === 'leave' && r.outcome === 204));
    const posts = server.received.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.body)).toEqual([...walkRoom(['Session.connectionCreated']).map((s) => s.report), { action: 'leave' }]);
    expect(posts.every((r) => r.auth === kind && r.outcome === 204)).toBe(true);
    expect(scripts.some((s) => s.startsWith('hawkSigner-'))).toBe(kind === 'hawk');
  });
});
