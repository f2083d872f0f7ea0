// Issue 17, the live relay (/watch, /inspect), written as the attacks: no token asked even when the server has one,
// the watch side open to other machines, a dump of every live session as one string, no connection cap, a watcher
// that never reads, and an inspector-chosen session id written verbatim into the log.
import WebSocket from 'ws';
import { applyMessage, checkSessions, LIMITS, type InspectorMessage, type LiveSession } from '../../src/visualizer/protocol';
import { relayProtocols } from '../../src/visualizer/inspector';
import { startVisualizerServer, type VisualizerServer, type VisualizerServerOptions } from '../../src/visualizer/server';

const HTML = '<!doctype html><title>page</title>';
const servers: VisualizerServer[] = [];
const sockets: WebSocket[] = [];

async function relay(options: Partial<VisualizerServerOptions> = {}): Promise<VisualizerServer & { logs: string[]; ws(path: string): string }> {
  const logs: string[] = [];
  const s = await startVisualizerServer({ html: HTML, port: 0, log: (l) => logs.push(l), ...options });
  servers.push(s);
  return Object.assign(s, { logs, ws: (path: string) => `ws://127.0.0.1:${s.port}${path}` });
}
afterEach(async () => {
  for (const w of sockets.splice(0)) w.terminate();
  for (const s of servers.splice(0)) await s.close();
});

/** Opens a WebSocket: 101, or the refusal's status (and body). Messages are kept from the first (`received`). */
function open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<{ status: number; body: string; headers: Record<string, unknown>; ws?: WebSocket & { received: Buffer[] } }> {
  return new Promise((resolve) => {
    const ws = Object.assign(protocols ? new WebSocket(url, protocols, options) : new WebSocket(url, options), { received: [] as Buffer[] });
    ws.on('message', (d: Buffer) => ws.received.push(d));
    sockets.push(ws);
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    ws.on('open', () => resolve({ status: 101, body: '', headers: {}, ws }));
    ws.on('error', () => {});
  });
}

