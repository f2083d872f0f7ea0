// The visualizer in a real browser (Debian's Chromium, headless), against the page served by the visualizer
// server and against the single file opened from disk: same scenarios, same contract.
import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { createActor } from 'xstate';
import { ROOM_STATES } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { createVisualizerInspector, type SocketConstructor } from '../../src/visualizer/inspector';
import { startVisualizerServer, type VisualizerServer } from '../../src/visualizer/server';
import { diagramReady, usePageFixture, shown, textIs } from '../support/visualizerPage';

const fx = usePageFixture();

const reportOf = (r: (typeof WORKED_EXAMPLE)[number]) =>
  JSON.stringify({ action: 'status', event: r.event, state: r.state, connections: r.connections, sendStreams: r.sendStreams, recvStreams: r.recvStreams });

const TARGETS = fx.targets;

describe.each(TARGETS)('the page %s', (_name, base) => {
  let context: BrowserContext;
  let page: Page;
  let requests: string[] = [];

  const errors: string[] = [];
  // One context and page per target, reused: each test starts from a fresh load of the page (no fragment).
  beforeAll(async () => {
    context = await fx.browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.on('request', (r) => requests.push(r.url()));
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  });
  afterAll(() => context.close());
  beforeEach(async () => {
    await page.goto('about:blank');
    requests = [];
    await page.goto(base());
    await diagramReady(page);
  });
  afterEach(async () => {
    for (const other of context.pages()) if (other !== page) await other.close();
    expect(errors).toEqual([]);
  });

  it('draws all seven states from the machine, each tagged, `init` active, and fetches nothing', async () => {
    const states = await page.$$eval('svg [data-state]', (els) => els.map((e) => e.getAttribute('data-state')));
    expect(states.sort()).toEqual([...ROOM_STATES].sort());
    expect((await shown(page)).active).toEqual(['init']);
    // The eventless settling edges carry their guards; the exceptional edges are there.
    const edges = await page.$$eval('svg [data-edge]', (els) => els.map((e) => [e.getAttribute('data-edge'), e.getAttribute('data-guard'), e.querySelector('text')?.textContent]));
    expect(edges.filter(([k]) => k === 'settling').map(([, g, t]) => `${t} ${g}`).sort()).toEqual([
      'eventless hasRecvStreams',
      'eventless hasSendAndRecvStreams',
      'eventless hasSendStreams',
    ]);
    // The four exceptional "last peer leaves" edges (and cleanup's, from the spec's diagram) are one line from the call's frame.
    expect(edges.filter(([k]) => k === 'group').map(([, g, t]) => `${t} ${g}`)).toEqual(['Session. isLastPeerConnection']);
    expect(await page.getAttribute('#diagram [data-edge="group"]', 'data-members')).toMatch(/^(edge-\S+-Session_connectionDestroyed-0 ?){5}$/);
    // The table below the first screen is filled right after the first paint.
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="side-table"] tbody tr').length > 0);
    expect(await page.locator('[data-testid="side-table"] tr[data-kind="reject"]').count()).toBe(4);
    expect(requests).toEqual([page.url()]);
  });

  it("plays the spec's worked example: state, counters and the report body after each step", async () => {
    for (const [i, row] of WORKED_EXAMPLE.entries()) {
      await page.click(`button[data-event="${row.event}"]`);
      const now = await shown(page);
      expect({ state: now.state, connections: now.connections, sendStreams: now.sendStreams, recvStreams: now.recvStreams }).toEqual({
        state: row.state,
        connections: row.connections,
        sendStreams: row.sendStreams,
        recvStreams: row.recvStreams,
      });
      expect(now.active).toEqual([row.state]);
      expect(now.log.map((l) => l.report)).toEqual(WORKED_EXAMPLE.slice(0, i + 1).map(reportOf));
      await textIs(page, '[data-testid="announcer"]', `now ${row.state}`, true);
    }
    expect(requests).toEqual([page.url().split('#')[0]]);
  });

  it('marks the events the current state would reject, with the reason; clicking one changes nothing', async () => {
    expect((await shown(page)).rejected.sort()).toEqual(['Publisher.streamDestroyed', 'Session.connectionDestroyed', 'Session.streamDestroyed']);
    const button = page.locator('button[data-event="Session.streamDestroyed"]');
    await expect(button.getAttribute('title')).resolves.toBe(
      'Session.streamDestroyed would be rejected: no remote video or audio to stop (recvStreams is already 0: counter-underflow)',
    );
    const before = await shown(page);
    const url = page.url();
    // aria-disabled keeps it focusable and clickable (Playwright would wait for it to be enabled: force the real click).
    await button.click({ force: true });
    await button.focus();
    await page.keyboard.press('Enter');
    expect(await shown(page)).toEqual(before);
    expect(page.url()).toBe(url);
    await textIs(page, '[data-testid="announcer"]', 'would be rejected: no remote video or audio to stop', true);
    // After a connection and a received stream, the destroyed stream is accepted and the others still count or reject.
    await page.click('button[data-event="Session.connectionCreated"]');
    await page.click('button[data-event="Session.streamCreated"]');
    expect((await shown(page)).rejected.sort()).toEqual(['Publisher.streamDestroyed']);
  });

  it('keeps the sequence in the URL fragment: a shared link restores the scenario, rejected steps included', async () => {
    for (const e of ['Session.connectionCreated', 'Publisher.streamCreated', 'Session.connectionCreated']) await page.click(`button[data-event="${e}"]`);
    const link = page.url();
    expect(new URL(link).hash).toBe('#events=Session.connectionCreated,Publisher.streamCreated,Session.connectionCreated');
    const other = await context.newPage();
    await other.goto(link);
    await diagramReady(other);
    expect(await shown(other)).toEqual(await shown(page));
    expect((await shown(other)).state).toBe('sending');
    // A hand-edited link: a rejected and an unknown event are shown as rejected steps, not dropped.
    await other.goto(`${link.split('#')[0]}#events=Session.streamDestroyed,Bogus,Session.connectionCreated`);
    await other.waitForFunction(() => document.querySelectorAll('[data-testid="log-entry"]').length === 3);
    const restored = await shown(other);
    expect(restored.log.map((l) => l.accepted)).toEqual([false, false, true]);
    expect(restored.state).toBe('waiting');
    // Editing the fragment of an open page (hashchange) restores that scenario too.
    await other.evaluate(() => (location.hash = '#events=Session.connectionCreated,Session.streamCreated,Session.connectionCreated'));
    await textIs(other, '[data-testid="current-state"]', 'receiving');
    expect(await shown(other)).toMatchObject({ connections: 2, recvStreams: 1, active: ['receiving'] });
  });

  it('undoes and resets, and is operable from the keyboard', async () => {
    await page.focus('button[data-event="Session.connectionCreated"]');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Space'); // focus stays on the same event button across re-renders
    expect((await shown(page)).state).toBe('starting');
    await page.click('[data-testid="undo"]');
    expect(await shown(page)).toMatchObject({ state: 'waiting', connections: 1 });
    expect((await shown(page)).log).toHaveLength(1);
    await page.keyboard.press('Tab'); // from Undo to Reset
    await page.keyboard.press('Enter');
    expect(await shown(page)).toMatchObject({ state: 'init', connections: 0, log: [] });
    expect(new URL(page.url()).hash).toBe('');
    await textIs(page, '[data-testid="announcer"]', 'Reset: init', true);
  });

  it('replays a file of status reports and a test-vector file, flagging where the file disagrees with the model', async () => {
    const reports = WORKED_EXAMPLE.map((r) => JSON.parse(reportOf(r)));
    reports[3] = { ...reports[3], state: 'receiving' }; // wrong on purpose
    await page.setInputFiles('[data-testid="replay-file"]', { name: 'reports.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(reports)) });
    await textIs(page, '[data-testid="mode"]', 'replay'); // the file is read asynchronously
    for (let i = 0; i < 4; i++) await page.click('[data-testid="step-next"]');
    const at4 = await shown(page);
    expect(at4.state).toBe('sendrecv'); // the model decides; the file's claim is flagged
    expect(at4.log[3].mismatch).toEqual(['Disagrees with the model: source says state receiving, model says sendrecv']);
    expect(at4.log.slice(0, 3).every((l) => l.mismatch.length === 0)).toBe(true);
    await expect(page.textContent('[data-testid="step-position"]')).resolves.toBe('4 / 8');
    await page.click('[data-testid="step-last"]');
    expect((await shown(page)).state).toBe('init');

    const vectors = [
      { id: 'tour-1', description: 'a rejected decrement', steps: [{ event: 'Publisher.streamDestroyed', accepted: false, state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }] },
      { id: 'tour-2', description: 'two joins', steps: [{ event: 'Session.connectionCreated', accepted: true, state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 }, { event: 'Session.connectionCreated', accepted: true, state: 'starting', connections: 2, sendStreams: 0, recvStreams: 0 }] },
    ];
    await page.setInputFiles('[data-testid="replay-file"]', { name: 'vectors.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(vectors)) });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="replay-track"] option').length === 2);
    await page.selectOption('[data-testid="replay-track"]', '1');
    await page.click('[data-testid="step-last"]');
    expect(await shown(page)).toMatchObject({ state: 'starting', connections: 2 });
    expect((await shown(page)).log.every((l) => l.mismatch.length === 0)).toBe(true);
    // An event button forks into explore mode from what is shown.
    await page.click('button[data-event="Publisher.streamCreated"]');
    expect(await shown(page)).toMatchObject({ state: 'sending', sendStreams: 1 });
    await expect(page.textContent('[data-testid="mode"]')).resolves.toBe('explore');

    await page.setInputFiles('[data-testid="replay-file"]', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('[{"action":"status"}]') });
    await textIs(page, '[data-testid="replay-error"]', 'bad.json was not loaded: it is not a list of status reports or test vectors; the page still shows Explore. (bad.json: report 1: "event" must be an event type string)');
    expect((await shown(page)).state).toBe('sending'); // a bad file changes nothing else
  });

  it('exports the diagram as SVG and PNG', async () => {
    await page.click('button[data-event="Session.connectionCreated"]');
    const [svg] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-svg"]')]);
    expect(svg.suggestedFilename()).toBe('room-session-waiting.svg');
    const svgText = readFileSync(await svg.path(), 'utf8');
    expect(svgText).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svgText).toMatch(/<g[^>]*data-state="waiting"[^>]*data-active="true"/);
    expect(svgText).toMatch(/viewBox="0 -[\d.]+ [\d.]+ [\d.]+"/); // the chart, and its header above it
    expect(svgText).not.toContain('tabindex');
    expect(svgText).not.toContain('class="hit"');
    // The header says what it is: title, scenario, legend; the colours are the page's scheme.
    for (const part of ['roomSessionMachine · explore · now waiting · light colours', 'Explore: Session.connectionCreated', 'can be taken now']) expect(svgText).toContain(part);
    await page.emulateMedia({ colorScheme: 'dark' });
    const [dark] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-svg"]')]);
    const darkText = readFileSync(await dark.path(), 'utf8');
    expect(darkText).toContain('dark colours');
    expect(darkText).toContain('fill="rgb(20, 24, 29)"'); // the dark page's background
    await page.emulateMedia({ colorScheme: 'light' });
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-png"]')]);
    expect(png.suggestedFilename()).toBe('room-session-waiting.png');
    const bytes = readFileSync(await png.path());
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBeGreaterThan(1000); // width at 2x
  });

  it('follows a live session driven from Node', async () => {
    if (!page.url().startsWith('http')) {
      // From disk the page's Origin is "null", which the relay refuses (any page could send it: server spec
      // section 7, issue 17): told where the server is, it cannot connect, and says so. The served page is the live view.
      await page.fill('[data-testid="live-url"]', fx.server.url);
      await page.click('[data-testid="live-connect"]');
      await page.waitForFunction(() => /a page opened from disk cannot follow live sessions/.test(document.querySelector('[data-testid="live-status"]')?.textContent ?? ''));
      expect(fx.server.connections()).toBe(0);
      return;
    }
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.textContent?.startsWith('connected'));
    const label = `desk-${Math.random().toString(36).slice(2, 8)}`;
    const inspector = createVisualizerInspector({ url: fx.server.url, label, WebSocket: WebSocket as unknown as SocketConstructor });
    const actor = createActor(roomSessionMachine, { inspect: inspector });
    actor.on('anomaly', () => {});
    actor.start();
    actor.send({ type: 'Session.connectionCreated' });
    const item = page.locator('[data-testid="live-sessions"] li', { hasText: label });
    await item.waitFor();
    await item.locator('button[data-follow]').click();
    await expect(page.textContent('[data-testid="mode"]')).resolves.toBe('live');
    await page.waitForFunction(() => document.querySelector('[data-testid="current-state"]')?.textContent === 'waiting');
    for (const e of WORKED_EXAMPLE.slice(1, 4)) actor.send({ type: e.event });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-entry"]').length === 4);
    const now = await shown(page);
    expect(now).toMatchObject({ state: 'sendrecv', connections: 2, sendStreams: 1, recvStreams: 1, active: ['sendrecv'] });
    expect(now.log.map((l) => l.report)).toEqual(WORKED_EXAMPLE.slice(0, 4).map(reportOf));
    actor.send({ type: 'Publisher.streamDestroyed' });
    actor.send({ type: 'Publisher.streamDestroyed' }); // rejected: shown as such
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-entry"]').length === 6);
    expect((await shown(page)).log.slice(4).map((l) => l.accepted)).toEqual([true, false]);
    // The followed session is on the timeline at its newest step; stepped back, it stays there as the session goes on.
    await textIs(page, '[data-testid="step-position"]', '6 / 6');
    expect(await page.getAttribute('[data-testid="timeline"] button[data-step="6"]', 'data-rejected')).toBe('true');
    await page.click('[data-testid="step-prev"]');
    await page.click('[data-testid="step-prev"]');
    await textIs(page, '[data-testid="step-position"]', '4 / 6');
    expect((await shown(page)).state).toBe('sendrecv');
    await page.click('[data-testid="step-last"]');
    await textIs(page, '[data-testid="step-position"]', '6 / 6');
    // A second session on the same inspector is listed too; following it switches the view.
    const other = createActor(roomSessionMachine, { inspect: inspector }).start();
    other.send({ type: 'Session.connectionCreated' });
    const items = page.locator('[data-testid="live-sessions"] li', { hasText: label });
    await expect(items.count()).resolves.toBeGreaterThanOrEqual(1);
    await page.waitForFunction((l) => Array.from(document.querySelectorAll('[data-testid="live-sessions"] li')).filter((li) => li.textContent?.includes(l)).length === 2, label);
    await items.nth(1).locator('button[data-follow]').click();
    await textIs(page, '[data-testid="current-state"]', 'waiting');
    expect((await shown(page)).log).toHaveLength(1);
    await items.nth(0).locator('button[data-follow]').click();
    await textIs(page, '[data-testid="current-state"]', 'receiving');
    expect((await shown(page)).log).toHaveLength(6);
    await expect(items.nth(0).getAttribute('data-following')).resolves.toBe('true');
    other.stop();
    actor.stop();
    await inspector.close();
    await item.first().filter({ hasText: 'ended' }).waitFor();
    // No HTTP request besides the page itself; the live data came over the WebSocket.
    expect(requests.every((u) => u.split('#')[0] === page.url().split('#')[0])).toBe(true);
  });
});

