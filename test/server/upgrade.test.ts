// `serve` takes WebSocket upgrades for its live view; a request asking for another upgrade (h2c, as `curl --http2`
// sends) is answered as the plain HTTP/1.1 request it also is: a status report is stored and answered 204, and no
// room token reaches the log. Real `serve` app (SQLite, the visualizer's relay) on 127.0.0.1, raw sockets.
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServeApp, type ServeApp } from '../../src/server/app';
import { createRoom, joinRoom, registerHawkSession } from '../../src/rooms';
import { freshSqlite, type FreshStore } from '../support/stores';

let fresh: FreshStore;
let app: ServeApp;
const logged: string[] = [];
beforeAll(async () => {
  fresh = await freshSqlite();
  app = await createServeApp({ store: fresh.store, port: 0, limits: 'off', html: readFileSync(join(__dirname, '..', '..', 'dist', 'visualizer.html'), 'utf8'), log: (line) => logged.push(line) });
});
afterAll(async () => {
  await app.close();
  await fresh.cleanup();
});

/**
 * One raw request on its own connection (not half-closed: Node's server drops a request whose client ends its side
 * first), the answer once the server closes it (`Connection: close`), or its head alone with `headOnly`.
 */
function rawRequest(port: number, text: string, headOnly = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (d) => {
      answer += d;
      if (headOnly && answer.includes('\r\n\r\n')) socket.destroy(), resolve(answer);
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

const H2C = 'Connection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';

it('a status report asking to upgrade to h2c is stored and answered 204; /health and /v1/stats answer as without it', async () => {
  const owner = await registerHawkSession(app.serverUrl);
  const { roomToken } = await createRoom({ serverUrl: app.serverUrl, credentials: owner.credentials, roomName: 'h2c', roomOwner: 'Alice', maxSize: 3 });
  const { sessionToken } = await joinRoom({ serverUrl: app.serverUrl, roomToken, displayName: 'curl' });
  const body = JSON.stringify({ action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 });
  const basic = Buffer.from(`${sessionToken}:`).toString('base64');
  const answer = await rawRequest(
    app.port,
    `POST /v1/rooms/${roomToken} HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\n${H2C}Authorization: Basic ${basic}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 204 /);
  const stored = [];
  for await (const r of fresh.store.exportReports({})) stored.push(r);
  expect(stored.map((r) => r.fields.event)).toEqual(['Session.connectionCreated']);

  expect(await rawRequest(app.port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
  const stats = await rawRequest(app.port, `GET /v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n${H2C}\r\n`);
  expect(stats).toMatch(/^HTTP\/1\.1 200 /);
  expect(stats).toMatch(/"sessions":\{"started":1,/);
  // A WebSocket handshake to a path of the API is not the relay's either: the API answers it (a JSON error).
  const ws = await rawRequest(app.port, `GET /v1/rooms/${roomToken} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  expect(ws).toMatch(/^HTTP\/1\.1 401 [^]*"errno":110/);
  expect(logged.join('\n')).not.toContain(roomToken);
});

it('the relay still takes its own WebSocket handshakes', async () => {
  const answer = await rawRequest(
    app.port,
    `GET /watch HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: loop-room-state\r\n\r\n`,
    true,
  );
  expect(answer).toMatch(/^HTTP\/1\.1 101 /);
});
