// The room server's HTTP side: routes, the order of checks (server spec section 1), the error shape,
// admin-only routes, and the periodic expiry and retention sweep. node:http; no framework.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator, NonceCache, publicHostOf, type Caller } from './auth';
import { readBody, MAX_BODY_BYTES } from './body';
import { ApiError, errors } from './errors';
import { ServerMetrics, type RequestAction } from './metrics';
import { loadHawk } from './peers';
import { Rooms, type Answer } from './rooms';
import { Hmacs, randomHex, sameSecret } from './secrets';
import { StoreUnavailableError, type Store } from './store';
import { handleTraffic } from './traffic';
import { jsonObject } from './validate';
import type { AccessLogEntry } from './accessLog';
import { ROOM_PATH, routeOf, SESSION_REPORTS_PATH } from './routes';
import { exportShape } from './reportShape';

export interface RoomServerOptions {
  store: Store;
  /** Path prefix of the API (default '/v1'). */
  basePath?: string;
  /** Refuse non-conformant reports (400 errno 107) instead of storing them with their verdict. */
  strict?: boolean;
  /** When set, /metrics, /v1/stats and /v1/sessions/:id/reports need `Authorization: Bearer <token>`. */
  adminToken?: string;
  /** Participation TTL (default 300 s, as loop-server). */
  participantTtlMs?: number;
  /** Largest maxSize a room may ask for (default 5). */
  maxRoomSize?: number;
  /** Room expiry in hours: the default and the most a room may ask for (default 720 and 720). */
  roomExpiryHours?: { default: number; max: number };
  /** Rooms' web app URL; roomUrl = this + roomToken (default 'http://localhost:3000/'). */
  webAppUrl?: string;
  /** Hawk timestamp window each way, seconds (default 60). */
  hawkSkewSec?: number;
  /**
   * The URL clients reach the server at (e.g. 'https://rooms.example.com' behind a TLS-terminating proxy):
   * Hawk MACs are checked against its host and port (443 for https without a port) instead of the Host
   * header's. Default: the Host header (port 80 when it has none).
   */
  publicUrl?: string;
  /** Retry-After on 503 (default 1 s). */
  retryAfterSeconds?: number;
  /** Keep reports and ended sessions this many days (default 90); 0 keeps everything. */
  retainDays?: number;
  /** How often expired sessions are ended and retention runs (default 30 s). */
  sweepIntervalMs?: number;
  /** HMAC key for tokens and ids; default: the one stored in the database (made on first start). */
  secret?: string;
  /**
   * Web origins (e.g. 'https://hello.example.com') whose pages may call the API from a browser (CORS);
   * default none: browser clients must then be served from the server's own origin.
   */
  corsOrigins?: readonly string[];
  /** Media provider fields returned by join, if any. */
  media?: { apiKey: string; sessionId?: string };
  /** Operator log lines (never a secret). */
  log?: (line: string) => void;
  /** Called once per answered API request (routes, never paths: see accessLog.ts). */
  accessLog?: (entry: AccessLogEntry) => void;
  now?: () => number;
}

export interface RoomServer {
  /** Handles the request when its path is the API's or /metrics; false (nothing written) otherwise. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** One sweep now: end expired sessions, apply retention. */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export async function createRoomServer(options: RoomServerOptions): Promise<RoomServer> {
  // Checked before anything touches the store.
  const publicHost = options.publicUrl === undefined ? undefined : publicHostOf(options.publicUrl);
  const store = options.store;
  const base = (options.basePath ?? '/v1').replace(/\/+$/, '');
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const hawkModule = loadHawk();
  const metrics = new ServerMetrics(store);
  const secret = options.secret ?? process.env.LOOP_ROOM_STATE_SECRET ?? (await store.serverSecret(randomHex(32)));
  const hmacs = new Hmacs(secret);
  const skewSec = options.hawkSkewSec ?? 60;
  if (!store.claimHawkNonce) log('server: this store cannot share Hawk nonces; replays are refused per process only');
  const auth = new Authenticator({ store, hmacs, hawk: () => hawkModule, skewSec, nonces: new NonceCache(2 * skewSec * 1000), publicHost, now, log });
  const rooms = new Rooms({
    store,
    hmacs,
    strict: options.strict ?? false,
    participantTtlMs: options.participantTtlMs ?? 300_000,
    maxRoomSize: options.maxRoomSize ?? 5,
    roomExpiryHours: options.roomExpiryHours ?? { default: 720, max: 720 },
    webAppUrl: options.webAppUrl ?? 'http://localhost:3000/',
    media: options.media,
    now,
  });
  const adminToken = options.adminToken ?? process.env.LOOP_ROOM_STATE_ADMIN_TOKEN;

  /** Arrival of each request being handled, for the access log. */
  const arrivals = new WeakMap<ServerResponse, { method: string; path: string; at: number }>();
  /** Every answer is counted here once: in the metrics, and in the access log when there is one. */
  const answered = (res: ServerResponse, action: RequestAction, status: number, errno?: number) => {
    metrics.request(action, status);
    const arrival = arrivals.get(res);
    if (!options.accessLog || !arrival) return;
    const entry: AccessLogEntry = {
      time: new Date(now()).toISOString(),
      method: arrival.method,
      route: routeOf(arrival.path, base),
      action,
      status,
      ms: Math.round((performance.now() - arrival.at) * 10) / 10,
    };
    if (errno !== undefined) entry.errno = errno;
    options.accessLog(entry);
  };

  const send = (res: ServerResponse, caller: Caller, answer: Answer, action: RequestAction, errno?: number) => {
    answered(res, action, answer.status, errno);
    const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const contentType = typeof answer.body === 'string' ? (answer.headers?.['Content-Type'] ?? 'text/plain; charset=utf-8') : 'application/json; charset=utf-8';
    const headers: Record<string, string | number> = { 'Cache-Control': 'no-store', ...(answer.headers ?? {}) };
    if (body) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(body);
    } else if (answer.status !== 204) {
      headers['Content-Length'] = 0;
    }
    const serverAuth = auth.serverAuthorization(caller, body, contentType);
    if (serverAuth) headers['Server-Authorization'] = serverAuth;
    if (!res.headersSent) {
      res.writeHead(answer.status, headers);
      res.end(body || undefined);
    }
  };

