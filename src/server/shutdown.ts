// Graceful stop of an http.Server (server spec section 8): stop accepting, answer every request already
// received (its body still arriving included) as usual, then close. Node's own close() alone is not enough:
// keep-alive connections would carry new requests for ever, and closeAllConnections() cuts answers in flight.
import type { Server, ServerResponse } from 'node:http';

export interface Drain {
  /** True once stop() was called (readiness answers 503 from then on). */
  readonly draining: boolean;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  /**
   * Stop accepting, answer what was received, close each connection once its answer is out. Resolves when
   * every connection is closed, or after `graceMs`, when what is left is cut; `cut` says how many answers were.
   */
  stop(graceMs: number): Promise<{ cut: number }>;
  /** Cut everything now (a second Ctrl-C, or the grace period is over). */
  cutNow(): void;
}

/** Call before the server listens: it tracks every request from its arrival. */
export function trackRequests(http: Server): Drain {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let done: Promise<{ cut: number }> | undefined;
  let finish: ((cut: number) => void) | undefined;

  const closeIfIdle = () => {
    // Connections whose last answer is out: a keep-alive one would otherwise wait for another request.
    http.closeIdleConnections();
  };

  http.prependListener('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    // Arrived on a kept-alive connection while draining: answered, then that connection closes.
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (draining) closeIfIdle();
    });
  });

  const cutNow = () => {
    const cut = inFlight.size;
    http.closeAllConnections();
    finish?.(cut);
  };

  return {
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight.size;
    },
    cutNow,
    stop(graceMs: number) {
      if (done) return done;
      draining = true;
      done = new Promise<{ cut: number }>((resolve) => {
        const timer = setTimeout(cutNow, graceMs);
        timer.unref();
        finish = (cut) => {
          clearTimeout(timer);
          finish = undefined;
          resolve({ cut });
        };
      });
      for (const res of inFlight) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
        // A live stream (the traffic view's server-sent events) never ends by itself: end it now; its
        // client reconnects to another process.
        else if (String(res.getHeader('Content-Type') ?? '').startsWith('text/event-stream')) res.end();
      }
      // Stops accepting and closes idle keep-alive connections (Node >= 19); calls back once every
      // connection is closed.
      http.close(() => finish?.(0));
      closeIfIdle();
      return done;
    },
  };
}
