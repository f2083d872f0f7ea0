// The visualizer server and the inspector, over real sockets on 127.0.0.1 (ports chosen at run time).
import { request } from 'node:http';
import WebSocket from 'ws';
import { createActor } from 'xstate';
import { roomSessionMachine } from '../../machines/roomSession';
import { createVisualizerInspector, type SocketConstructor } from '../../src/visualizer/inspector';
import { createVisualizerInspector as createNodeInspector } from '../../src/visualizer/inspector.node';
import type { LiveSession, WatchMessage } from '../../src/visualizer/protocol';
import { startVisualizerServer, type VisualizerServer } from '../../src/visualizer/server';
import { applyMessage, checkSessions, liveTrack, type InspectorMessage } from '../../src/visualizer/protocol';
import { walkScenario } from '../../src/visualizer/scenario';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';
import { createRoomSession } from '../../src/service/roomSession';
import { startRoomServer } from '../support/fakeLoopServer';

const HTML = '<!doctype html><title>page</title>';
let server: VisualizerServer;
const logs: string[] = [];

beforeEach(async () => {
  logs.length = 0;
  server = await startVisualizerServer({ html: HTML, port: 0, log: (l) => logs.push(l) });
});
afterEach(() => server.close());

const wsUrl = (path: string) => `ws://127.0.0.1:${server.port}${path}`;

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A page-side watcher: collects what the server relays. */
async function watcher(origin?: string): Promise<{ messages: WatchMessage[]; ws: WebSocket; waitFor(pred: (m: WatchMessage[]) => boolean): Promise<void> }> {
  const ws = new WebSocket(wsUrl('/watch'), origin ? { origin } : {});
  const messages: WatchMessage[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    messages,
    ws,
    waitFor: (pred) =>
      new Promise<void>((resolve, reject) => {
        const t0 = Date.now();
        const poll = () => (pred(messages) ? resolve() : Date.now() - t0 > 5000 ? reject(new Error(`timeout; got ${JSON.stringify(messages)}`)) : setTimeout(poll, 10));
        poll();
      }),
  };
}

const until = async (pred: () => boolean, ms = 5000) => {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('HTTP', () => {
  it('serves the page at / and refuses everything else clearly', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    await expect(get('/')).resolves.toEqual({ status: 200, body: HTML, type: 'text/html; charset=utf-8' });
    expect((await get('/visualizer.html')).status).toBe(200);
    expect(await get('/etc/passwd')).toMatchObject({ status: 404, body: 'not found: the visualizer is at /\n' });
    expect((await get('/', {}, 'POST')).status).toBe(405);
    // DNS rebinding: a foreign Host name is refused.
    expect((await get('/', { Host: 'evil.example:80' })).status).toBe(421);
  });
});

