// The visualizer's local server (Node only): serves the single-file page and relays live sessions from
// inspectors (`/inspect`) to pages (`/watch`) over WebSocket. Binds to 127.0.0.1 unless told otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { clientAddress, HostPolicy, isLoopbackAddress, isWildcard, normalize } from '../server/exposure';
import { OpenCounter, tooManyRequests } from '../server/limits';
import { loadWs, MissingPeerError } from '../server/peers';
import { sameSecret } from '../server/secrets';
import { answerAsPlainRequest, isRelayUpgrade } from './plainRequest';
import { INSPECT_PATH, LIMITS, WATCH_PATH, applyMessage, parseInspectorMessage, type InspectorMessage, type LiveSession, type WatchMessage } from './protocol';

export interface VisualizerServerOptions {
  /** The page to serve (the built dist/visualizer.html), read once. */
  html: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Told about refused connections and messages (client-chosen text escaped, never message contents). */
  log?: (line: string) => void;
  /** Attach to this already listening server instead of creating one: see attachVisualizer. */
  server?: Server;
  /**
   * When set, both relay sides need it (spec section 7): `Authorization: Bearer <token>` (Node clients), or, from a
   * browser (which cannot set headers on a WebSocket), the subprotocols `loop-room-state` and `bearer.<base64url(token)>`.
   * Without one, the watch side answers only this machine naming one of the server's hosts.
   */
  adminToken?: string;
  /** The origin clients use through a proxy: its host is one of the server's own (Host, Origin). */
  publicUrl?: string;
  /** Web origins (besides the server's own) whose pages may open the relay's WebSockets. */
  corsOrigins?: readonly string[];
  /** Reverse proxies whose X-Forwarded-For names the client. */
  trustedProxies?: readonly string[];
  /** Open relay connections per client address (default 16; Infinity: no limit). */
  connectionsPerAddress?: number;
  /** Open relay connections in all (default 256). */
  maxConnections?: number;
  /** Bytes of live messages a watcher may fall behind by before it is dropped as too slow (default 8 MiB). */
  maxWatcherBacklog?: number;
  /** A watcher whose socket takes nothing for this long while messages wait is dropped (default 30 s). */
  watcherStallMs?: number;
}

export interface VisualizerServer {
  /** http://host:port/ */
  url: string;
  port: number;
  /** Whether the live relay runs (false without the optional package `ws`: the page is served alone). */
  live: boolean;
  /** The live sessions as the server holds them (a copy). */
  sessions(): LiveSession[];
  /** Serves the page (for a server that routes other paths elsewhere; see attachVisualizer). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Open relay connections (watchers and inspectors). */
  connections(): number;
  close(): Promise<void>;
}

/** The subprotocol the relay speaks; a browser offers it with its `bearer.` token. */
export const RELAY_PROTOCOL = 'loop-room-state';
/** A watcher's socket buffer is kept filled up to this; more waits in the watcher's own queue. */
const HIGH_WATER_BYTES = 1 << 20;

/** Client-chosen text as it may appear in a log line: control characters and quotes escaped, length capped. */
export const printable = (text: string, max = 80) => JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);

/** What a watcher still has to receive: the dump of what was live when it came (paged), then live messages. */
interface Watcher {
  ws: WebSocket;
  /** The sessions as they were when it connected, and how many of each one's steps are its to send from the dump. */
  dump?: { header: boolean; items: Array<{ s: LiveSession; steps: number }>; i: number; j: number };
  queue: string[];
  queuedBytes: number;
  /** A send is in the socket's buffer past the high-water mark; its callback pumps again. */
  waiting: boolean;
  stall?: ReturnType<typeof setTimeout>;
}

/**
 * The page and its live relay. Without the optional package `ws` the page is served alone (explore and replay work;
 * the live view's WebSockets are refused, 503), and `log` says what to install.
 */
export async function startVisualizerServer(options: VisualizerServerOptions): Promise<VisualizerServer> {
  let ws: typeof import('ws');
  try {
    ws = loadWs();
  } catch (err) {
    if (!(err instanceof MissingPeerError)) throw err;
    return startPageOnly(options, err);
  }
  return startWithRelay(options, ws);
}

/** Whether a request names one of the server's own hosts (a page elsewhere must not reach it through a browser). */
function hostCheck(options: VisualizerServerOptions): { host: string; hosts: HostPolicy; hostAllowed: (req: IncomingMessage) => boolean } {
  const host = options.host ?? '127.0.0.1';
  const hosts = new HostPolicy(host, options.publicUrl);
  return { host, hosts, hostAllowed: (req) => isWildcard(host) || hosts.ownHost(req) };
}

