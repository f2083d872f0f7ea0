// What the judge says about requests and self-reports that are wrong in kind, not in content: the method,
// the path, the type of an observed field, and which of a case's problems leads (the cause, not its echo).
import { formatEnd } from '../../src/conform/reports/text';
import { runConformance } from '../../src/conform/runner';
import type { CaseResult } from '../../src/conform/types';
import { brokenAdapter } from './support';

const MODEL = 'model:init|Session.connectionCreated|0';
const run = async (name: string, edits: Array<[string, string]>, cases: string[]): Promise<CaseResult[]> =>
  (await runConformance({ adapter: brokenAdapter(name, edits), cases, quietMs: 80, jobs: 4 })).cases;

it('a client that sends PUT fails each case, naming the request, the method it used and POST', async () => {
  const cases = await run('put', [["method: 'POST'", "method: 'PUT'"]], [MODEL, 'wire:basic:auth']);
  for (const c of cases) {
    expect(c.status).toBe('failed');
    expect(c.divergence).toMatchObject({ expected: 'request 1 sent with POST', received: 'request 1 sent with PUT (answered 405)' });
  }
});

it('a client that reports without the /v1 prefix: the case says where its requests went', async () => {
  const [c] = await run('no-v1', [["const url = `${serverUrl.replace(/\\/+$/, '')}/rooms/${roomToken}`;", "const url = `${serverUrl.replace(/\\/v1\\/*$/, '')}/rooms/${roomToken}`;"]], [MODEL]);
  expect(c.status).toBe('failed');
  expect(c.divergence).toMatchObject({ expected: 'request 1 to POST /v1/rooms/{roomToken}', received: 'request 1 went to /rooms/{roomToken} (answered 404)' });
  expect(c.requests[0].path).toMatch(/^\/rooms\//);
});

it("a request whose path names no case's room is listed as a stray at the end of the run", async () => {
  const edit: [string, string] = ['const session = {', "void fetch(`${serverUrl}/nowhere`, { method: 'POST', body: '{}' }).catch(() => {});\n  const session = {"];
  const result = await runConformance({ adapter: brokenAdapter('stray', [edit]), cases: [MODEL], quietMs: 80 });
  expect(result.strays).toEqual([expect.objectContaining({ method: 'POST', path: '/v1/nowhere' })]);
  expect(formatEnd(result)).toContain('STRAY POST /v1/nowhere: no case\'s room token in the path (answered 404)');
});

it('a reused Hawk nonce leads every failing case, before the requests that never came because of it', async () => {
  const ids = ['auth', '503-retry-after', 'dropped-connection', '400-dropped', 'leave-last'].map((k) => `wire:hawk:${k}`);
  const cases = await run('nonce-first', [["const nonce = randomBytes(8).toString('base64url');", "const nonce = (hawkHeader.nonce ??= randomBytes(8).toString('base64url'));"]], ids);
  for (const c of cases) {
    expect(c.status).toBe('failed');
    expect(c.divergence!.received).toContain('Hawk nonce reused');
    expect(c.problems.some((p) => p.received.includes('never came'))).toBe(true);
  }
});

it('self-reports of the wrong type are shown as received, the type named', async () => {
  const [c] = await run('observe-types', [['return { state: client.session.state, ...client.session.counters };', 'return { state: 42, connections: String(client.session.counters.connections), sendStreams: null };']], [MODEL]);
  expect(c.divergence!.received).toBe('state 42 (a number, not a string), connections "1" (a string, not a number), sendStreams null (null, not a number), no recvStreams');
  expect(c.observed[0]).toEqual({ state: 42, connections: '1', sendStreams: null });
});
