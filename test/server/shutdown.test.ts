// A stop is graceful (server spec section 8): on SIGTERM the `serve` process stops accepting, answers every
// request it already received (bodies still arriving included) with its real answer, stores each exactly once,
// and exits 0. SIGHUP does not stop it. Real child processes of the built CLI.
import { request, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { basicAuthorization } from '../../src/transport/basic';
import { runCli, serveCli, useCliRun } from './process';

const { temp, children } = useCliRun('loop-room-stop-');

const STATUS = JSON.stringify({ action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 });

interface SlowPost {
  /** Sends the rest of the body. */
  finish(): void;
  answer: Promise<{ status: number } | { error: string }>;
}

/** A POST whose headers and first half of the body are out now, and the rest when finish() is called. */
function slowPost(url: string, authorization: string, body: string): Promise<SlowPost> {
  const half = Math.floor(body.length / 2);
  return new Promise((resolve) => {
    let req: ClientRequest;
    const answer = new Promise<{ status: number } | { error: string }>((done) => {
      req = request(url, { method: 'POST', agent: false, headers: { Authorization: authorization, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? 0 }));
      });
      req.on('error', (err) => done({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    req!.flushHeaders();
    req!.write(body.slice(0, half), () => resolve({ finish: () => req.end(body.slice(half)), answer }));
  });
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

it('SIGTERM: requests with bodies still arriving get their real answers, stored once; then exit 0. SIGHUP does not stop it', async () => {
  const db = join(temp, 'stop.db');
  const s = await serveCli(['--port', '0', '--db', db, '--participant-ttl', '3600', '--max-room-size', '10', '--shutdown-grace', '30']);
  children.push(s);
  const owner = await registerHawkSession(s.serverUrl);
  const { roomToken } = await createRoom({ serverUrl: s.serverUrl, credentials: owner.credentials, roomName: 'stop', roomOwner: 'o', maxSize: 10 });
  const guests = [];
  for (let i = 0; i < 6; i++) guests.push(await joinRoom({ serverUrl: s.serverUrl, roomToken, displayName: `g${i}`, clientMaxSize: 10 }));

  // SIGHUP: logged, ignored.
  s.child.kill('SIGHUP');
  await waitFor(async () => s.stderr().includes('SIGHUP ignored'), 'the SIGHUP line');
  expect((await fetch(`${s.origin}/health`)).status).toBe(200);

  const url = `${s.serverUrl}/rooms/${roomToken}`;
  const slow = await Promise.all(guests.map((g) => slowPost(url, basicAuthorization(g.sessionToken), STATUS)));
  // Give the server the time to take the requests in (their headers are out; the bodies are not complete).
  await new Promise((r) => setTimeout(r, 300));
  s.child.kill('SIGTERM');
  // It stops accepting: new connections are refused while the received requests wait for their bodies.
  await waitFor(async () => fetch(`${s.origin}/health`).then(() => false, () => true), 'the listener to close');
  for (const p of slow) p.finish();
  const answers = await Promise.all(slow.map((p) => p.answer));
  expect(answers).toEqual(guests.map(() => ({ status: 204 })));
  expect(await s.exited).toEqual({ code: 0, signal: null });
  expect(s.stderr()).toMatch(/SIGTERM: stopped accepting/);
  expect(s.stdout()).toContain('Room server stopped');

  const exported = await runCli(['export', '--db', db]);
  expect(exported.code).toBe(0);
  const reports = exported.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { session: string; seq: number });
  expect(reports.map((r) => r.session).sort()).toEqual(guests.map((g) => g.roomConnectionId).sort());
  expect(reports.every((r) => r.seq === 1)).toBe(true);
});

it('a request still running when the grace period ends is cut, and the process still exits 0', async () => {
  const db = join(temp, 'grace.db');
  const s = await serveCli(['--port', '0', '--db', db, '--shutdown-grace', '0.5']);
  children.push(s);
  const stuck = await slowPost(`${s.serverUrl}/registration`, '', '{"never":"finished"}');
  await new Promise((r) => setTimeout(r, 300));
  s.child.kill('SIGTERM');
  expect(await s.exited).toEqual({ code: 0, signal: null });
  expect(await stuck.answer).toHaveProperty('error');
  expect(s.stderr()).toMatch(/1 request\(s\) still running after the grace period were cut/);
});

it("SIGTERM ends the traffic view's live stream at once (its client reconnects elsewhere) rather than after the grace", async () => {
  // A grace longer than the test may take: were the stream held to its end, the process would not exit in time.
  const s = await serveCli(['--port', '0', '--db', join(temp, 'stream.db'), '--shutdown-grace', '600']);
  children.push(s);
  // Wrapped: a promise resolved with a promise would wait for the stream's end before SIGTERM is sent.
  const { ended } = await new Promise<{ ended: Promise<string> }>((resolve, reject) => {
    const req = request(`${s.serverUrl}/traffic/stream?window=hour`, (res) => {
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['content-type'])).toMatch(/^text\/event-stream/);
      let text = '';
      resolve({
        ended: new Promise<string>((done) => {
          res.on('data', (d) => (text += d));
          res.on('end', () => done(text));
          res.on('error', () => done(text));
        }),
      });
    });
    req.on('error', reject);
    req.end();
  });
  s.child.kill('SIGTERM');
  expect(await ended).toContain('retry:');
  expect((await s.exited).code).toBe(0);
});