it('served with #live=<server>, connects by itself and keeps up with a burst of 2000 events', async () => {
  const page = await fx.browser.newPage();
  try {
    // Served, not from disk: the relay refuses a page opened from disk (Origin null; server spec section 7).
    await page.goto(`${fx.server.url}#live=${encodeURIComponent(fx.server.url)}`);
    await diagramReady(page);
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.textContent?.startsWith('connected'));
    const inspector = createVisualizerInspector({ url: fx.server.url, label: 'burst', WebSocket: WebSocket as unknown as SocketConstructor });
    const actor = createActor(roomSessionMachine, { inspect: inspector });
    actor.on('anomaly', () => {});
    actor.start();
    const item = page.locator('[data-testid="live-sessions"] li', { hasText: 'burst' });
    await item.locator('button[data-follow]').click();
    const cycle = ['Session.connectionCreated', 'Session.connectionCreated', 'Publisher.streamCreated', 'Session.streamCreated', 'Session.streamDestroyed', 'Publisher.streamDestroyed', 'Session.connectionDestroyed', 'Session.connectionDestroyed'] as const;
    for (let i = 0; i < 2000; i++) actor.send({ type: cycle[i % cycle.length] });
    await page.waitForFunction(() => document.querySelector('[data-testid="log-entry"]:last-child')?.getAttribute('data-step') === '2000');
    expect(await shown(page)).toMatchObject({ state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 });
    // The log keeps the newest 500 and says how many it does not show.
    await expect(page.textContent('[data-testid="log-truncated"]')).resolves.toBe('(1500 earlier steps not shown)');
    actor.stop();
    await inspector.close();
  } finally {
    await page.close();
  }
});

