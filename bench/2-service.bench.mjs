// Cost of the service layer: session.send (machine + report enqueue) against a bare actor's send, and a
// full delivered report over a real loopback socket against a bare fetch of the same request.
import { createServer } from 'node:http';
import { createActor } from 'xstate';
import { createRoomSession, roomSessionMachine } from '../dist/index.mjs';
import { eventStream } from './1-model.bench.mjs';
import { fmt, median, printTable, timeAsync, timeSync } from './harness.mjs';

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

  const post = async () => {
    const res = await fetch(url, { method: 'POST', headers, body });
    await res.body?.cancel();
  };
  // Alternate Basic and Hawk (and the bare fetch) trial by trial, so load from elsewhere hits all alike.
  const pair = ['Session.connectionCreated', 'Session.connectionDestroyed'];
  const sessions = { basic: createRoomSession({ roomToken: ROOM, serverUrl, auth: basic }), hawk: createRoomSession({ roomToken: ROOM, serverUrl, auth: hawk }) };
  // Alternate create/destroy so each report is a counted, accepted event.
  const report = (session) => async (i) => {
    session.send(pair[i & 1]);
    await session.flush();
  };
  // The same with the transport stubbed (204 at once): only our own work, signing included; the upper
  // bound of Hawk's share, since no network time dilutes it.
  const stubbed = (auth) => createRoomSession({ roomToken: ROOM, serverUrl, auth, fetch: async () => new Response(null, { status: 204 }) });
  const inProcess = { basic: stubbed(basic), hawk: stubbed(hawk) };
  const samples = { fetch: [], basic: [], hawk: [], stubBasic: [], stubHawk: [] };
  // CPU time of this process (client and the in-process server alike) per report: less swayed than wall
  // time by other processes on a busy machine, and Hawk's extra cost is CPU (hashing, a longer header).
  const cpu = { basic: [], hawk: [] };
  const cpuOf = async (fn) => {
    const start = process.cpuUsage();
    await timeAsync(fn, { n: 200, trials: 1 });
    const used = process.cpuUsage(start);
    return ((used.user + used.system) * 1000) / 220; // ns per report (timeAsync runs 20 warm-up calls + 200)
  };
  for (let round = 0; round < 11; round++) {
    samples.fetch.push(await timeAsync(post, { n: 200, trials: 1 }));
    samples.basic.push(await timeAsync(report(sessions.basic), { n: 200, trials: 1 }));
    samples.hawk.push(await timeAsync(report(sessions.hawk), { n: 200, trials: 1 }));
    cpu.basic.push(await cpuOf(report(sessions.basic)));
    cpu.hawk.push(await cpuOf(report(sessions.hawk)));
    samples.stubBasic.push(await timeAsync(report(inProcess.basic), { n: 500, trials: 1 }));
    samples.stubHawk.push(await timeAsync(report(inProcess.hawk), { n: 500, trials: 1 }));
  }
  inProcess.basic.stop();
  inProcess.hawk.stop();
  const [stubBasic, stubHawk] = [samples.stubBasic, samples.stubHawk].map(median);
  sessions.basic.stop();
  sessions.hawk.stop();
  server.close();
  const [fetchOnly, viaBasic, viaHawk] = [samples.fetch, samples.basic, samples.hawk].map(median);
  const [cpuBasic, cpuHawk] = [cpu.basic, cpu.hawk].map(median);

  printTable('One delivered report over loopback, ratio to a bare fetch of the same request, same run (median of 11 alternating rounds)', [
    { what: 'bare fetch POST, 204 (baseline)', 'us/report': fmt(fetchOnly / 1000, 1), ratio: '1.00' },
    { what: 'session.send + flush, Basic', 'us/report': fmt(viaBasic / 1000, 1), ratio: fmt(viaBasic / fetchOnly) },
    { what: 'session.send + flush, Hawk', 'us/report': fmt(viaHawk / 1000, 1), ratio: fmt(viaHawk / fetchOnly) },
  ]);
  printTable('Hawk against Basic (goal: at most 1.20)', [
    { what: 'Hawk report / Basic report, wall time', Basic: `${fmt(viaBasic / 1000, 1)} us`, Hawk: `${fmt(viaHawk / 1000, 1)} us`, ratio: fmt(viaHawk / viaBasic) },
    { what: 'Hawk report / Basic report, CPU time', Basic: `${fmt(cpuBasic / 1000, 1)} us`, Hawk: `${fmt(cpuHawk / 1000, 1)} us`, ratio: fmt(cpuHawk / cpuBasic) },
    { what: 'the same, transport stubbed (our own work only)', Basic: `${fmt(stubBasic / 1000, 1)} us`, Hawk: `${fmt(stubHawk / 1000, 1)} us`, ratio: fmt(stubHawk / stubBasic) },
  ]);
}
