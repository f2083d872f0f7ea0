/**
 * A real room server for tests: `node:http` on 127.0.0.1, a port chosen at run time, answering
 * `POST /v1/rooms/{roomToken}` as the reference Loop server of the time did (spec section 1), with
 * fault injection. Nothing in it is mocked: clients talk to it over a real loopback socket.
 *
 * API (kept stable: other suites drive it too)
 *
 *   const server = await startRoomServer({ faults?, roomToken?, sessionToken?, hawk?, port?, pages?, expires? });
 *   server.serverUrl      'http://127.0.0.1:PORT/v1'  -> createRoomSession({ serverUrl })
 *   server.url            same as serverUrl
 *   server.roomToken      the one room this server knows (others answer 404, errno 105)
 *   server.sessionToken   the Basic credential it accepts  -> auth: { type: 'basic', sessionToken }
 *   server.hawk           the Hawk credentials it accepts   -> auth: { type: 'hawk', credentials }
 *   server.received       every request, in arrival order (ReceivedRequest below), faulted ones included;
 *                         each with its headers and its Idempotency-Key (idempotencyKey)
 *   server.delivered()    the requests answered 2xx to a client still listening: what the room "got"
 *   server.statusBodies() the bodies of delivered status reports, in order
 *   server.waitFor(pred, timeoutMs?)   resolves once pred(server) holds (polls; rejects on timeout)
 *   server.setFaults(f)   replace the fault rules at run time
 *   server.setExpires(s)  what later refreshes answer as `expires` (seconds)
 *   server.down()         close the listener and every open socket (the server "crashes")
 *   server.up()           listen again on the same port (received is kept)
 *   server.close()        shut down for good
 *
 * Authorization: Basic `base64(sessionToken + ":")`, or Hawk checked by the `hawk` library's own
 * `server.authenticate` with payload verification and a nonce-replay check (a real verifier).
 * Bad or missing auth: 401 errno 110 with `WWW-Authenticate: Basic,Hawk`.
 * Refresh answers 200 `{expires}` (option `expires`, default 300 s; `setExpires` changes it), and 410
 * errno 111 once that participant has left.
 * Body checks as the reference server: missing action 400/108, unknown action 400/107, missing field
 * 400/107 "'x' field is missing in body.", bad counter 400/107 "Invalid x number.", a status after
 * that participant left 400/203. Deviations the reference server tolerated (extra fields, wrong
 * Content-Type) are answered normally but listed in `problems` so tests can assert there are none.
 *
 * Faults: an ordered list of rules, or a function. For each request the first rule whose `when`
 * matches (default: every request) and whose `times` is not used up decides the fault:
 *   { status: 503, errno?, retryAfter? }  answer that status with the reference JSON error body
 *   { reset: true }                       destroy the socket without answering (connection reset)
 *   { delayMs: N }                        answer normally after N ms (if the client is still there)
 *   { hang: true }                        never answer (the client's timeout must fire)
 * A request answered by a fault is not applied to the room.
 *
 * Pages: `pages: { '/': { type: 'text/html', body } }` are served on GET (not recorded), so a browser
 * test can load a client from the same origin as the room (no CORS in the way).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
// The hawk package ships no types; its server API is documented in node_modules/hawk/lib/server.js.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Hawk = require('hawk') as { server: { authenticate(req: unknown, credentialsFunc: (id: string) => unknown, options: unknown): Promise<unknown> } };

export type Fault =
  | { status: number; errno?: number; retryAfter?: string }
  | { reset: true }
  | { delayMs: number }
  | { hang: true };

export interface FaultRule {
  /** Which requests this rule applies to (default: all). */
  when?: (request: ReceivedRequest) => boolean;
  /** How many matching requests it faults (default: unlimited). */
  times?: number;
  fault: Fault;
}
export type FaultFn = (request: ReceivedRequest) => Fault | undefined;

export interface HawkCredentials {
  id: string;
  key: string;
  algorithm: 'sha256' | 'sha1';
}

export interface RoomServerOptions {
  faults?: FaultRule[] | FaultFn;
  roomToken?: string;
  sessionToken?: string;
  hawk?: HawkCredentials;
  /** Listen on this port (default: one chosen by the OS). */
  port?: number;
  /** Static files served on GET, by path (not recorded in `received`). */
  pages?: Record<string, { type: string; body: string }>;
  /** What a refresh answers as `expires`, in seconds (default 300, as loop-server). */
  expires?: number;
}

