// The room server's HTTP side: the route table's handlers (routes.ts), the order of checks (server spec section 1),
// admin-only routes, and the periodic expiry and retention sweep. node:http; no framework.
import type { Duplex } from 'node:stream';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Authenticator, NonceCache, publicHostOf, type Caller } from './auth';
import { readBody, MAX_BODY_BYTES } from './body';
import { CorsPolicy } from './cors';
import { answerError, ApiError, errors } from './errors';
import { ServerMetrics } from './metrics';
import { loadHawk } from './peers';
import { sessionReportsShape } from './reportShape';
import { Responder } from './respond';
import { Rooms } from './rooms';
import { clientAddress, HostPolicy, isLoopbackAddress, normalize } from './exposure';
import { DEFAULT_LIMITS, NO_LIMITS, tooManyRequests, WindowCounter, type Limits } from './limits';
import { apiRoutes, compileRoutes, matchRoute, routeName, type Match, type Method, type RouteRequest } from './routes';
import { Hmacs, randomHex, sameSecret } from './secrets';
import type { Store } from './store';
import { openTrafficStream, trafficQuery, trafficSnapshot } from './traffic';
import { jsonObject, timeRange } from './validate';
import type { AccessLogEntry } from './accessLog';
import { healthHandler } from './health';
import { trackRequests } from './shutdown';
import { DEFAULT_MINUTE_ROLLUPS_DAYS } from './store/common/fold';

/** Fold steps (ten minutes of minute rows each) one sweep takes at most: a year of backlog folds in about 3 hours of 30 s sweeps. */
const FOLD_STEPS_PER_SWEEP = 144;

export interface RoomServerOptions {
  store: Store;
  /** Path prefix of the API (default '/v1'). */
  basePath?: string;
  /** Refuse non-conformant reports (400 errno 107) instead of storing them with their verdict. */
  strict?: boolean;
  /**
   * When set, admin data (/metrics, /v1/stats, /v1/traffic*, /v1/sessions/*) needs `Authorization: Bearer <token>`.
   * Without one, admin data answers only callers on this machine that name one of the server's hosts in Host.
   */
  adminToken?: string;
  /** The address listened on (listenRoomServer sets it): a Host naming it is one of the server's own. Default 127.0.0.1. */
  host?: string;
  /** Addresses of reverse proxies whose X-Forwarded-For names the client (limits, admin exposure). Default none. */
  trustedProxies?: readonly string[];
  /** Per-client limits (limits.ts); 'off' turns them all off. Default DEFAULT_LIMITS. */
  limits?: Partial<Limits> | 'off';
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
  /**
   * Keep the rollups' minute rows this many days (default 7); older windows are read by the hour, whose rows (like the
   * all-time totals) are kept. 0 keeps the minutes too.
   */
  minuteRollupsDays?: number;
  /** How often expired sessions are ended and retention runs (default 30 s). */
  sweepIntervalMs?: number;
  /** HMAC key for tokens and ids (serve: LOOP_ROOM_STATE_SECRET); default: the one stored in the database (made on first start). */
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
  /** Counts and logs an answer the connection got before its request was whole (see Responder). */
  answeredUnparsed(method: string, status: number, errno: number): void;
  /** The store refuses writes though it answers reads (the last write was 503, within a minute). */
  writesFailing(): boolean;
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
  const secret = options.secret ?? (await store.serverSecret(randomHex(32)));
  const hmacs = new Hmacs(secret);
  const skewSec = options.hawkSkewSec ?? 60;
  if (!store.claimHawkNonce) log('server: this store cannot share Hawk nonces; replays are refused per process only');
  const auth = new Authenticator({ store, hmacs, hawk: () => hawkModule, skewSec, nonces: new NonceCache(2 * skewSec * 1000), publicHost, now, log });
  const hosts = new HostPolicy(options.host ?? '127.0.0.1', options.publicUrl);
  const trustedProxies = new Set((options.trustedProxies ?? []).map(normalize));
  const limits: Limits = options.limits === 'off' ? NO_LIMITS : { ...DEFAULT_LIMITS, ...(options.limits ?? {}) };
  const registrations = new WindowCounter(limits.registrationsPerMinute, 60_000);
  const rooms = new Rooms({
    store,
    hmacs,
    strict: options.strict ?? false,
    participantTtlMs: options.participantTtlMs ?? 300_000,
    maxRoomSize: options.maxRoomSize ?? 5,
    roomExpiryHours: options.roomExpiryHours ?? { default: 720, max: 720 },
    webAppUrl: options.webAppUrl ?? 'http://localhost:3000/',
    media: options.media,
    limits,
    now,
  });
  const adminToken = options.adminToken;
  const responder = new Responder({ metrics, auth, retryAfterSeconds: retryAfter, now, log, accessLog: options.accessLog });
  const cors = new CorsPolicy(options.corsOrigins);
  const none: Caller = { scheme: 'none' };

