// A reverse proxy on 127.0.0.1 that forwards every request to a real upstream (the request is served there,
// stored if the upstream stores) and holds chosen answers past the client's timeout before passing them on:
// the slow network of issue 20, where a report is stored but its answer comes too late.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HoldingProxy {
  /** The upstream's base URL with the proxy's origin: `http://127.0.0.1:PORT<upstream path>`. */
  url(upstreamPath: string): string;
  port: number;
  /** Requests forwarded, in arrival order: method, path, Idempotency-Key, and whether the answer was held. */
  forwarded: Array<{ method: string; path: string; idempotencyKey?: string; held: boolean; status?: number }>;
  close(): Promise<void>;
}

/**
 * `hold(n)` is asked per request (0-based arrival index): true holds that answer `holdMs` after the upstream answered.
 * Several upstream ports: requests go to them in turn (several server processes behind one balancer).
 */
export async function startHoldingProxy(upstreamPort: number | readonly number[], options: { hold: (index: number, req: IncomingMessage) => boolean; holdMs: number }): Promise<HoldingProxy> {
  const forwarded: HoldingProxy['forwarded'] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const server: Server = createServer((req, res) => {
    const index = forwarded.length;
    const held = options.hold(index, req);
    const entry: HoldingProxy['forwarded'][number] = { method: req.method ?? '', path: req.url ?? '', held, ...(typeof req.headers['idempotency-key'] === 'string' ? { idempotencyKey: req.headers['idempotency-key'] } : {}) };
    forwarded.push(entry);
    const ports = typeof upstreamPort === 'number' ? [upstreamPort] : upstreamPort;
    const upstream = httpRequest({ host: '127.0.0.1', port: ports[index % ports.length], method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        entry.status = answer.statusCode;
        const pass = () => {
          if (res.destroyed) return;
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
        };
        if (!held) return pass();
        const t = setTimeout(() => (timers.delete(t), pass()), options.holdMs);
        timers.add(t);
      });
    });
    upstream.on('error', () => res.destroyed || res.writeHead(502).end());
    // The client giving up must not cancel the upstream request: the server has it, as on a real slow path.
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
