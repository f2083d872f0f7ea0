// Graceful stop of an http.Server (server spec section 8): stop accepting, answer every request already
// received (its body still arriving included) as usual, then close. Node's own close() alone is not enough:
// it closes idle keep-alive connections at once, and a proxy (nginx) may be sending a request on one of them
// at that very moment: that request is lost (a 502 for a POST, which nginx does not resend). So a connection
// is closed only after its answer (sent with "Connection: close"), or once it has stayed idle for a while.
import { Server as NetServer, type Socket } from 'node:net';
import type { Server, ServerResponse } from 'node:http';

export interface Drain {
  /** True once stop() was called (readiness answers 503 from then on). */
  readonly draining: boolean;
  /**
   * Stop accepting, answer what was received, close each connection once its answer is out (or it stays idle
   * for `idleMs`). Resolves when every connection is closed, or after `graceMs`, when what is left is cut;
   * `cut` says how many answers were.
   */
  stop(graceMs: number): Promise<{ cut: number }>;
  /** Cut everything now (a second Ctrl-C, or the grace period is over). */
  cutNow(): void;
}

interface Connection {
  /** Requests on it not yet answered. */
  active: number;
  /** When its last answer finished (or it connected). */
  idleSince: number;
}

/** Call before the server listens: it tracks every connection and request from its arrival. */
export function trackRequests(http: Server, options: { idleMs?: number } = {}): Drain {
  const idleMs = options.idleMs ?? 250;
  const inFlight = new Set<ServerResponse>();
  const connections = new Map<Socket, Connection>();
  let draining = false;
  let done: Promise<{ cut: number }> | undefined;
  let finish: ((cut: number) => void) | undefined;
  let sweeper: NodeJS.Timeout | undefined;

  http.on('connection', (socket: Socket) => {
    connections.set(socket, { active: 0, idleSince: performance.now() });
    socket.once('close', () => connections.delete(socket));
  });

  http.prependListener('request', (req, res: ServerResponse) => {
    inFlight.add(res);
    const c = connections.get(req.socket);
    if (c) c.active++;
    // Arrived on a kept-alive connection while draining: answered, then that connection closes.
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (c) {
        c.active--;
        c.idleSince = performance.now();
      }
    });
  });

  /** Closes the connections idle for idleMs: a proxy has by then stopped picking them. */
  const closeLongIdle = () => {
    const now = performance.now();
    for (const [socket, c] of connections) if (c.active === 0 && now - c.idleSince >= idleMs) socket.destroy();
  };

  const cutNow = () => {
    const cut = inFlight.size;
    for (const socket of connections.keys()) socket.destroy();
    finish?.(cut);
  };

  return {
    get draining() {
      return draining;
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
          clearInterval(sweeper);
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
      // Stop accepting (new connections are refused, so a proxy tries the next process) without Node's
      // immediate close of idle connections (see the top); calls back once every connection is closed.
      // setImmediate: right after the event loop's poll, which accepted the connections waiting in the
      // kernel's queue; closing the listener resets the ones still waiting there.
      setImmediate(() => NetServer.prototype.close.call(http, () => finish?.(0)));
      sweeper = setInterval(closeLongIdle, Math.max(10, idleMs / 5));
      sweeper.unref();
      return done;
    },
  };
}