describe('live relay', () => {
  it('relays a session driven by createActor through the inspector, in order, and ends it on stop', async () => {
    const w = await watcher();
    await w.waitFor((m) => m.length === 1);
    expect(w.messages[0]).toEqual({ type: 'sessions', sessions: [] });

    const inspector = createVisualizerInspector({ url: server.url, label: 'desk', WebSocket: WebSocket as unknown as SocketConstructor });
    const actor = createActor(roomSessionMachine, { inspect: inspector });
    actor.on('anomaly', () => {});
    actor.start();
    actor.send({ type: 'Session.connectionCreated' });
    actor.send({ type: 'Session.streamDestroyed' }); // rejected: still relayed, counters unchanged
    actor.send({ type: 'Publisher.streamCreated' });
    actor.stop();
    await inspector.close();
    await w.waitFor((m) => m.some((x) => x.type === 'stop'));

    const types = w.messages.slice(1).map((m) => (m.type === 'step' ? `step ${m.event} ${m.state} ${m.connections}${m.sendStreams}${m.recvStreams}` : m.type));
    expect(types).toEqual([
      'start',
      'step Session.connectionCreated waiting 100',
      'step Session.streamDestroyed waiting 100',
      'step Publisher.streamCreated waiting 110',
      'stop',
    ]);
    const [s] = server.sessions();
    expect(s).toMatchObject({ label: 'desk', stopped: true, start: { state: 'init', connections: 0 } });
    expect(s.steps).toHaveLength(3);

    // A page that connects later gets the whole history: the sessions, then their steps one message each (the dump
    // is paged, never one string of every session: issue 17), folded as the page folds them.
    const late = await watcher();
    await late.waitFor((m) => m.length === 1 + s.steps.length);
    const folded = new Map<string, LiveSession>();
    const list = checkSessions((late.messages[0] as { sessions: unknown }).sessions);
    if ('error' in list) throw new Error(list.error);
    for (const x of list) folded.set(x.session, x);
    for (const m of late.messages.slice(1)) applyMessage(folded, m as InspectorMessage);
    expect([...folded.values()]).toEqual(server.sessions());
    w.ws.close();
    late.ws.close();
  });

  it('the Node build of the inspector needs no WebSocket option; sessions are told apart', async () => {
    const a = createNodeInspector({ url: wsUrl('') });
    const one = createActor(roomSessionMachine, { inspect: a }).start();
    const two = createActor(roomSessionMachine, { inspect: a }).start();
    one.send({ type: 'Session.connectionCreated' });
    await until(() => server.sessions().length === 2 && server.sessions().some((s) => s.steps.length === 1));
    const ids = server.sessions().map((s) => s.session);
    expect(new Set(ids).size).toBe(2);
    // Dropping the connection without stop ends its sessions.
    await a.close();
    await until(() => server.sessions().every((s) => s.stopped));
    one.stop();
    two.stop();
  });

  it('refuses a bad inspector message by closing with 1008, logs why without the content, and keeps running', async () => {
    const ws = new WebSocket(wsUrl('/inspect'));
    await new Promise((r) => ws.once('open', r));
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.send(JSON.stringify({ type: 'start', session: 's', label: 'secret-token-123', state: 'init', connections: -5, sendStreams: 0, recvStreams: 0 }));
    await expect(closed).resolves.toEqual({ code: 1008, reason: '"connections" must be a non-negative integer' });
    expect(logs).toEqual(['visualizer: refused an inspector message: "connections" must be a non-negative integer']);
    expect(logs.join()).not.toContain('secret-token-123');
    expect((await get('/')).status).toBe(200);
  });

  it('refuses steps for a session another connection owns', async () => {
    const owner = new WebSocket(wsUrl('/inspect'));
    await new Promise((r) => owner.once('open', r));
    owner.send(JSON.stringify({ type: 'start', session: 'mine', label: 'l', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
    await until(() => server.sessions().length === 1);
    const intruder = new WebSocket(wsUrl('/inspect'));
    await new Promise((r) => intruder.once('open', r));
    const closed = new Promise<number>((r) => intruder.once('close', (code) => r(code)));
    intruder.send(JSON.stringify({ type: 'step', session: 'mine', event: 'x', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 }));
    expect(await closed).toBe(1008);
    expect(server.sessions()[0].steps).toEqual([]);
    owner.close();
  });

  it('refuses WebSocket connections from another web site, and unknown paths', async () => {
    const refused = (url: string, origin?: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, origin ? { origin } : {});
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => {});
      });
    expect(await refused(wsUrl('/watch'), 'https://evil.example')).toBe(403);
    expect(await refused(wsUrl('/inspect'), 'https://evil.example')).toBe(403);
    expect(await refused(wsUrl('/other'))).toBe(404);
    // Spec section 7: only the server's own origins (or configured ones); never Origin null, nor another local port.
    expect(await refused(wsUrl('/watch'), `http://localhost:5173`)).toBe(403);
    expect(await refused(wsUrl('/watch'), 'null')).toBe(403);
    expect(await refused(wsUrl('/watch'), `http://localhost:${server.port}`)).toBe(101);
    expect(await refused(wsUrl('/inspect'), `http://127.0.0.1:${server.port}`)).toBe(101);
  });
});