/** Serves the single-file page: GET or HEAD of /, /index.html or /visualizer.html. */
function pageHandler(page: string, hostAllowed: (req: IncomingMessage) => boolean): (req: IncomingMessage, res: ServerResponse) => void {
  const html = Buffer.from(page, 'utf8');
  return (req, res) => {
    if (!hostAllowed(req)) return plain(res, 421, 'unexpected Host header\n');
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
    if (path !== '/' && path !== '/index.html' && path !== '/visualizer.html') return plain(res, 404, 'not found: the visualizer is at /\n');
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': html.length, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : html);
  };
}

/** Listens on the server this module created (an attached server already listens); its port and URL. */
async function listening(server: Server, options: VisualizerServerOptions, host: string): Promise<{ port: number; url: string }> {
  if (!options.server) await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/` };
}

/** Closes the server this module created; the owner of an attached server closes it. */
function closeOwn(server: Server, options: VisualizerServerOptions): Promise<void> {
  return new Promise<void>((resolve) => {
    if (options.server) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function startPageOnly(options: VisualizerServerOptions, missing: MissingPeerError): Promise<VisualizerServer> {
  const log = options.log ?? (() => {});
  const { host, hostAllowed } = hostCheck(options);
  const handle = pageHandler(options.html, hostAllowed);
  const server = options.server ?? createServer();
  if (!options.server) server.on('request', handle);
  const why = `the live view needs the optional package 'ws': npm install ${missing.peer}`;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!isRelayUpgrade(req, [INSPECT_PATH, WATCH_PATH])) return answerAsPlainRequest(server, req, socket, head);
    log(`visualizer: refused a WebSocket connection to ${printable((req.url ?? '').split('?')[0], 40)}: ${why}`);
    socket.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(why)}\r\n\r\n${why}`);
  });
  const { port, url } = await listening(server, options, host);
  log(`visualizer: serving the page without its live view (${why})`);
  return { url, port, live: false, sessions: () => [], handle, connections: () => 0, close: () => closeOwn(server, options) };
}

