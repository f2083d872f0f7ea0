// The kit's own room server on 127.0.0.1 (a random port): one room per case, recording what arrives
// (headers included), checking Basic exactly and Hawk with the hawk package (MAC, payload hash, a fresh
// nonce each time), and answering the case's fault. It judges nothing: judge.ts reads the record.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NonceCache } from '../server/auth';
import { ApiError, ERRNO, errors } from '../server/errors';
import { loadHawk } from '../server/peers';
import { basicAuthorization } from '../transport/basic';
import { RETRY_AFTER_S } from './cases/wire';
import type { ArrivedRequest, AuthScheme, Fault, Stray } from './types';

const MAX_BODY = 64 * 1024;
/** How long a `slow` fault holds each report's answer. */
export const SLOW_MS = 150;
/** Hawk's timestamp window, each way. */
const SKEW_S = 60;

export interface CaseWire {
  serverUrl: string;
  roomToken: string;
  auth: { type: 'basic'; sessionToken: string } | { type: 'hawk'; credentials: { id: string; key: string; algorithm: 'sha256' } };
  requests: ArrivedRequest[];
  /** The step the kit is at (requests are tagged with it). */
  step: number;
  /** performance.now() of the last arrival or answer. */
  lastActivity: number;
  /** When the fault was answered (performance.now()), if it was. */
  faultAnsweredAt?: number;
  /** Resolved each time a request arrives (the runner's quiet wait listens). */
  onActivity?: () => void;
}

interface Room {
  wire: CaseWire;
  scheme: AuthScheme;
  fault?: Fault;
  startedAt: number;
  statusSeen: number;
  stopped: boolean;
}

export interface WireServer {
  url: string;
  open(caseId: string, scheme: AuthScheme, fault?: Fault): CaseWire;
  close(caseWire: CaseWire): void;
  /** Requests whose path names no open room (a stale or wrong URL), kept so the report can name them. */
  strays: Stray[];
  shutdown(): Promise<void>;
}

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Retry-After, WWW-Authenticate' };

const token = () => randomBytes(12).toString('base64url');