  // Admin data (spec section 7): the admin token when there is one; else only this machine, naming our own host
  // (a page that rebinds its DNS name to 127.0.0.1 still sends its own name in Host).
  const admin = (req: IncomingMessage) => {
    if (!adminToken) {
      if (!isLoopbackAddress(clientAddress(req, trustedProxies)) || !hosts.ownHost(req)) throw errors.adminLocalOnly();
      return;
    }
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/i.exec(h);
    if (!m || !sameSecret(m[1], adminToken)) throw errors.unauthorized('Bearer');
  };

  /** The body of a POST (or any request of the rooms API), read first: its size is the first check (spec section 1). */
  const body = async (r: RouteRequest) => {
    const b = await readBody(r.req, MAX_BODY_BYTES);
    if (b instanceof ApiError) {
      r.res.setHeader('Connection', 'close');
      throw b;
    }
    return b;
  };

  /** One session's stored reports, as export prints them or for the traffic replay. */
  const sessionReports = (form: 'export' | 'replay') => async (r: RouteRequest) => {
    const session = await store.getSession(r.params.id);
    if (!session) throw errors.notFound();
    const reports = await store.sessionReports(session.id);
    // The room's id, never its token: a token lets anyone join the room (spec section 3).
    responder.send(r.res, none, { status: 200, body: sessionReportsShape(session, reports, form, hmacs.roomId(session.room)) }, r.action);
  };

  const routes = compileRoutes(
    apiRoutes({
      metrics: async (r) => {
        const text = await metrics.render();
        responder.send(r.res, none, { status: 200, body: text, headers: { 'Content-Type': metrics.contentType() } }, r.action);
      },
      stats: async (r) => {
        responder.send(r.res, none, { status: 200, body: await store.stats(timeRange(r.query)) }, r.action);
      },
      traffic: async (r) => {
        const query = trafficQuery(r.query);
        responder.send(r.res, none, { status: 200, body: await trafficSnapshot(store, query, now()) }, r.action);
      },
      trafficStream: async (r) => {
        openTrafficStream(store, r.res, trafficQuery(r.query), cors.headers(r.req), now);
        responder.answered(r.res, r.action, 200);
      },
      trafficSession: sessionReports('replay'),
      sessionReports: sessionReports('export'),
      registration: async (r) => {
        const b = await body(r);
        r.caller = await auth.authenticate(r.req, b);
        if (r.caller.scheme === 'none') {
          const wait = registrations.hit(clientAddress(r.req, trustedProxies), now());
          if (wait > 0) throw tooManyRequests(wait / 1000);
        }
        responder.send(r.res, r.caller, await rooms.registration(r.caller), r.action);
      },
      createRoom: async (r) => {
        const b = await body(r);
        r.caller = await auth.authenticate(r.req, b);
        if (r.caller.scheme !== 'hawk') throw errors.unauthorized();
        responder.send(r.res, r.caller, await rooms.createRoom(r.caller, jsonObject(r.req.headers['content-type'], b)), r.action);
      },
      room: async (r) => {
        // The order of checks (spec section 1): 1. body size, 2. room token, 3. credentials, 4. JSON,
        // 5. action and parameters, 6. participation.
        const b = await body(r);
        const room = await rooms.room(r.params.token);
        // A POST's Hawk nonce is claimed in its unit of work's commit (status, refresh, leave), else settled below.
        r.caller = await auth.authenticate(r.req, b, { deferNonce: r.method === 'POST' });
        if (r.method === 'GET') {
          r.action = 'info';
          return responder.send(r.res, r.caller, await rooms.roomInfo(r.caller, room), r.action);
        }
        if (r.method === 'DELETE') {
          r.action = 'delete';
          return responder.send(r.res, r.caller, await rooms.deleteRoom(r.caller, room), r.action);
        }
        // Without credentials only a join may pass; anything else is 401 before its body is judged.
        if (r.caller.scheme === 'none' && !isJoin(r.req.headers['content-type'], b)) throw errors.unauthorized();
        const caller = r.caller;
        const outcome = await (async () => {
          const o = jsonObject(r.req.headers['content-type'], b);
          const a = o.action;
          r.action = a === 'join' || a === 'refresh' || a === 'status' || a === 'leave' ? a : 'other';
          // A join writes through no unit of work that takes the nonce: it is claimed first.
          if (r.action !== 'status' && r.action !== 'refresh' && r.action !== 'leave') await auth.settleNonce(caller);
          return (await rooms.roomAction(caller, room, o, r.req.headers['idempotency-key'])).answer;
        })().then(
          (answer) => ({ answer }),
          (failure: unknown) => ({ failure }),
        );
        // Nothing was written if no unit claimed the nonce (a refusal, bad input): claimed now, a replay is 401.
        await auth.settleNonce(caller, 'failure' in outcome ? outcome.failure : undefined);
        if ('failure' in outcome) throw outcome.failure;
        responder.send(r.res, caller, outcome.answer, r.action);
      },
    }),
    base,
  );

