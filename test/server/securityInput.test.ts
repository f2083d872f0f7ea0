// Issue 17, written as the attacks on input and credentials: control characters (NUL broke PostgreSQL's shared write
// batch with a 503 the client retried forever), a Hawk `ts` that never goes stale, an expired owner token taking the
// owner's place, an aborted upload logged as a server fault, and a slow body held past the documented limit.
import { connect } from 'node:net';
import { createRoom, joinRoom, registerHawkSession } from '../../src/index';
import { expectError, hawkGet, post, startServer, type TestServer } from './helpers';
import { STORES } from '../support/stores';
import { NonceCache } from '../../src/server/auth';

const STATUS = { action: 'status', event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 };
const CONTROL = ['\u0000', '\u0007', '\n', '\u001b[31m', '\u007f'];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const hawk = require('hawk') as { client: { header(uri: string, method: string, o: Record<string, unknown>): { header: string } } };

describe.each(STORES)('input and credentials (%s)', (_name, factory) => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof registerHawkSession>>;
  let roomToken: string;
  beforeAll(async () => {
    server = await startServer(factory, { participantTtlMs: 400 });
    owner = await registerHawkSession(server.serverUrl);
    roomToken = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'r', roomOwner: 'o' })).roomToken;
  });
  afterAll(() => server.stop());

  it('control characters in names, event and state are 400 errno 107, never a 503; the next report stores', async () => {
    const url = `${server.serverUrl}/rooms/${roomToken}`;
    for (const c of CONTROL) {
      expectError(await post(url, { action: 'join', displayName: `g${c}`, clientMaxSize: 5 }), 400, 107);
      expectError(await post(`${server.serverUrl}/rooms`, { roomName: `n${c}`, roomOwner: 'o', maxSize: 2 }, { hawk: owner.credentials }), 400, 107);
      expectError(await post(`${server.serverUrl}/rooms`, { roomName: 'n', roomOwner: `o${c}`, maxSize: 2 }, { hawk: owner.credentials }), 400, 107);
    }
    // clientMaxSize 5: the room's guests of the other tests may still be in, and 2 (the default) would bound it.
    const g = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'g', clientMaxSize: 5 });
    for (const c of CONTROL) {
      // Sent together, as a batch of writes would take them: none may spoil the others.
      const answers = await Promise.all([
        post(url, { ...STATUS, event: `Session.connectionCreated${c}` }, { basic: g.sessionToken }),
        post(url, { ...STATUS, state: `wait${c}ing` }, { basic: g.sessionToken }),
        post(url, STATUS, { basic: g.sessionToken }),
      ]);
      expectError(answers[0], 400, 107);
      expectError(answers[1], 400, 107);
      expect(answers[2].status).toBe(204);
    }
  });

  it('text that is not Unicode is refused, not stored altered: bytes that are not UTF-8 (106), an unpaired surrogate (107)', async () => {
    const url = `${server.serverUrl}/rooms/${roomToken}`;
    // {"action":"join","displayName":"BAD\xC3(","clientMaxSize":5}: 0xC3 starts a two-byte sequence that never ends.
    const bytes = Buffer.concat([Buffer.from('{"action":"join","displayName":"BAD'), Buffer.from([0xc3]), Buffer.from('(","clientMaxSize":5}')]);
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: bytes });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ errno: 106, error: expect.stringContaining('not UTF-8') });
    for (const lone of ['\ud800', '\udc00', 'a\udc00\ud800b']) {
      expectError(await post(url, { action: 'join', displayName: `g${lone}`, clientMaxSize: 5 }), 400, 107, /unpaired surrogate/);
      expectError(await post(`${server.serverUrl}/rooms`, { roomName: `n${lone}`, roomOwner: 'o', maxSize: 2 }, { hawk: owner.credentials }), 400, 107);
    }
    // A character outside the BMP is a pair, and fine.
    const g = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'g \u{1F600}', clientMaxSize: 5 });
    expectError(await post(url, { ...STATUS, event: 'Session.connectionCreated\udc00' }, { basic: g.sessionToken }), 400, 107);
    expect((await post(url, STATUS, { basic: g.sessionToken })).status).toBe(204);
  });

  it('a Hawk ts that is not a decimal integer is stale (401 with ts/tsm), also replayed after the nonce window', async () => {
    const brief = await startServer(factory, { hawkSkewSec: 2 });
    try {
      await staleReplay(brief);
    } finally {
      await brief.stop();
    }
  });

  async function staleReplay(server: TestServer) {
    const owner = await registerHawkSession(server.serverUrl);
    const roomToken = (await createRoom({ serverUrl: server.serverUrl, credentials: owner.credentials, roomName: 'r', roomOwner: 'o' })).roomToken;
    const url = `${server.serverUrl}/rooms/${roomToken}`;
    const header = hawk.client.header(url, 'GET', { credentials: { ...owner.credentials, algorithm: 'sha256' }, timestamp: 'x', nonce: 'n0nce' }).header;
    const first = await fetch(url, { headers: { Authorization: header } });
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toMatch(/Hawk ts="\d+", tsm="[^"]+", error="Stale timestamp"/);
    // The nonce window is 2 x the skew (4 s here): before the fix, the same header answered 200 again after it.
    await new Promise((r) => setTimeout(r, 4_200));
    expect((await fetch(url, { headers: { Authorization: header } })).status).toBe(401);
    // A good timestamp still works, once.
    expect((await hawkGet(url, owner.credentials)).status).toBe(200);
  }

  it("an expired owner's session token neither evicts the owner nor gets owner: true", async () => {
    const url = `${server.serverUrl}/rooms/${roomToken}`;
    // The owner joins from its desktop (Hawk) and gets a session token; that participation expires.
    const first = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'owner', auth: { type: 'hawk', credentials: owner.credentials } });
    await new Promise((r) => setTimeout(r, 500));
    // The owner is back (a live Hawk session); someone holds the old, expired token.
    const live = await joinRoom({ serverUrl: server.serverUrl, roomToken, displayName: 'owner', auth: { type: 'hawk', credentials: owner.credentials } });
    expectError(await post(url, { action: 'join', displayName: 'thief', clientMaxSize: 5 }, { basic: first.sessionToken }), 400, 203);
    expect((await server.fresh.store.getSession(live.roomConnectionId))?.endedAt).toBeUndefined();
    // Even a live Hawk participant's session token joins only as a new standalone guest, never as the owner.
    const guest = await post(url, { action: 'join', displayName: 'guest', clientMaxSize: 5 }, { basic: live.sessionToken });
    expect(guest.status).toBe(200);
    const s = await server.fresh.store.getSession(guest.json().roomConnectionId);
    expect([s?.owner, s?.kind]).toEqual([false, 'basic']);
    expect((await server.fresh.store.getSession(live.roomConnectionId))?.endedAt).toBeUndefined();
  });
});