async function startWithRelay(options: VisualizerServerOptions, { WebSocketServer }: typeof import('ws')): Promise<VisualizerServer> {
  const log = options.log ?? (() => {});
  const { host, hosts, hostAllowed } = hostCheck(options);
  const sessions = new Map<string, LiveSession>();
  const owners = new Map<WebSocket, Set<string>>();
  const watchers = new Map<WebSocket, Watcher>();
  const trusted = new Set((options.trustedProxies ?? []).map(normalize));
  const corsOrigins = new Set(options.corsOrigins ?? []);
  const perAddress = new OpenCounter(options.connectionsPerAddress ?? 16);
  const maxConnections = options.maxConnections ?? 256;
  const maxBacklog = options.maxWatcherBacklog ?? 8 * 1024 * 1024;
  const stallMs = options.watcherStallMs ?? 30_000;
  const wss = new WebSocketServer({ noServer: true, maxPayload: LIMITS.maxMessageBytes, handleProtocols: (offered) => (offered.has(RELAY_PROTOCOL) ? RELAY_PROTOCOL : false) });
  let port = 0;

  // Origin "null" (a sandboxed iframe, a page from disk) is any page at all: refused. No Origin: not a browser.
  const originAllowed = (req: IncomingMessage) => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    return corsOrigins.has(origin) || hosts.ownOrigin(origin, port);
  };
  const tokenOf = (req: IncomingMessage): string | undefined => {
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    if (m) return m[1];
    for (const p of String(req.headers['sec-websocket-protocol'] ?? '').split(',')) {
      const t = p.trim();
      if (t.startsWith('bearer.')) return Buffer.from(t.slice('bearer.'.length), 'base64url').toString('utf8');
    }
    return undefined;
  };

  const server = options.server ?? createServer();
  const handleRequest = pageHandler(options.html, hostAllowed);
  if (!options.server) server.on('request', handleRequest);

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    const refuse = (status: number, why: string, raw?: string) => {
      log(`visualizer: refused a WebSocket connection to ${printable(path, 40)}: ${why}`);
      socket.end(raw ?? `HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!isRelayUpgrade(req, [INSPECT_PATH, WATCH_PATH])) return answerAsPlainRequest(server, req, socket, head);
    if (!hostAllowed(req)) return refuse(421, 'Misdirected Request');
    if (!originAllowed(req)) return refuse(403, 'Forbidden');
    const address = clientAddress(req, trusted);
    if (options.adminToken !== undefined) {
      const token = tokenOf(req);
      if (token === undefined || !sameSecret(token, options.adminToken)) return refuse(401, 'Unauthorized');
    } else if (path === WATCH_PATH && (!isLoopbackAddress(address) || !hosts.ownHost(req))) {
      // The watch side is admin data: without a token, this machine only.
      return refuse(403, 'Forbidden');
    }
    if (wss.clients.size >= maxConnections) return refuse(429, 'Too Many Requests', tooManyRequests(10).rawResponse());
    if (!perAddress.take(address)) return refuse(429, 'Too Many Requests', tooManyRequests(10).rawResponse());
    let released = false;
    const release = () => {
      if (!released) perAddress.release(address);
      released = true;
    };
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', release);
      if (path === WATCH_PATH) watch(ws);
      else inspect(ws);
    });
  });

  // ---- watchers: a paged dump, then live messages, never faster than each one reads --------------------------

  const drop = (w: Watcher, why: string) => {
    log(`visualizer: dropped a watcher: ${why}`);
    forget(w);
    w.ws.terminate();
  };
  const forget = (w: Watcher) => {
    if (w.stall) clearTimeout(w.stall);
    watchers.delete(w.ws);
    w.queue = [];
    w.dump = undefined;
  };

  /** The watcher's next message: the dump's header, its steps one by one, then what came live meanwhile. */
  const next = (w: Watcher): string | undefined => {
    const d = w.dump;
    if (d) {
      if (!d.header) {
        d.header = true;
        // Sessions without their steps (small: at most LIMITS.maxSessions of them); the steps follow one by one.
        return JSON.stringify({ type: 'sessions', sessions: d.items.map(({ s }) => ({ ...s, steps: [] })) } satisfies WatchMessage);
      }
      while (d.i < d.items.length) {
        const { s, steps } = d.items[d.i];
        if (d.j < steps) {
          const step = s.steps[d.j++];
          return JSON.stringify({ type: 'step', session: s.session, ...step } satisfies WatchMessage);
        }
        d.i++;
        d.j = 0;
      }
      w.dump = undefined;
    }
    const m = w.queue.shift();
    if (m !== undefined) w.queuedBytes -= m.length;
    return m;
  };

  const pump = (w: Watcher) => {
    if (w.waiting || !watchers.has(w.ws) || w.ws.readyState !== w.ws.OPEN) return;
    for (;;) {
      const m = next(w);
      if (m === undefined) return;
      if (w.ws.bufferedAmount + m.length < HIGH_WATER_BYTES) {
        w.ws.send(m);
        continue;
      }
      // The socket holds enough: go on once it has taken this one (and so all before it). A watcher that takes
      // nothing for long is dropped.
      w.waiting = true;
      w.stall = setTimeout(() => drop(w, `took nothing for ${Math.round(stallMs / 1000)} s`), stallMs);
      w.stall.unref?.();
      w.ws.send(m, () => {
        if (w.stall) clearTimeout(w.stall);
        w.stall = undefined;
        w.waiting = false;
        pump(w);
      });
      return;
    }
  };

  const broadcast = (m: WatchMessage) => {
    const text = JSON.stringify(m);
    for (const w of watchers.values()) {
      if (w.ws.readyState !== w.ws.OPEN) continue;
      w.queue.push(text);
      w.queuedBytes += text.length;
      if (w.queuedBytes > maxBacklog) drop(w, `fell more than ${maxBacklog} bytes behind`);
      else pump(w);
    }
  };

  function watch(ws: WebSocket) {
    const w: Watcher = { ws, dump: { header: false, items: [...sessions.values()].map((s) => ({ s, steps: s.steps.length })), i: 0, j: 0 }, queue: [], queuedBytes: 0, waiting: false };
    watchers.set(ws, w);
    pump(w);
    ws.on('message', () => ws.close(1008, 'the watch endpoint takes no messages'));
    ws.on('close', () => forget(w));
    ws.on('error', () => forget(w));
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
        log(`visualizer: session ${printable(m.session)} passed ${LIMITS.maxStepsPerSession} steps; later steps are not kept`);
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

  const at = await listening(server, options, host);
  port = at.port;

  return {
    url: at.url,
    port,
    live: true,
    sessions: () => structuredClone([...sessions.values()]),
    handle: handleRequest,
    connections: () => wss.clients.size,
    close: () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      return closeOwn(server, options);
    },
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
