#!/usr/bin/env node
// A complete conformance adapter around a room client written from scratch (no dependencies, Node >= 20):
// the client is the part to replace with yours. Run it with
//   npx loop-room-state conform --adapter "node examples/adapters/conform-adapter.mjs"
// Driver protocol version 1 (docs/conformance.md): one JSON object per line on stdin, one answer per line
// on stdout with the same id. Logs go to stderr, never to stdout.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

// ---- the client: counters, states, reports (docs/protocol.md) ----

const COUNTING = {
  'Session.connectionCreated': ['connections', 1],
  'Session.connectionDestroyed': ['connections', -1],
  'Session.streamCreated': ['recvStreams', 1],
  'Session.streamDestroyed': ['recvStreams', -1],
  'Publisher.streamCreated': ['sendStreams', 1],
  'Publisher.streamDestroyed': ['sendStreams', -1],
};

/** The settled state for the counters after an event (protocol sections 3 and 4). */
function settle(state, c) {
  if (c.connections === 0) return 'init';
  if (c.connections === 1) return 'waiting';
  if (c.sendStreams > 0 && c.recvStreams > 0) return 'sendrecv';
  if (c.sendStreams > 0) return 'sending';
  if (c.recvStreams > 0) return 'receiving';
  return state === 'waiting' || state === 'starting' ? 'starting' : 'cleanup';
}

/** The next state and counters, or null when the event is rejected (unknown, or a counter below zero). */
function step(session, type) {
  if (!Object.hasOwn(COUNTING, type)) return null;
  const [counter, delta] = COUNTING[type];
  const counters = { ...session.counters, [counter]: session.counters[counter] + delta };
  if (counters[counter] < 0) return null;
  return { state: settle(session.state, counters), counters };
}

function hawkHeader({ id, key, algorithm }, url, body, contentType) {
  const u = new URL(url);
  const ts = Math.floor(Date.now() / 1000);
  const nonce = randomBytes(8).toString('base64url');
  const hash = createHash(algorithm).update(`hawk.1.payload\n${contentType}\n${body}\n`).digest('base64');
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  const normalized = `hawk.1.header\n${ts}\n${nonce}\nPOST\n${u.pathname}${u.search}\n${u.hostname.toLowerCase()}\n${port}\n${hash}\n\n`;
  const mac = createHmac(algorithm, key).update(normalized).digest('base64');
  return `Hawk id="${id}", ts="${ts}", nonce="${nonce}", hash="${hash}", mac="${mac}"`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function createClient({ serverUrl, roomToken, auth }) {
  const url = `${serverUrl.replace(/\/+$/, '')}/rooms/${roomToken}`;
  const authorize = (body) =>
    auth.type === 'basic' ? `Basic ${Buffer.from(`${auth.sessionToken}:`).toString('base64')}` : hawkHeader(auth.credentials, url, body, 'application/json');
  const session = { state: 'init', counters: { connections: 0, sendStreams: 0, recvStreams: 0 } };
  const queue = [];
  let pumping = null;
  let stopped = false; // 401, 403, 404, 410: nothing more for this session
  let left = false;

  /** One request, retried on 408, 429, 5xx and network errors (honouring Retry-After); true when delivered. */
  async function deliver(body) {
    for (let attempt = 1; attempt <= 5 && !stopped; attempt++) {
      let res;
      try {
        res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: authorize(body) }, body });
      } catch (err) {
        console.error(`attempt ${attempt}: ${err.message}`);
        await sleep(100 * attempt);
        continue;
      }
      await res.arrayBuffer().catch(() => {});
      if (res.ok) return true;
      if ([401, 403, 404, 410].includes(res.status)) {
        stopped = true;
        return false;
      }
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        const after = res.headers.get('retry-after');
        await sleep(after && /^\d+$/.test(after) ? Number(after) * 1000 : 100 * attempt);
        continue;
      }
      return false; // another 4xx: this request is dropped, the next ones still go
    }
    return false;
  }

  async function pump() {
    while (queue.length > 0 && !stopped) {
      await deliver(queue[0]);
      queue.shift();
    }
    pumping = null;
  }

  return {
    session,
    send(type) {
      const next = step(session, type);
      if (!next) return;
      Object.assign(session, next);
      if (left || stopped) return;
      const { connections, sendStreams, recvStreams } = session.counters;
      queue.push(JSON.stringify({ action: 'status', event: type, state: session.state, connections, sendStreams, recvStreams }));
      pumping ??= pump();
    },
    async leave() {
      if (left) return;
      left = true;
      while (pumping) await pumping;
      if (!stopped) await deliver('{"action":"leave"}');
    },
    stop() {
      stopped = true;
      queue.length = 0;
    },
  };
}

// ---- the adapter: driver protocol version 1 ----

let client;
async function handle(m) {
  switch (m.type) {
    case 'hello':
      // A driver protocol this adapter does not speak: refuse, and the kit stops saying why (exit 2).
      if (m.protocol !== 1) throw new Error(`driver protocol ${m.protocol} is not supported (this adapter speaks 1)`);
      return { name: 'example JavaScript client', auth: ['basic', 'hawk'], observes: ['state', 'counters'] };
    case 'start':
      client?.stop();
      client = createClient(m);
      return {};
    case 'event':
      client.send(m.event);
      return { state: client.session.state, ...client.session.counters };
    case 'leave':
      await client.leave();
      return {};
    case 'stop':
      client?.stop();
      client = undefined;
      return {};
    default:
      throw new Error(`unknown message type ${JSON.stringify(m.type)}`);
  }
}

// Messages are handled one at a time, in order.
let chain = Promise.resolve();
createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (line) => {
  chain = chain.then(async () => {
    const m = JSON.parse(line);
    try {
      process.stdout.write(`${JSON.stringify({ id: m.id, ok: true, ...(await handle(m)) })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ id: m.id, ok: false, error: String(err?.message ?? err) })}\n`);
    }
  });
});