export async function startWireServer(): Promise<WireServer> {
  const rooms = new Map<string, Room>();
  const nonces = new NonceCache(2 * SKEW_S * 1000);
  const strays: WireServer['strays'] = [];
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A kit failure must not leave the client waiting: answer, and the case shows the request.
      if (!res.headersSent) json(res, 500, JSON.stringify({ code: 500, errno: 999, error: `conformance kit failure: ${err instanceof Error ? err.message : String(err)}` }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    // A client in a browser page reports from another origin: its preflight is answered, not recorded.
    for (const [h, v] of Object.entries(CORS)) res.setHeader(h, v);
    if (req.method === 'OPTIONS') {
      // Whatever headers the client asks to send (Idempotency-Key, its own): the kit judges requests, not CORS.
      const asked = req.headers['access-control-request-headers'];
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': typeof asked === 'string' && asked ? asked : 'Authorization, Content-Type', 'Access-Control-Max-Age': '600' });
      return void res.end();
    }
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      return void req.socket.destroy();
    }
    const url = req.url ?? '';
    const m = /^\/v1\/rooms\/([\w-]+)$/.exec(url);
    const room = m ? rooms.get(m[1]) : undefined;
    if (!room) {
      // A wrong path that still names a case's room token (no /v1, /room/): recorded for that case.
      const owner = [...rooms.values()].find((r) => url.includes(r.wire.roomToken));
      if (owner) return record(owner, req, body, arrivedAt, undefined)(404, () => send(res, errors.roomNotFound()));
      strays.push({ method: req.method ?? '', path: url.replace(/\/rooms?\/[^/?]+/, (p) => p.replace(/[^/]+$/, '…')), at: new Date().toISOString() });
      return send(res, errors.roomNotFound());
    }
    const w = room.wire;
    const problem = await authProblem(room, req, body);
    const finish = record(room, req, body, arrivedAt, problem);
    let action: unknown;
    try {
      action = (JSON.parse(body) as { action?: unknown }).action;
    } catch {
      action = undefined;
    }
    if (req.method !== 'POST') return finish(405, () => send(res, errors.methodNotAllowed('POST')));
    if (problem) return finish(401, () => send(res, errors.unauthorized()));
    // After a final answer the session is over: later requests get the same answer (and are a divergence).
    if (room.stopped) return finish(room.fault!.answer as number, () => send(res, faultError(room.fault!.answer as number)));
    if (action === 'status') {
      room.statusSeen++;
      const f = room.fault;
      if (f?.answer === 'slow') await new Promise((r) => setTimeout(r, SLOW_MS));
      else if (f && room.statusSeen === f.report) {
        w.faultAnsweredAt = performance.now();
        if (f.answer === 'drop') return finish(0, () => req.socket.destroy());
        if (f.answer === 401 || f.answer === 404 || f.answer === 410) room.stopped = true;
        return finish(f.answer, () => send(res, faultError(f.answer as number)));
      }
      return finish(204, () => noContent(res));
    }
    if (action === 'leave') return finish(204, () => noContent(res));
    if (action === 'refresh') return finish(200, () => json(res, 200, '{"expires":3600}'));
    return finish(400, () => send(res, errors.invalid('Invalid action.')));
  }

  /** Records an arrival for the room's case; the function returned answers it and records the answer. */
  function record(room: Room, req: IncomingMessage, body: string, arrivedAt: number, problem: string | undefined) {
    const w = room.wire;
    const entry: ArrivedRequest = {
      at: Math.round(arrivedAt - room.startedAt),
      method: req.method ?? '',
      path: req.url ?? '',
      headers: flatHeaders(req),
      body,
      step: w.step,
      answer: 0,
      answeredAt: 0,
      ...(problem ? { authProblem: problem } : {}),
    };
    w.requests.push(entry);
    w.lastActivity = performance.now();
    w.onActivity?.();
    return (status: number, answer: () => void) => {
      entry.answer = status;
      entry.answeredAt = Math.round(performance.now() - room.startedAt);
      w.lastActivity = performance.now();
      answer();
    };
  }

  async function authProblem(room: Room, req: IncomingMessage, body: string): Promise<string | undefined> {
    const header = req.headers.authorization;
    if (header === undefined) return 'no Authorization header';
    const w = room.wire;
    if (w.auth.type === 'basic') {
      const want = basicAuthorization(w.auth.sessionToken);
      if (header === want) return undefined;
      if (!/^Basic /.test(header)) return `expected Basic authorization, got scheme '${header.split(' ')[0]}'`;
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      if (decoded === w.auth.sessionToken) return 'Basic without the colon: base64(sessionToken + ":") expected, got base64(sessionToken)';
      return `Basic credentials are not base64(sessionToken + ":")`;
    }
    if (!/^Hawk /.test(header)) return `expected Hawk authorization, got scheme '${header.split(' ')[0]}'`;
    const host = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(req.headers.host ?? '');
    if (!host) return 'no Host header to check the Hawk MAC against';
    const creds = w.auth.credentials;
    let reused = false;
    try {
      await loadHawk().server.authenticate(
        { method: req.method ?? 'POST', url: req.url ?? '/', host: host[1].toLowerCase(), port: host[2] ? Number(host[2]) : 80, authorization: header, contentType: req.headers['content-type'] ?? '' } as never,
        async (id) => (id === creds.id ? { key: creds.key, algorithm: creds.algorithm } : null),
        {
          // Always the payload: a Hawk request without a payload hash is refused ("Missing required payload hash").
          payload: body,
          timestampSkewSec: SKEW_S,
          // A nonce is fresh once per credentials within the window, whatever the timestamp: "a fresh nonce each time".
          nonceFunc: (_key, nonce) => {
            if (!nonces.claim(`${creds.id}|${nonce}`, Date.now())) {
              reused = true;
              throw new Error('replayed nonce');
            }
          },
        },
      );
      return undefined;
    } catch (err) {
      if (reused) return 'Hawk nonce reused (every request must be signed afresh)';
      const text = (err as { output?: { payload?: { message?: string } } }).output?.payload?.message ?? (err as Error).message;
      return `Hawk authorization refused: ${text}`;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return {
    url,
    strays,
    open(caseId, scheme, fault) {
      const roomToken = token();
      const wire: CaseWire = {
        serverUrl: url,
        roomToken,
        auth: scheme === 'basic' ? { type: 'basic', sessionToken: token() } : { type: 'hawk', credentials: { id: `${caseId.replace(/[^\w-]/g, '-')}-${token()}`, key: token() + token(), algorithm: 'sha256' } },
        requests: [],
        step: 0,
        lastActivity: performance.now(),
      };
      rooms.set(roomToken, { wire, scheme, ...(fault ? { fault } : {}), startedAt: performance.now(), statusSeen: 0, stopped: false });
      return wire;
    },
    close(wire) {
      rooms.delete(wire.roomToken);
    },
    async shutdown() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function faultError(status: number): ApiError {
  switch (status) {
    case 503:
      return errors.unavailable(RETRY_AFTER_S);
    case 429:
      return new ApiError(429, ERRNO.backend, 'Too many requests.', { 'Retry-After': String(RETRY_AFTER_S) });
    case 400:
      return errors.invalid('Rejected by the conformance kit (a 400 the client must drop).');
    case 401:
      return errors.unauthorized();
    case 404:
      return errors.roomNotFound();
    default:
      return errors.expired();
  }
}

function send(res: ServerResponse, e: ApiError): void {
  json(res, e.status, e.body(), e.headers);
}

function json(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function noContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) out[req.rawHeaders[i]] = req.rawHeaders[i + 1];
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new Error('too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
