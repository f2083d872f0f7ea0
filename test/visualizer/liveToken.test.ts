// The live view under an admin token (spec section 7, issue 17): the relay refuses a watcher without the token,
// so the page takes the token beside the server address and offers it as a WebSocket subprotocol.
import WebSocket from 'ws';
import { startVisualizerServer, type VisualizerServer } from '../../src/visualizer/server';
import { usePageFixture } from '../support/visualizerPage';

const fx = usePageFixture();
const TOKEN = 'live-view-admin-token';
let relay: VisualizerServer;
let inspector: WebSocket;

beforeAll(async () => {
  relay = await startVisualizerServer({ html: fx.html(), port: 0, adminToken: TOKEN });
  inspector = new WebSocket(`ws://127.0.0.1:${relay.port}/inspect`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  await new Promise((r, j) => (inspector.once('open', r), inspector.once('error', j)));
  inspector.send(JSON.stringify({ type: 'start', session: 'guarded', label: 'a guarded call', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
  for (let i = 0; i < 100 && relay.sessions().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
}, 120_000);
afterAll(async () => {
  inspector?.close();
  await relay?.close();
});

// Waits through locators: a string predicate is polled with eval, which the served page's CSP refuses (a slow
// connection made it poll, and fail, once on a busy CI machine).
const statusIs = (page: import('playwright-core').Page, text: RegExp) => page.locator('[data-testid="live-status"]', { hasText: text }).waitFor();

it('without the token the page is refused; with it, it follows the relay', async () => {
  const page = await fx.browser.newPage();
  try {
    await page.goto(relay.url);
    // The served page connects by itself, without a token: refused at the handshake, and it names the token.
    await statusIs(page, /refused the live view \(if it has an admin token, enter it/);
    await page.fill('[data-testid="live-token"]', 'not-the-token');
    await page.click('[data-testid="live-connect"]');
    await statusIs(page, /^the server answers but refused the live view: reconnecting/);
    expect(await page.locator('[data-testid="live-sessions"] li').count()).toBe(0);
    await page.fill('[data-testid="live-token"]', TOKEN);
    await page.click('[data-testid="live-connect"]');
    await statusIs(page, /^connected/);
    await page.locator('[data-testid="live-sessions"] li', { hasText: 'a guarded call' }).waitFor();
  } finally {
    await page.close();
  }
});
