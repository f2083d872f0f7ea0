// GET /health and GET /ready (server spec section 8), for load balancers and orchestrators: small bodies, no
// auth, any Host (HAProxy's default check sends none), outside the per-client limits. They are answered before
// anything else looks at the request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RoomStore } from './store';

export interface HealthOptions {
  store: RoomStore;
  /** The schema version this code migrated the store to at startup: the current one. */
  schemaVersion: number;
  /** True while the process drains for a stop: not ready for new work. */
  draining: () => boolean;
  /** True while the store refuses writes though it answers reads (ServerMetrics.writesFailing). */
  writesFailing?: () => boolean;
  /** How long /ready waits for the store (default 2000 ms). */
  timeoutMs?: number;
  retryAfterSeconds?: number;
}

export type ReadyState = { ready: true } | { ready: false; reason: 'store unavailable' | 'schema changed' | 'shutting down' };

/** Whether this process should get new work: the store answers, its schema is still ours, not stopping. */
export async function readiness(options: HealthOptions): Promise<ReadyState> {
  if (options.draining()) return { ready: false, reason: 'shutting down' };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs ?? 2000);
  });
  try {
    const version = await Promise.race([options.store.schemaVersion(), timeout]);
    if (version === 'timeout') return { ready: false, reason: 'store unavailable' };
    // A newer server migrated the database under us (or it was restored from an older copy).
    if (version !== options.schemaVersion) return { ready: false, reason: 'schema changed' };
    // Reads answer, writes do not (disk full, file read-only): every report would be 503.
    if (options.writesFailing?.()) return { ready: false, reason: 'store unavailable' };
    return { ready: true };
  } catch {
    return { ready: false, reason: 'store unavailable' };
  } finally {
    clearTimeout(timer);
  }
}

/** Answers /health and /ready; false (nothing written) for any other path. */
export function healthHandler(options: HealthOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/health' && path !== '/ready') return false;
    const send = (status: number, body: object, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, { code: 405, errno: 999, error: 'Method not allowed.' }, { Allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/health') {
      send(200, { status: 'ok' });
      return true;
    }
    readiness(options).then(
      (state) => {
        if (state.ready) send(200, { status: 'ready' });
        else send(503, { status: 'unavailable', reason: state.reason }, { 'Retry-After': String(options.retryAfterSeconds ?? 1) });
      },
      () => send(503, { status: 'unavailable', reason: 'store unavailable' }),
    );
    return true;
  };
}