it('keeps following a session when the relay restarts on the same port: the page says it is reconnecting, the inspector resends', async () => {
  const first = await startVisualizerServer({ html: fx.html(), port: 0 });
  const port = first.port;
  const page = await fx.browser.newPage();
  const errors: string[] = [];
  const inspector = createVisualizerInspector({ url: first.url, label: 'restart', WebSocket: WebSocket as unknown as SocketConstructor, onError: (e) => errors.push(e.message), retry: { initialDelay: 50, maxDelay: 400 } });
  const actor = createActor(roomSessionMachine, { inspect: inspector });
  let second: VisualizerServer | undefined;
  try {
    await page.goto(first.url);
    await diagramReady(page);
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.textContent?.startsWith('connected'));
    actor.start();
    for (const e of WORKED_EXAMPLE.slice(0, 2)) actor.send({ type: e.event });
    const item = page.locator('[data-testid="live-sessions"] li', { hasText: 'restart' });
    await item.locator('button[data-follow]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-entry"]').length === 2);

    await first.close();
    await textIs(page, '[data-testid="live-status"]', 'reconnecting', true);
    // Events while the relay is down are kept and sent once it is back.
    actor.send({ type: WORKED_EXAMPLE[2].event });
    second = await startVisualizerServer({ html: fx.html(), port });
    await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]')?.textContent?.startsWith('connected'), undefined, { timeout: 15_000 });
    actor.send({ type: WORKED_EXAMPLE[3].event });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="log-entry"]').length === 4, undefined, { timeout: 15_000 });
    expect(await shown(page)).toMatchObject({ state: 'sendrecv', connections: 2, sendStreams: 1, recvStreams: 1, active: ['sendrecv'] });
    expect((await shown(page)).log.map((l) => l.report)).toEqual(WORKED_EXAMPLE.slice(0, 4).map(reportOf));
    expect(second.sessions()[0].steps).toHaveLength(4);
    expect(errors).toEqual([`visualizer inspector: connection lost (code 1006) (ws://127.0.0.1:${port}); reconnecting`]);
  } finally {
    actor.stop();
    await inspector.close();
    await page.close();
    await second?.close();
  }
});