describe('live attach through createRoomSession', () => {
  it('a session reporting to a real room server is relayed step by step, without its tokens', async () => {
    const room = await startRoomServer();
    const w = await watcher();
    const inspector = createVisualizerInspector({ url: server.url, label: 'room session', WebSocket: WebSocket as unknown as SocketConstructor });
    const session = createRoomSession({ roomToken: room.roomToken, serverUrl: room.serverUrl, auth: { type: 'basic', sessionToken: room.sessionToken }, inspect: inspector });
    try {
      for (const row of WORKED_EXAMPLE) session.send({ type: row.event });
      await session.flush();
      await until(() => (server.sessions()[0]?.steps.length ?? 0) === WORKED_EXAMPLE.length);
      const [live] = server.sessions();
      expect(live.label).toBe('room session');
      expect(live.steps).toEqual(WORKED_EXAMPLE.map((r) => ({ ...r })));
      // What the page would show as reports is what the room server received.
      const reports = walkScenario(liveTrack(live).events).steps.map((st) => st.report);
      expect(room.statusBodies()).toEqual(reports);
      const relayed = JSON.stringify(w.messages);
      for (const secret of [room.roomToken, room.sessionToken]) expect(relayed).not.toContain(secret);
    } finally {
      session.stop();
      await inspector.close();
      w.ws.close();
      await room.close();
    }
  });
});

describe('inspector', () => {
  it('says clearly when there is no WebSocket, and when the URL is not one', () => {
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    try {
      expect(() => createVisualizerInspector({ url: 'ws://127.0.0.1:1' })).toThrow(/no WebSocket available: pass \{ WebSocket \}/);
    } finally {
      if (saved) (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
    expect(() => createVisualizerInspector({ url: 'ftp://x', WebSocket: WebSocket as unknown as SocketConstructor })).toThrow(TypeError);
  });

  it('reports an unreachable relay once through onError, without credentials, keeps retrying with backoff, and never throws into the actor', async () => {
    const closedPort = server.port;
    await server.close();
    const errors: string[] = [];
    let attempts = 0;
    class Counting extends WebSocket {
      constructor(url: string) {
        super(url);
        attempts++;
      }
    }
    const inspector = createVisualizerInspector({
      url: `ws://user:pw@127.0.0.1:${closedPort}/inspect?key=k`,
      WebSocket: Counting as unknown as SocketConstructor,
      onError: (e) => errors.push(e.message),
      retry: { initialDelay: 20, maxDelay: 80 },
    });
    const actor = createActor(roomSessionMachine, { inspect: inspector }).start();
    actor.send({ type: 'Session.connectionCreated' });
    await until(() => attempts >= 4);
    actor.send({ type: 'Session.connectionCreated' });
    expect(actor.getSnapshot().value).toBe('starting');
    expect(errors).toEqual([`visualizer inspector: cannot connect (ws://127.0.0.1:${closedPort}); reconnecting`]);
    // Once the relay is back on that port, the session arrives whole: start and both steps.
    server = await startVisualizerServer({ html: HTML, port: closedPort });
    await until(() => server.sessions()[0]?.steps.length === 2);
    expect(server.sessions()[0].steps.map((st) => st.state)).toEqual(['waiting', 'starting']);
    actor.stop();
    await inspector.close();
    const after = attempts;
    await new Promise((r) => setTimeout(r, 200));
    expect(attempts).toBe(after); // closed: no more retries
  });

  it('a session whose connection dropped may be started again by its inspector; one a live connection owns may not', async () => {
    const start = JSON.stringify({ type: 'start', session: 's1', label: 'l', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 });
    const a = new WebSocket(wsUrl('/inspect'));
    await new Promise((r) => a.once('open', r));
    a.send(start);
    await until(() => server.sessions().length === 1);
    const b = new WebSocket(wsUrl('/inspect'));
    await new Promise((r) => b.once('open', r));
    const refused = new Promise<number>((r) => b.once('close', (code) => r(code)));
    b.send(start);
    expect(await refused).toBe(1008);
    a.close();
    await until(() => server.sessions()[0].stopped);
    const c = new WebSocket(wsUrl('/inspect'));
    await new Promise((r) => c.once('open', r));
    c.send(start);
    await until(() => !server.sessions()[0].stopped);
    c.close();
  });
});
