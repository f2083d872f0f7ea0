// Issue 17, the relay attack in a real browser (Chromium): a page of another site on this machine puts a script in a
// sandboxed iframe (its Origin is "null") that opens the relay's /watch to read the live sessions and /inspect to
// inject a fake one. Before the fix both worked; the page's own script (Origin: another local port) did too.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { startVisualizerServer, type VisualizerServer } from '../../src/visualizer/server';
import { launchChromium } from '../support/visualizerPage';

let browser: Browser;
let relay: VisualizerServer;
let attacker: Server;
let inspector: WebSocket;

/** The attack, run in a frame: reports what it could read and whether its injection got through. */
const attack = (relayPort: number) => `
  const report = (m) => (window.parent !== window ? parent : window).postMessage(m, '*');
  const watch = new WebSocket('ws://127.0.0.1:${relayPort}/watch');
  watch.onmessage = (e) => report({ kind: 'read', data: String(e.data) });
  watch.onclose = () => report({ kind: 'watch-closed' });
  const inject = new WebSocket('ws://127.0.0.1:${relayPort}/inspect');
  inject.onopen = () => {
    inject.send(JSON.stringify({ type: 'start', session: 'fake-' + (window.parent !== window ? 'iframe' : 'page'), label: 'injected', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
    report({ kind: 'injected' });
  };
  inject.onclose = () => report({ kind: 'inspect-closed' });
`;

beforeAll(async () => {
  relay = await startVisualizerServer({ html: '<!doctype html><title>relay</title>', port: 0 });
  inspector = new WebSocket(`ws://127.0.0.1:${relay.port}/inspect`);
  await new Promise((r) => inspector.once('open', r));
  inspector.send(JSON.stringify({ type: 'start', session: 'private-session', label: 'a real call', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
  for (let i = 0; i < 100 && relay.sessions().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(relay.sessions()).toHaveLength(1);
  attacker = createServer((req, res) => {
    const frame = `<script>${attack(relay.port)}</script>`.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
    const sandboxed = req.url === '/iframe';
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>attacker</title><script>window.events = []; addEventListener('message', (e) => window.events.push(e.data));</script>
      ${sandboxed ? `<iframe sandbox="allow-scripts" srcdoc="${frame}"></iframe>` : `<script>${attack(relay.port)}</script>`}`);
  });
  await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', () => r()));
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  inspector?.close();
  await relay?.close();
  await new Promise((r) => attacker?.close(r));
});

it.each(['iframe', 'page'])('a %s of another site can neither read the live sessions nor inject one', async (kind) => {
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/${kind}`);
    // Both sockets end (refused at the handshake); before the fix they stayed open and the dump arrived.
    await page.waitForFunction(() => {
      const kinds = (window as unknown as { events: Array<{ kind: string }> }).events.map((e) => e.kind);
      return kinds.includes('watch-closed') && kinds.includes('inspect-closed');
    }, undefined, { timeout: 15_000 });
    const events = await page.evaluate(() => (window as unknown as { events: Array<{ kind: string; data?: string }> }).events);
    expect(events.filter((e) => e.kind === 'read' || e.kind === 'injected')).toEqual([]);
    expect(relay.sessions().map((s) => s.session)).toEqual(['private-session']);
  } finally {
    await page.close();
  }
}, 60_000);