  async function dispatch(req: IncomingMessage, res: ServerResponse, match: Match, query: URLSearchParams, outside: boolean): Promise<void> {
    // HEAD is GET without the body (RFC 9110 9.3.2; Node leaves the body out of a HEAD's answer).
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const r: RouteRequest = { req, res, method: method as Method, params: match?.params ?? {}, query, action: 'other', caller: none };
    try {
      for (const [name, value] of Object.entries(cors.headers(req))) res.setHeader(name, value);
      if (!match) throw outside ? errors.outsideTheApi(base) : errors.notFound();
      const { route } = match;
      if (method === 'OPTIONS' && cors.allows(req)) {
        // A preflight from an allowed origin: the route's methods, and the headers a client sends.
        return responder.send(res, none, { status: 204, headers: cors.preflight(req, route.methods) }, 'other');
      }
      if (!(route.methods as readonly string[]).includes(method)) throw errors.methodNotAllowed([...route.methods, ...(route.methods.includes('GET') ? ['HEAD'] : [])].join(', '));
      r.action = route.action;
      if (route.admin) admin(req);
      await route.handler(r);
    } catch (err) {
      responder.fail(res, r.caller, err, r.action);
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    // Paths are matched as sent, in canonical form only (spec section 7): a proxy rule on /v1/stats cannot be
    // walked around with /v1/./stats, /v1\stats, //v1/stats or %2e%2e. Non-canonical paths are the API's 404.
    const canonical = isCanonicalPath(path);
    const outside = canonical && path !== '/metrics' && path !== base && !path.startsWith(`${base}/`);
    // The page takes GET and HEAD; anything else outside the API is a client without the base path (a Loop client
    // set to /v0 or to the root): a JSON error that says where the API is, as every other error answer.
    if (outside && (req.method === 'GET' || req.method === 'HEAD')) return false;
    const match = canonical && !outside ? matchRoute(routes, path) : undefined;
    responder.arrived(req, res, routeName(match, base));
    dispatch(req, res, match, query, outside).catch((err) => {
      log(`server: unexpected failure: ${err instanceof Error ? err.name : typeof err}`);
      if (!res.headersSent) responder.fail(res, none, err, 'other');
    });
    return true;
  };

  const retainDays = options.retainDays ?? 90;
  const minuteDays = options.minuteRollupsDays ?? DEFAULT_MINUTE_ROLLUPS_DAYS;
  // Sweeps run one after another; a tick that finds one running (retention catching up, in steps) skips.
  let sweeps: Promise<void> = Promise.resolve();
  let ticking = false;
  const sweep = () => (sweeps = sweeps.then(sweepOnce));
  const sweepOnce = async () => {
    try {
      const t = now();
      await store.expireSessions(t);
      if (retainDays > 0) {
        const gone = await store.retain(t - retainDays * 86_400_000);
        // Operators see what retention deleted (counts and totals are kept: docs/server.md).
        if (gone.reports + gone.sessions + gone.rooms + gone.hawkSessions > 0) {
          log(`server: retention (${retainDays} days) deleted ${gone.reports} report(s), ${gone.sessions} session(s), ${gone.rooms} room(s), ${gone.hawkSessions} Hawk session(s)`);
        }
      }
      // A step at a time (each its own short write), at most a day of minutes per sweep.
      if (minuteDays > 0) for (let i = 0; i < FOLD_STEPS_PER_SWEEP && (await store.foldRollups(t - minuteDays * 86_400_000, t)); i++);
    } catch (err) {
      log(`server: sweep failed: ${err instanceof Error ? err.message : typeof err}`);
    }
  };
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void sweep().finally(() => (ticking = false));
  }, options.sweepIntervalMs ?? 30_000);
  timer.unref();

  return {
    handle,
    sweep,
    writesFailing: () => metrics.writesFailing(),
    answeredUnparsed: (method: string, status: number, errno: number) => responder.answeredUnparsed(method, status, errno),
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

/** No empty, `.` or `..` segment, no backslash, no percent-encoded unreserved character or separator; starts with /. */
export function isCanonicalPath(path: string): boolean {
  if (!path.startsWith('/') || path.includes('\\')) return false;
  const segments = path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s === '.' || s === '..' || (s === '' && i < segments.length - 1)) return false;
  }
  // %2F %5C (separators) and %41 .. (unreserved: letters, digits, - . _ ~) have a plain spelling: refused encoded.
  return !/%(2[dDeEfF]|5[cCfF]|7[eE]|3[0-9]|[46][1-9a-fA-F]|[57][0-9aA])/.test(path);
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
  /**
   * Stop accepting, answer every request already received (bodies still arriving included), then close
   * (server spec section 8). What is still running after `graceMs` (default: the listen option) is cut.
   */
  close(graceMs?: number): Promise<void>;
  /** Cut every connection now (a second interrupt while draining). */
  cutNow(): void;
}

