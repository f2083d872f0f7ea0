// /v1/traffic* requests in loop_room_requests_total: one action `traffic` for the three endpoints, errors
// included, a stream counted once (when it is answered, however long it stays open).
import { activeStreams } from '../../src/server/traffic';
import { STORES } from '../support/stores';
import { raw, startServer, type TestServer } from './helpers';

const ADMIN = 'traffic-metrics-admin-token';
const bearer = { Authorization: `Bearer ${ADMIN}` };

/** loop_room_requests_total by action and code, from a scrape. */
async function requestCounts(server: TestServer): Promise<Record<string, Record<string, number>>> {
  const text = (await raw(`${server.origin}/metrics`, { headers: bearer })).text;
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n')) {
    const m = /^loop_room_requests_total\{action="([^"]*)",code="(\d+)"\} (\d+)$/.exec(line);
    if (m) (out[m[1]] ??= {})[m[2]] = Number(m[3]);
  }
  return out;
}

describe.each(STORES)('traffic requests in /metrics (%s)', (_name, factory) => {
  it('counts /v1/traffic, /v1/traffic/stream and /v1/traffic/sessions/:id under action "traffic", errors included (not 404/405: other)', async () => {
    const server = await startServer(factory, { adminToken: ADMIN });
    const base = `${server.serverUrl}/traffic`;
    try {
      expect((await raw(base)).status).toBe(401);
      expect((await raw(base, { headers: bearer })).status).toBe(200);
      expect((await raw(`${base}?window=hour`, { headers: bearer })).status).toBe(200);
      expect((await raw(`${base}?window=year`, { headers: bearer })).status).toBe(400);
      expect((await raw(base, { method: 'POST', headers: bearer })).status).toBe(405);
      expect((await raw(`${base}/sessions/no-such-session`, { headers: bearer })).status).toBe(404);
      expect((await raw(`${base}/sessions/x`)).status).toBe(401);
      expect((await raw(`${base}/elsewhere`, { headers: bearer })).status).toBe(404);
      expect((await raw(`${base}/stream`)).status).toBe(401);

      // A stream: counted when answered, once, though it stays open and sends event after event.
      const abort = new AbortController();
      const res = await fetch(`${base}/stream`, { headers: bearer, signal: abort.signal });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      let seen = '';
      while (!seen.includes('event: traffic')) seen += Buffer.from((await reader.read()).value ?? []).toString('utf8');
      const expected = { '200': 3, '400': 1, '401': 3, '404': 1 };
      const open = await requestCounts(server);
      expect(open.traffic).toEqual(expected);
      // A method or a path the route table does not have is `other`, under /traffic as anywhere (routes.ts).
      expect(open.other).toEqual({ '404': 1, '405': 1 });
      abort.abort();
      await reader.cancel().catch(() => {});
      for (let i = 0; i < 200 && activeStreams(server.fresh.store) > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(activeStreams(server.fresh.store)).toBe(0);
      expect((await requestCounts(server)).traffic).toEqual(expected);
    } finally {
      await server.stop();
    }
  });
});