  const fail = (res: ServerResponse, caller: Caller, err: unknown, action: RequestAction) => {
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err instanceof StoreUnavailableError) e = errors.unavailable(retryAfter);
    else {
      // A bug, not the client's fault; the client may retry. Logged without request data.
      log(`server: internal error in ${action}: ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err}`);
      e = errors.unavailable(retryAfter);
    }
    send(res, caller, { status: e.status, body: e.body(), headers: { 'Content-Type': 'application/json; charset=utf-8', ...e.headers } }, action, e.errno);
  };

  const admin = (req: IncomingMessage) => {
    if (!adminToken) return;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(h);
    if (!m || !sameSecret(m[1], adminToken)) throw errors.unauthorized('Bearer');
  };

  const corsOrigins = new Set(options.corsOrigins ?? []);
  /** CORS headers for an allowed Origin (on every answer to it, errors included). */
  const cors = (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (origin === undefined || !corsOrigins.has(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'Hawk-Session-Token, Server-Authorization, WWW-Authenticate, Retry-After');
    return true;
  };

  async function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const none: Caller = { scheme: 'none' };
    let action: RequestAction = 'other';
    let caller: Caller = none;
    try {
      const method = req.method ?? 'GET';
      if (cors(req, res) && method === 'OPTIONS' && path.startsWith(`${base}/`)) {
        // A preflight from an allowed origin: the methods and headers a client sends.
        res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Idempotency-Key');
        res.setHeader('Access-Control-Max-Age', '600');
        return send(res, none, { status: 204 }, 'other');
      }
      const methods = (allowed: string) => {
        if (!allowed.split(', ').includes(method)) throw errors.methodNotAllowed(allowed);
      };
      if (path === '/metrics') {
        action = 'metrics';
        methods('GET');
        admin(req);
        const text = await metrics.render();
        return send(res, none, { status: 200, body: text, headers: { 'Content-Type': metrics.contentType() } }, action);
      }
      const rest = path.slice(base.length);
      if (rest === '/stats') {
        action = 'stats';
        methods('GET');
        admin(req);
        const since = timeParam(query, 'since');
        const until = timeParam(query, 'until');
        return send(res, none, { status: 200, body: await store.stats({ since, until }) }, action);
      }
      if (rest === '/traffic' || rest.startsWith('/traffic/')) {
        // handleTraffic answers (its CORS and the stream are its own); counted here like every other answer.
        action = 'traffic';
        const { status, errno } = await handleTraffic({ store, req, res, rest, query, admin: () => admin(req), now });
        return answered(res, action, status, errno);
      }
      const reportsMatch = SESSION_REPORTS_PATH.exec(rest);
      if (reportsMatch) {
        action = 'session-reports';
        methods('GET');
        admin(req);
        const id = decodeSegment(reportsMatch[1]);
        const session = id && (await store.getSession(id));
        if (!session) throw errors.notFound();
        const reports = await store.sessionReports(session.id);
        return send(res, none, { status: 200, body: { session: session.id, room: session.room, reports: reports.map(exportShape) } }, action);
      }
      const roomMatch = ROOM_PATH.exec(rest);
      if (rest !== '/registration' && rest !== '/rooms' && !roomMatch) throw errors.notFound();
      // 1. body size
      methods(rest === '/registration' || rest === '/rooms' ? 'POST' : 'GET, DELETE, POST');
      const body = await readBody(req, MAX_BODY_BYTES);
      if (body instanceof ApiError) {
        res.setHeader('Connection', 'close');
        throw body;
      }
      if (rest === '/registration') {
        action = 'registration';
        caller = await auth.authenticate(req, body);
        return send(res, caller, await rooms.registration(caller), action);
      }
      if (rest === '/rooms') {
        action = 'create';
        caller = await auth.authenticate(req, body);
        if (caller.scheme !== 'hawk') throw errors.unauthorized();
        return send(res, caller, await rooms.createRoom(caller, jsonObject(req.headers['content-type'], body)), action);
      }
      // 2. room token
      const room = await rooms.room(decodeSegment(roomMatch![1]) ?? '');
      // 3. credentials
      caller = await auth.authenticate(req, body);
      if (method === 'GET') {
        action = 'info';
        return send(res, caller, await rooms.roomInfo(caller, room), action);
      }
      if (method === 'DELETE') {
        action = 'delete';
        return send(res, caller, await rooms.deleteRoom(caller, room), action);
      }
      // Without credentials only a join may pass; anything else is 401 before its body is judged.
      if (caller.scheme === 'none' && !isJoin(req.headers['content-type'], body)) throw errors.unauthorized();
      // 4. JSON, 5. action and parameters, 6. participation
      const o = jsonObject(req.headers['content-type'], body);
      const a = o.action;
      action = a === 'join' || a === 'refresh' || a === 'status' || a === 'leave' ? a : 'other';
      const { answer } = await rooms.roomAction(caller, room, o, req.headers['idempotency-key']);
      return send(res, caller, answer, action);
    } catch (err) {
      fail(res, caller, err, action);
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    let path: string;
    let query: URLSearchParams;
    try {
      const u = new URL(req.url ?? '/', 'http://x');
      path = u.pathname;
      query = u.searchParams;
    } catch {
      path = '';
      query = new URLSearchParams();
    }
    if (path !== '/metrics' && path !== base && !path.startsWith(`${base}/`)) return false;
    if (options.accessLog) arrivals.set(res, { method: req.method ?? 'GET', path, at: performance.now() });
    route(req, res, path, query).catch((err) => {
      log(`server: unexpected failure: ${err instanceof Error ? err.name : typeof err}`);
      if (!res.headersSent) fail(res, { scheme: 'none' }, err, 'other');
    });
    return true;
  };

  const retainDays = options.retainDays ?? 90;
  const sweep = async () => {
    try {
      const t = now();
      await store.expireSessions(t);
      if (retainDays > 0) await store.retain(t - retainDays * 86_400_000);
    } catch (err) {
      log(`server: sweep failed: ${err instanceof Error ? err.message : typeof err}`);
    }
  };
  const timer = setInterval(() => void sweep(), options.sweepIntervalMs ?? 30_000);
  timer.unref();

  return {
    handle,
    sweep,
    close: async () => {
      clearInterval(timer);
    },
  };
}

