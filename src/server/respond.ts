// Writing the API's answers: `send` (an answer), `fail` (an error, in the spec's error shape), and `answered`,
// which counts every answer once, in the metrics and in the access log (routes, never paths: accessLog.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessLogEntry } from './accessLog';
import type { Authenticator, Caller } from './auth';
import { ApiError, errors } from './errors';
import type { ServerMetrics } from './metrics';
import type { RequestAction } from './routes';
import { StoreUnavailableError } from './store';

export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The client went away before its request could be answered: nothing to answer, nothing to log as a fault. */
export class ClientGoneError extends Error {
  constructor() {
    super('client went away');
    this.name = 'ClientGoneError';
  }
}

export interface ResponderOptions {
  metrics: ServerMetrics;
  auth: Authenticator;
  retryAfterSeconds: number;
  now: () => number;
  log: (line: string) => void;
  accessLog?: (entry: AccessLogEntry) => void;
}

export class Responder {
  /** Arrival of each request being handled, for the latency histogram and the access log. */
  private readonly arrivals = new WeakMap<ServerResponse, { method: string; route: string; at: number }>();

  constructor(private readonly o: ResponderOptions) {}

  /** Notes a request's arrival and route name (for the access log). */
  arrived(req: IncomingMessage, res: ServerResponse, route: string): void {
    this.arrivals.set(res, { method: req.method ?? 'GET', route, at: performance.now() });
  }

  /** Counts an answer once: in the metrics, and in the access log when there is one. */
  answered(res: ServerResponse, action: RequestAction, status: number, errno?: number): void {
    const arrival = this.arrivals.get(res);
    const ms = arrival ? performance.now() - arrival.at : undefined;
    this.o.metrics.request(action, status, ms === undefined ? undefined : ms / 1000);
    if (!this.o.accessLog || !arrival || ms === undefined) return;
    const entry: AccessLogEntry = {
      time: new Date(this.o.now()).toISOString(),
      method: arrival.method,
      route: arrival.route,
      action,
      status,
      ms: Math.round(ms * 10) / 10,
    };
    if (errno !== undefined) entry.errno = errno;
    this.o.accessLog(entry);
  }

  /**
   * An answer given on the connection before a request was whole (malformed, timed out, CONNECT): counted as
   * `other` and logged with no route (nothing of the request is known to be safe to log) and no duration.
   */
  answeredUnparsed(method: string, status: number, errno: number): void {
    this.o.metrics.request('other', status);
    this.o.accessLog?.({ time: new Date(this.o.now()).toISOString(), method, route: '-', action: 'other', status, errno });
  }

  send(res: ServerResponse, caller: Caller, answer: Answer, action: RequestAction, errno?: number): void {
    this.answered(res, action, answer.status, errno);
    const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const contentType = typeof answer.body === 'string' ? (answer.headers?.['Content-Type'] ?? 'text/plain; charset=utf-8') : 'application/json; charset=utf-8';
    const headers: Record<string, string | number> = { 'Cache-Control': 'no-store', ...(answer.headers ?? {}) };
    if (body) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(body);
    } else if (answer.status !== 204) {
      headers['Content-Length'] = 0;
    }
    const serverAuth = this.o.auth.serverAuthorization(caller, body, contentType);
    if (serverAuth) headers['Server-Authorization'] = serverAuth;
    if (!res.headersSent) {
      res.writeHead(answer.status, headers);
      res.end(body || undefined);
    }
  }

  fail(res: ServerResponse, caller: Caller, err: unknown, action: RequestAction): void {
    if (err instanceof ClientGoneError) return; // nobody to answer; not the server's fault
    let e: ApiError;
    if (err instanceof ApiError) e = err;
    else if (err instanceof StoreUnavailableError) e = errors.unavailable(this.o.retryAfterSeconds);
    else {
      // A bug, not the client's fault; the client may retry. Logged without request data.
      this.o.log(`server: internal error in ${action}: ${err instanceof Error ? `${err.name}: ${err.message}` : typeof err}`);
      e = errors.unavailable(this.o.retryAfterSeconds);
    }
    if (res.headersSent) {
      res.end();
      return this.answered(res, action, res.statusCode);
    }
    this.send(res, caller, { status: e.status, body: e.body(), headers: { 'Content-Type': 'application/json; charset=utf-8', ...e.headers } }, action, e.errno);
  }
}
