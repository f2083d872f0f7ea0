// The visualizer's local server (Node only): serves the single-file page and relays live sessions from
// inspectors (`/inspect`) to pages (`/watch`) over WebSocket. Binds to 127.0.0.1 unless told otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { INSPECT_PATH, LIMITS, WATCH_PATH, applyMessage, parseInspectorMessage, type InspectorMessage, type LiveSession, type WatchMessage } from './protocol';

export interface VisualizerServerOptions {
  /** The page to serve (the built dist/visualizer.html), read once. */
  html: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Told about refused connections and messages (never their contents). */
  log?: (line: string) => void;
  /** Attach to this already listening server instead of creating one: see attachVisualizer. */
  server?: Server;
}

export interface VisualizerServer {
  /** http://host:port/ */
  url: string;
  port: number;
  /** The live sessions as the server holds them (a copy). */
  sessions(): LiveSession[];
  /** Serves the page (for a server that routes other paths elsewhere; see attachVisualizer). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export async function startVisualizerServer(options: VisualizerServerOptions): Promise<VisualizerServer> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const html = Buffer.from(options.html, 'utf8');
  const sessions = new Map<string, LiveSession>();
  const owners = new Map<WebSocket, Set<string>>();
  const watchers = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxMessageBytes });
  let port = 0;

  // A page on some other web site must not be able to read or feed this server through the user's browser.
  const hostAllowed = (req: IncomingMessage) => {
    if (host === '0.0.0.0' || host === '::') return true; // the user opened it up on purpose
    const h = (req.headers.host ?? '').toLowerCase();
    const name = h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
    return LOOPBACK.has(name) || name === host.toLowerCase();
  };
  const originAllowed = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    if (origin === undefined || origin === 'null') return true; // Node clients; the page opened from disk
    try {
      const u = new URL(origin);
      return LOOPBACK.has(u.hostname) || u.hostname === host || `[${u.hostname}]` === host;
    } catch {
      return false;
    }
  };

  const server = options.server ?? createServer();
  const handleRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (!hostAllowed(req)) return plain(res, 421, 'unexpected Host header\n');
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
    if (path !== '/' && path !== '/index.html' && path !== '/visualizer.html') return plain(res, 404, 'not found: the visualizer is at /\n');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': html.length, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : html);
  };
  if (!options.server) server.on('request', handleRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const refuse = (status: number, why: string) => {
      log(`visualizer: refused a WebSocket connection to ${path.slice(0, 40)}: ${why}`);
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (path !== INSPECT_PATH && path !== WATCH_PATH) return refuse(404, 'Not Found');
    if (!hostAllowed(req)) return refuse(421, 'Misdirected Request');
    if (!originAllowed(req)) return refuse(403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => (path === WATCH_PATH ? watch(ws) : inspect(ws)));
  });

  const broadcast = (m: WatchMessage) => {
    const text = JSON.stringify(m);
    for (const w of watchers) if (w.readyState === w.OPEN) w.send(text);
  };

  function watch(ws: WebSocket) {
    watchers.add(ws);
    ws.send(JSON.stringify({ type: 'sessions', sessions: [...sessions.values()] } satisfies WatchMessage));
    ws.on('message', () => ws.close(1008, 'the watch endpoint takes no messages'));
    ws.on('close', () => watchers.delete(ws));
    ws.on('error', () => watchers.delete(ws));
  }

  function inspect(ws: WebSocket) {
    const mine = new Set<string>();
    owners.set(ws, mine);
    const refuse = (why: string) => {
      log(`visualizer: refused an inspector message: ${why}`);
      ws.close(1008, why.slice(0, 120));
    };
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return refuse('binary messages are not part of the protocol');
      const m = parseInspectorMessage(data.toString());
      if ('error' in m) return refuse(m.error);
      if (m.type !== 'start' && !mine.has(m.session)) return refuse('session was not started on this connection');
      // A session whose connection ended may be started again (its inspector reconnected); a live owner's may not.
      if (m.type === 'start' && !mine.has(m.session) && [...owners.values()].some((o) => o !== mine && o.has(m.session))) return refuse('session id belongs to another connection');
      const outcome = applyMessage(sessions, m);
      if (outcome === 'too-many-sessions') return refuse(`more than ${LIMITS.maxSessions} live sessions`);
      if (m.type === 'start') mine.add(m.session);
      if (outcome === 'ok') broadcast(m);
      if (outcome === 'overflow') {
        log(`visualizer: session ${m.session} passed ${LIMITS.maxStepsPerSession} steps; later steps are not kept`);
        broadcast({ type: 'overflow', session: m.session });
      }
    });
    // A connection that goes away ends its sessions (the process was stopped or crashed).
    const end = () => {
      owners.delete(ws);
      for (const id of mine) {
        const s = sessions.get(id);
        if (s && !s.stopped) {
          const stop: InspectorMessage = { type: 'stop', session: id };
          applyMessage(sessions, stop);
          broadcast(stop);
        }
      }
      mine.clear();
    };
    ws.on('close', end);
    ws.on('error', end);
  }

  if (!options.server) await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${port}/`,
    port,
    sessions: () => structuredClone([...sessions.values()]),
    handle: handleRequest,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        if (options.server) return resolve(); // the owner of an attached server closes it
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function plain(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

/**
 * The page and the live relay on an existing, listening node:http server (the room server's: one port for all):
 * WebSocket upgrades to /inspect and /watch are taken here; the caller routes page requests to `handle`.
 */
export function attachVisualizer(server: Server, options: Omit<VisualizerServerOptions, 'server' | 'port'>): Promise<VisualizerServer> {
  return startVisualizerServer({ ...options, server });
}