function isJoin(contentType: string | undefined, body: string): boolean {
  try {
    return jsonObject(contentType, body).action === 'join';
  } catch {
    return false;
  }
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw errors.invalid(`Invalid ${name}: an ISO time such as 2026-01-31T12:00:00Z.`);
  return t;
}


export interface ListeningRoomServer {
  http: Server;
  room: RoomServer;
  /** http://host:port */
  origin: string;
  /** origin + basePath: a client's serverUrl when it talks to this process directly. */
  serverUrl: string;
  /** publicUrl + basePath when publicUrl is set: the serverUrl clients use through the proxy. */
  publicServerUrl?: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listen on host:port (port 0 picks one). `fallback` handles what is not the API's (the visualizer);
 * without it such requests are 404 errno 999.
 */
export async function listenRoomServer(
  options: RoomServerOptions & { host?: string; port?: number; fallback?: (req: IncomingMessage, res: ServerResponse) => void },
): Promise<ListeningRoomServer> {
  const room = await createRoomServer(options);
  const http = createServer((req, res) => {
    if (room.handle(req, res)) return;
    if (options.fallback) return options.fallback(req, res);
    const e = errors.notFound();
    res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(e.body());
  });
  // Slow or stuck clients cannot hold sockets for ever.
  http.requestTimeout = 30_000;
  http.headersTimeout = 20_000;
  http.keepAliveTimeout = 65_000;
  http.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 53\r\n\r\n{"code":400,"errno":106,"error":"Malformed request."}');
    else socket.destroy();
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
  return {
    http,
    room,
    origin,
    serverUrl: `${origin}${basePath}`,
    ...(options.publicUrl === undefined ? {} : { publicServerUrl: `${options.publicUrl.replace(/\/+$/, '')}${basePath}` }),
    port,
    close: async () => {
      await room.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