describe('requests that do not finish', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(STORES[0][1], { requestTimeoutMs: 400 });
  });
  afterAll(() => server.stop());

  const partial = (headers: string) =>
    new Promise<{ socket: ReturnType<typeof connect>; received: () => string; closed: Promise<void> }>((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write(headers);
        resolve({ socket, received: () => got, closed });
      });
      let got = '';
      socket.on('data', (d) => (got += d.toString('utf8')));
      socket.on('error', () => {});
      const closed = new Promise<void>((r) => socket.on('close', () => r()));
    });

  it('an aborted upload is not logged as an internal error', async () => {
    const { socket, closed } = await partial(`POST /v1/registration HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await closed;
    await new Promise((r) => setTimeout(r, 100));
    expect(server.logs.filter((l) => /internal error|unexpected failure/.test(l))).toEqual([]);
  });

  it('a body still arriving when the request time is up is dropped with 408 (the configured limit, as the documented 30 s)', async () => {
    const { received, closed } = await partial(`POST /v1/registration HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
    // Bounded wait: far longer than the configured 400 ms, far shorter than Node's default of 300 s or the ~60 s before.
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the slow request was not dropped')), 10_000))]);
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
    expect(server.logs.filter((l) => /internal error/.test(l))).toEqual([]);
  });
});

describe('Hawk nonce claims in this process', () => {
  it("are kept by the request's timestamp: a replay is refused for the window after that timestamp, however late it comes", () => {
    const cache = new NonceCache(120_000, 4);
    const ts = 1_000_000_000_000;
    expect(cache.claim('id|n|1000000000', ts)).toBe(true);
    // Other requests come, with later timestamps inside the window: sweeps run (4 entries at most) but keep it.
    expect(cache.claim('id|a|x', ts + 60_000)).toBe(true);
    expect(cache.claim('id|b|x', ts + 119_000)).toBe(true);
    expect(cache.claim('id|n|1000000000', ts)).toBe(false);
  });
});
