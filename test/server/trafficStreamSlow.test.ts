// A live traffic stream whose reader stops reading (D-160): the server holds at most about one event for it, the
// newest, and cuts it off once it has taken nothing for the stall time. Real HTTP on 127.0.0.1, a real socket
// that is paused (the kernel's buffers fill first, then the server's).
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { STREAM_HIGH_WATER, streamSender } from '../../src/server/traffic';

const EVENT_BYTES = 50_000;
const EVENTS = 400;
const event = (i: number) => `event: traffic\ndata: ${String(i).padStart(8, '0')}${'x'.repeat(EVENT_BYTES)}\n\n`;

let server: Server;
let serverSide: ServerResponse | undefined;
let stallMs = 60_000;
let mostHeld = 0;

beforeEach(async () => {
  mostHeld = 0;
  server = createServer((_req, res) => {
    serverSide = res;
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    const send = streamSender(res, stallMs);
    let i = 0;
    const next = () => {
      if (i >= EVENTS || res.destroyed) return;
      send(event(i++));
      mostHeld = Math.max(mostHeld, res.writableLength);
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function pausedClient(): Socket {
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  socket.pause();
  return socket;
}

it('a reader that stops reading costs the server at most about one event; reading again, it gets the newest', async () => {
  const socket = pausedClient();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  // 400 events of 50 kB (20 MB) were sent to a reader that took nothing: the server held one event past the mark.
  expect(mostHeld).toBeLessThanOrEqual(STREAM_HIGH_WATER + 2 * EVENT_BYTES);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d) => (text += d));
  socket.resume();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const ids = [...text.matchAll(/data: (\d{8})/g)].map((m) => Number(m[1]));
  expect(ids.at(-1)).toBe(EVENTS - 1);
  expect(ids.length).toBeLessThan(EVENTS);
  socket.destroy();
});

it('a reader that takes nothing for the stall time is cut off', async () => {
  stallMs = 300;
  const socket = pausedClient();
  let cut = false;
  socket.on('close', () => (cut = true));
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect(serverSide?.destroyed).toBe(true);
  socket.resume(); // reads what was buffered, then sees the server's end
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(cut).toBe(true);
  socket.destroy();
  stallMs = 60_000;
});
