// Node hands every request with `Connection: Upgrade` to the server's 'upgrade' listeners, and its HTTP parser lets
// go of the socket. This server offers one upgrade, WebSocket on its relay paths; any other (h2c from `curl --http2`,
// a WebSocket elsewhere) is ignored, as RFC 9110 7.8 allows: the request is answered as the plain HTTP/1.1 request it
// also is (a status report with `Upgrade: h2c` is stored and answered 204, not refused by the relay).
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Whether the relay takes this upgrade: a WebSocket handshake to one of `paths`. */
export const isRelayUpgrade = (req: IncomingMessage, paths: readonly string[]) =>
  paths.includes((req.url ?? '').split('?')[0]) && /(^|,)\s*websocket\s*(,|$)/i.test(req.headers.upgrade ?? '');

/**
 * Give the request back to `server` as a new connection reading the request's own bytes again, without its Upgrade
 * (the socket was consumed once, so Node's new parser reads it through 'data' events, the put-back bytes first).
 */
export function answerAsPlainRequest(server: Server, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const [name, value] = [req.rawHeaders[i], req.rawHeaders[i + 1]];
    const lower = name.toLowerCase();
    if (lower === 'upgrade' || lower === 'http2-settings') continue;
    if (lower === 'connection') {
      const kept = value.split(',').map((t) => t.trim()).filter((t) => t !== '' && !/^(upgrade|http2-settings)$/i.test(t));
      if (kept.length > 0) lines.push(`${name}: ${kept.join(', ')}`);
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // Node reads header bytes as latin1: written back the same way, they are the bytes the client sent.
  socket.unshift(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), head]));
  server.emit('connection', socket);
}
