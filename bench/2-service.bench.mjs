// Cost of the service layer: session.send (machine + report enqueue) against a bare actor's send, and a
// full delivered report over a real loopback socket against a bare fetch of the same request.
import { createServer } from 'node:http';
import { createActor } from 'xstate';
import { createRoomSession, roomSessionMachine } from '../dist/index.mjs';
import { eventStream } from './1-model.bench.mjs';
import { fmt, printTable, timeAsync, timeSync } from './harness.mjs';

const ROOM = 'QzBbvGmIZWU';
const basic = { type: 'basic', sessionToken: 'bench-session-token' };
const hawk = { type: 'hawk', credentials: { id: 'bench-id', key: 'bench-key-bench-key', algorithm: 'sha256' } };

export default async function () {
  const events = eventStream(4096);
  const mask = events.length - 1;

  // (a) in-process: the transport stubbed to answer 204 at once, so only our own work is timed.
  const actor = createActor(roomSessionMachine);
  actor.on('anomaly', () => {});
  actor.start();
  const bare = timeSync((i) => actor.send(events[i & mask]));
  const stub = createRoomSession({ roomToken: ROOM, serverUrl: 'http://127.0.0.1:9/v1', auth: basic, fetch: async () => new Response(null, { status: 204 }), maxQueue: 1e7 });
  stub.on('anomaly', () => {});
  const wrapped = timeSync((i) => stub.send(events[i & mask]));
  await stub.flush();
  stub.stop();

  printTable('session.send: machine plus report enqueue (transport stubbed), ratio to a bare actor.send, same run', [
    { what: 'bare actor.send(event) (baseline)', 'ns/event': fmt(bare, 1), ratio: '1.00' },
    { what: 'session.send(event)', 'ns/event': fmt(wrapped, 1), ratio: fmt(wrapped / bare) },
  ]);

  // (b) over a real loopback socket, to a server that answers 204.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const serverUrl = `http://127.0.0.1:${server.address().port}/v1`;
  const url = `${serverUrl}/rooms/${ROOM}`;
  const body = JSON.stringify({ action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 });
  const headers = { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Basic ${btoa('bench-session-token:')}` };

  const fetchOnly = await timeAsync(async () => {
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.body?.cancel();
  });
  const delivered = async (auth) => {
    const session = createRoomSession({ roomToken: ROOM, serverUrl, auth });
    // Alternate create/destroy so each report is a counted, accepted event.
    const pair = ['Session.connectionCreated', 'Session.connectionDestroyed'];
    const ns = await timeAsync(async (i) => {
      session.send({ type: pair[i & 1] });
      await session.flush();
    });
    session.stop();
    return ns;
  };
  const viaBasic = await delivered(basic);
  const viaHawk = await delivered(hawk);
  server.close();

  printTable('One delivered report over loopback, ratio to a bare fetch of the same request, same run', [
    { what: 'bare fetch POST, 204 (baseline)', 'us/report': fmt(fetchOnly / 1000, 1), ratio: '1.00' },
    { what: 'session.send + flush, Basic', 'us/report': fmt(viaBasic / 1000, 1), ratio: fmt(viaBasic / fetchOnly) },
    { what: 'session.send + flush, Hawk (WebCrypto)', 'us/report': fmt(viaHawk / 1000, 1), ratio: fmt(viaHawk / fetchOnly) },
  ]);
}