/**
 * Listen on host:port (port 0 picks one). `fallback` handles what is not the API's (the visualizer);
 * without it such requests are 404 errno 999.
 */
export async function listenRoomServer(
  options: RoomServerOptions & {
    port?: number;
    fallback?: (req: IncomingMessage, res: ServerResponse) => void;
    /** Time a client has to send a whole request, headers and body (default 30 s; then 408 and the connection closes). */
    requestTimeoutMs?: number;
    shutdownGraceMs?: number;
  },
): Promise<ListeningRoomServer> {
  const host = options.host ?? '127.0.0.1';
  const room = await createRoomServer({ ...options, host });
  // Read after createRoomServer, whose first store call found the store migrated: this is the current schema.
  const schemaVersion = await options.store.schemaVersion();
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // Node checks request timeouts every connectionsCheckingInterval (30 s by default, so a 30 s limit acted at up to
  // ~60 s): checked often enough here that the limit is the documented one.
  const http = createServer({ requestTimeout, headersTimeout: Math.min(20_000, requestTimeout), connectionsCheckingInterval: Math.max(10, Math.min(1_000, requestTimeout / 4)) }, (req, res) => {
    if (health(req, res)) return;
    if (room.handle(req, res)) return;
    if (options.fallback) return options.fallback(req, res);
    answerError(res, errors.notFound());
  });
  const drain = trackRequests(http);
  const health = healthHandler({ store: options.store, schemaVersion, draining: () => drain.draining, writesFailing: () => room.writesFailing(), retryAfterSeconds: options.retryAfterSeconds });
  // Slow or stuck clients cannot hold sockets for ever.
  http.keepAliveTimeout = 65_000;
  http.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_HEADERS_TIMEOUT';
    if (!socket.writable) return socket.destroy();
    const answer = timedOut ? errors.requestTimeout() : err.code === 'HPE_HEADER_OVERFLOW' ? errors.headersTooLarge() : errors.malformedRequest();
    room.answeredUnparsed('-', answer.status, answer.errno);
    socket.end(answer.rawResponse());
  });
  // CONNECT (a proxy's tunnel) is no method of this API: answered, not dropped.
  http.on('connect', (_req, socket: Duplex) => {
    const answer = errors.methodNotAllowed('GET, POST, DELETE');
    room.answeredUnparsed('CONNECT', answer.status, answer.errno);
    socket.end(answer.rawResponse());
  });
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
    close: async (graceMs?: number) => {
      const { cut } = await drain.stop(graceMs ?? options.shutdownGraceMs ?? 10_000);
      if (cut > 0) options.log?.(`server: ${cut} request(s) still running after the grace period were cut`);
      await room.close();
    },
    cutNow: () => drain.cutNow(),
  };
}