const sent = (ws: WebSocket, m: unknown) => new Promise<void>((resolve, reject) => ws.send(JSON.stringify(m), (err) => (err ? reject(err) : resolve())));
const until = async (cond: () => boolean, what: string, ms = 10_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('who may connect', () => {
  it('with an admin token, both sides need it: a Bearer header (Node) or the bearer. subprotocol (browsers)', async () => {
    const token = 'relay-admin-token-1';
    const r = await relay({ adminToken: token });
    for (const path of ['/watch', '/inspect']) {
      expect([path, (await open(r.ws(path))).status]).toEqual([path, 401]);
      expect([path, (await open(r.ws(path), { headers: { Authorization: 'Bearer wrong' } })).status]).toEqual([path, 401]);
      expect([path, (await open(r.ws(path), { headers: { Authorization: `Bearer ${token}` } })).status]).toEqual([path, 101]);
      const viaProtocol = await open(r.ws(path), {}, relayProtocols(token));
      expect([path, viaProtocol.status, viaProtocol.ws?.protocol]).toEqual([path, 101, 'loop-room-state']);
    }
    expect(r.logs.join('\n')).not.toContain(token);
  });

  it('without one, the watch side answers this machine only (a trusted proxy forwarding another address is refused)', async () => {
    const r = await relay({ trustedProxies: ['127.0.0.1'] });
    expect((await open(r.ws('/watch'))).status).toBe(101);
    expect((await open(r.ws('/watch'), { headers: { 'X-Forwarded-For': '203.0.113.9' } })).status).toBe(403);
    expect((await open(r.ws('/watch'), { headers: { Host: 'attacker.example' } })).status).toBe(421);
  });

  it('refuses Origin null and other local ports; takes its own origin and configured ones', async () => {
    const r = await relay({ corsOrigins: ['https://ops.example'] });
    for (const origin of ['null', 'http://localhost:5173', 'http://127.0.0.1:1', 'https://evil.example']) {
      for (const path of ['/watch', '/inspect']) expect([origin, path, (await open(r.ws(path), { origin })).status]).toEqual([origin, path, 403]);
    }
    for (const origin of [`http://127.0.0.1:${r.port}`, `http://localhost:${r.port}`, 'https://ops.example']) expect([origin, (await open(r.ws('/watch'), { origin })).status]).toEqual([origin, 101]);
  });

  it('caps open connections per client address: 429 errno 116 with Retry-After; a closed one frees its place', async () => {
    const r = await relay({ connectionsPerAddress: 3 });
    const opened = [];
    for (let i = 0; i < 3; i++) opened.push(await open(r.ws(i % 2 ? '/inspect' : '/watch')));
    expect(opened.map((o) => o.status)).toEqual([101, 101, 101]);
    const over = await open(r.ws('/watch'));
    expect([over.status, JSON.parse(over.body).errno, Number(over.headers['retry-after']) > 0]).toEqual([429, 116, true]);
    opened[0].ws!.close();
    await until(() => r.connections() === 2, 'the close');
    expect((await open(r.ws('/watch'))).status).toBe(101);
  });
});

describe('what a watcher gets', () => {
  it('the dump of the live sessions comes in small messages, never one string of them all, and folds to the same sessions', async () => {
    const r = await relay({ connectionsPerAddress: Infinity });
    const inspector = (await open(r.ws('/inspect'))).ws!;
    const SESSIONS = 20;
    const STEPS = 400;
    const snap = { state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
    for (let s = 0; s < SESSIONS; s++) {
      const session = `session-${s}-${'x'.repeat(150)}`;
      await sent(inspector, { type: 'start', session, label: 'l'.repeat(150), state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 });
      for (let i = 0; i < STEPS; i++) inspector.send(JSON.stringify({ type: 'step', session, event: `Session.connectionCreated${'e'.repeat(100)}`, ...snap }));
    }
    await until(() => r.sessions().reduce((n, s) => n + s.steps.length, 0) === SESSIONS * STEPS, 'the inspector');
    const w = (await open(r.ws('/watch'))).ws!;
    await until(() => w.received.length === 1 + SESSIONS * STEPS, 'the dump');
    const sizes = w.received.map((d) => d.length);
    const messages: unknown[] = w.received.map((d) => JSON.parse(d.toString('utf8')));
    // Before the fix: one message of every session (about 2.4 MB here; ~975 MiB at the limits: past V8's string maximum).
    expect(Math.max(...sizes)).toBeLessThan(64 * 1024);
    const folded = new Map<string, LiveSession>();
    const list = checkSessions((messages[0] as { sessions: unknown }).sessions);
    if ('error' in list) throw new Error(list.error);
    for (const s of list) folded.set(s.session, s);
    for (const m of messages.slice(1)) applyMessage(folded, m as InspectorMessage);
    expect([...folded.values()]).toEqual(r.sessions());
  }, 60_000);

  it('a watcher that reads nothing is dropped once it falls behind; the others keep getting every message', async () => {
    const r = await relay({ maxWatcherBacklog: 256 * 1024, connectionsPerAddress: Infinity });
    const stuck = (await open(r.ws('/watch'))).ws!;
    (stuck as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing from now on
    const reader = (await open(r.ws('/watch'))).ws!;
    const inspector = (await open(r.ws('/inspect'))).ws!;
    // Before the fix the server kept every message for the stuck watcher: memory grew without bound. Big messages,
    // so the kernel's socket buffers (several MB on loopback) fill within a bounded number of them.
    const dropped = () => r.logs.some((l) => l.includes('dropped a watcher'));
    let sentCount = 0;
    for (let s = 0; s < 6 && !dropped(); s++) {
      const session = `s${s}-${'x'.repeat(190)}`;
      await sent(inspector, { type: 'start', session, label: 'l', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 });
      sentCount++;
      for (let i = 0; i < LIMITS.maxStepsPerSession && !dropped(); i++) {
        await sent(inspector, { type: 'step', session, event: 'E'.repeat(LIMITS.maxName), state: 'S'.repeat(LIMITS.maxName), connections: 1, sendStreams: 0, recvStreams: 0 });
        sentCount++;
        // The reader keeps up (it shares this process with the sender: without pacing, a busy machine would let
        // it fall behind by the backlog limit too, and it would rightly be dropped as well).
        if (sentCount % 100 === 0) await until(() => reader.received.length >= 1 + sentCount - 100, 'the reader to keep up', 45_000);
      }
    }
    expect(r.logs.some((l) => l.includes('dropped a watcher'))).toBe(true);
    // The drop is logged when decided; its socket closes a moment later.
    await until(() => r.connections() === 2, 'the stuck watcher to be gone');
    // Up to tens of MB reach the reader after the drop: give it time on a busy machine (the count is what is checked).
    await until(() => reader.received.length === 1 + sentCount, 'the reader', 45_000); // the dump, then every message
  }, 60_000);
});

describe('the relay log', () => {
  it('refuses control characters in an inspector-chosen session id, and quotes the id it logs (no forged lines, no terminal escapes)', async () => {
    const r = await relay();
    const forger = (await open(r.ws('/inspect'))).ws!;
    const forged = 'x\n2026-01-01 server: admin token is hunter2\u001b[2J\r';
    forger.send(JSON.stringify({ type: 'start', session: forged, label: 'l', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
    await until(() => r.logs.some((l) => l.includes('refused an inspector message: "session"')), 'the refusal');
    // Without control characters an id may still try to read as a line of its own: it is logged quoted.
    const inspector = (await open(r.ws('/inspect'))).ws!;
    const session = 'x" 2026-01-01 server: admin token is hunter2';
    await sent(inspector, { type: 'start', session, label: 'l', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 });
    for (let i = 0; i <= LIMITS.maxStepsPerSession; i++) inspector.send(JSON.stringify({ type: 'step', session, event: 'e', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
    await until(() => r.logs.some((l) => l.includes('passed')), 'the overflow line');
    expect(r.logs.find((l) => l.includes('passed'))).toContain(JSON.stringify(session));
    for (const line of r.logs) expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
  }, 30_000);
});