export interface ReceivedRequest {
  /** 0-based arrival index. */
  index: number;
  /** Arrival time (Date.now()), when the body had been read. */
  at: number;
  method: string;
  /** Path and query as sent, e.g. /v1/rooms/QzBbvGmIZWU */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The Idempotency-Key header as sent (quotes included), when there was one. */
  idempotencyKey?: string;
  rawBody: string;
  /** The parsed JSON body, or undefined when it did not parse. */
  body: unknown;
  /** 'basic' | 'hawk' when the Authorization verified, else null. */
  auth: 'basic' | 'hawk' | null;
  /** Why auth failed, when it did. */
  authFailure?: string;
  /** What the server did: the status it answered, 'reset', 'hang', or 'aborted' (client gone before the answer). */
  outcome: number | 'reset' | 'hang' | 'aborted' | 'pending';
  /** The fault applied, if any. */
  fault?: Fault;
  /** Wire-format deviations the reference server tolerated. */
  problems: string[];
}

export interface RoomServer {
  url: string;
  serverUrl: string;
  port: number;
  roomToken: string;
  sessionToken: string;
  hawk: HawkCredentials;
  received: ReceivedRequest[];
  delivered(): ReceivedRequest[];
  statusBodies(): unknown[];
  waitFor(predicate: (server: RoomServer) => boolean, timeoutMs?: number): Promise<void>;
  setFaults(faults: FaultRule[] | FaultFn | undefined): void;
  /** Change what later refreshes answer as `expires` (seconds). */
  setExpires(seconds: number): void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

const STATUS_FIELDS = ['event', 'state', 'connections', 'sendStreams', 'recvStreams'] as const;
const COUNTER_FIELDS = ['connections', 'sendStreams', 'recvStreams'] as const;
const ACTIONS = ['join', 'refresh', 'status', 'leave', 'logDomain'];

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export async function startRoomServer(options: RoomServerOptions = {}): Promise<RoomServer> {
  const roomToken = options.roomToken ?? token(8);
  const sessionToken = options.sessionToken ?? token(24);
  const hawk: HawkCredentials = options.hawk ?? { id: token(16), key: token(32), algorithm: 'sha256' };
  const received: ReceivedRequest[] = [];
  let refreshExpires = options.expires ?? 300;
  const seenNonces = new Set<string>();
  const left = new Set<string>(); // participants (by auth identity) that have left
  const sockets = new Set<Socket>();
  let rules: { rule: FaultRule; used: number }[] | FaultFn | undefined;
  const setFaults = (f: FaultRule[] | FaultFn | undefined) => {
    rules = Array.isArray(f) ? f.map((rule) => ({ rule, used: 0 })) : f;
  };
  setFaults(options.faults);

  const pickFault = (request: ReceivedRequest): Fault | undefined => {
    if (typeof rules === 'function') return rules(request);
    for (const r of rules ?? []) {
      if (r.used >= (r.rule.times ?? Infinity)) continue;
      if (r.rule.when && !r.rule.when(request)) continue;
      r.used++;
      return r.rule.fault;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const page = req.method === 'GET' ? options.pages?.[req.url ?? ''] : undefined;
    if (page) {
      res.writeHead(200, { 'Content-Type': page.type }).end(page.body);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    const request: ReceivedRequest = {
      index: received.length,
      at: Date.now(),
      method: req.method ?? '',
      path: req.url ?? '',
      headers: { ...req.headers },
      ...(typeof req.headers['idempotency-key'] === 'string' ? { idempotencyKey: req.headers['idempotency-key'] } : {}),
      rawBody,
      body,
      auth: null,
      outcome: 'pending',
      problems: [],
    };
    received.push(request);
    let clientGone = false;
    res.on('close', () => {
      if (!res.writableFinished) clientGone = true;
    });

    const fault = pickFault(request);
    if (fault) request.fault = fault;
    if (fault && 'reset' in fault) {
      request.outcome = 'reset';
      req.socket.destroy();
      return;
    }
    if (fault && 'hang' in fault) {
      request.outcome = 'hang';
      return;
    }
    if (fault && 'delayMs' in fault) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (clientGone || res.destroyed) {
      request.outcome = 'aborted';
      return;
    }
    if (fault && 'status' in fault) {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['Retry-After'] = fault.retryAfter;
      answer(request, res, fault.status, fault.errno ?? (fault.status >= 500 ? 201 : 999), `injected ${fault.status}`, headers);
      return;
    }
    await serve(request, req, res);
  };

  const serve = async (request: ReceivedRequest, req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/v1\/rooms\/([^/?]+)$/.exec(request.path);
    if (request.method !== 'POST' || !match) return answer(request, res, 404, 999, 'Not found.');
    const identity = await authenticate(request, req);
    if (!identity) return answer(request, res, 401, 110, 'Unauthorized', { 'WWW-Authenticate': 'Basic,Hawk' });
    if (match[1] !== roomToken) return answer(request, res, 404, 105, 'Token not found.');
    if (!/^application\/json(\s*;.*)?$/i.test(String(request.headers['content-type'] ?? ''))) request.problems.push(`content-type ${request.headers['content-type']}`);
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return answer(request, res, 400, 108, "'action' field is missing in body.");
    const fields = body as Record<string, unknown>;
    if (fields.action === undefined) return answer(request, res, 400, 108, "'action' field is missing in body.");
    if (!ACTIONS.includes(String(fields.action))) return answer(request, res, 400, 107, 'action should be one of join, refresh, status, leave, logDomain');
    if (fields.action === 'leave') {
      const extra = Object.keys(fields).filter((k) => k !== 'action' && k !== 'sessionToken');
      if (extra.length) request.problems.push(`leave: unexpected fields ${extra.join(',')}`);
      left.add(identity);
      return answer(request, res, 204);
    }
    if (fields.action === 'refresh') {
      const extra = Object.keys(fields).filter((k) => k !== 'action');
      if (extra.length) request.problems.push(`refresh: unexpected fields ${extra.join(',')}`);
      // An ended participation cannot be refreshed (room-server spec: 410 errno 111).
      if (left.has(identity)) return answer(request, res, 410, 111, 'Participation has expired.');
      return answer(request, res, 200, undefined, undefined, {}, { expires: refreshExpires });
    }
    if (fields.action !== 'status') return answer(request, res, 400, 107, `action ${fields.action} is not served by this test server`);
    for (const f of STATUS_FIELDS) if (fields[f] === undefined) return answer(request, res, 400, 107, `'${f}' field is missing in body.`);
    for (const f of COUNTER_FIELDS) {
      const v = fields[f];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return answer(request, res, 400, 107, `Invalid ${f} number.`);
    }
    const extra = Object.keys(fields).filter((k) => k !== 'action' && !(STATUS_FIELDS as readonly string[]).includes(k));
    if (extra.length) request.problems.push(`status: unexpected fields ${extra.join(',')}`);
    if (left.has(identity)) return answer(request, res, 400, 203, "Can't update status for a room you aren't in.");
    return answer(request, res, 204);
  };

  /** The participant's identity when the Authorization verifies, else null (reason kept on the request). */
  const authenticate = async (request: ReceivedRequest, req: IncomingMessage): Promise<string | null> => {
    const header = String(request.headers.authorization ?? '');
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      if (decoded === `${sessionToken}:`) {
        request.auth = 'basic';
        return `basic:${sessionToken}`;
      }
      request.authFailure = 'basic: wrong session token';
      return null;
    }
    if (header.startsWith('Hawk ')) {
      try {
        await Hawk.server.authenticate(req, (id: string) => (id === hawk.id ? hawk : null), {
          payload: request.rawBody,
          nonceFunc: async (_key: string, nonce: string, ts: string) => {
            if (seenNonces.has(`${ts}:${nonce}`)) throw new Error('replayed nonce');
            seenNonces.add(`${ts}:${nonce}`);
          },
        });
        request.auth = 'hawk';
        return `hawk:${hawk.id}`;
      } catch (err) {
        request.authFailure = `hawk: ${(err as Error).message}`;
        return null;
      }
    }
    request.authFailure = header ? 'unknown scheme' : 'missing';
    return null;
  };

  const answer = (request: ReceivedRequest, res: ServerResponse, status: number, errno?: number, error?: string, headers: Record<string, string> = {}, json?: object) => {
    request.outcome = status;
    if (status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(json ?? { code: status, errno, error }));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const port = await listen(options.port ?? 0);
  const down = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const serverUrl = `http://127.0.0.1:${port}/v1`;
  const self: RoomServer = {
    url: serverUrl,
    serverUrl,
    port,
    roomToken,
    sessionToken,
    hawk,
    received,
    delivered: () => received.filter((r) => typeof r.outcome === 'number' && r.outcome >= 200 && r.outcome < 300),
    statusBodies: () => self.delivered().filter((r) => (r.body as { action?: unknown })?.action === 'status').map((r) => r.body),
    waitFor: async (predicate, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(self)) {
        if (Date.now() > deadline) throw new Error(`room server: condition not met within ${timeoutMs} ms (${received.length} requests received)`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    setFaults,
    setExpires: (seconds) => {
      refreshExpires = seconds;
    },
    down,
    up: async () => {
      if (!server.listening) await listen(port);
    },
    close: down,
  };
  return self;
}
