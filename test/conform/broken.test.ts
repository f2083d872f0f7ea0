// Clients with one realistic bug each fail exactly the cases that bug should fail: nothing else.
import { ROOM_EVENTS } from '../../machines/domain';
import { runConformance, selectCases } from '../../src/conform/runner';
import type { CaseResult, ConformCase } from '../../src/conform/types';
import { brokenAdapter } from './support';

const info = { name: '', auth: ['basic', 'hawk'] as Array<'basic' | 'hawk'>, observes: [] };
const all = selectCases({}, info);
const ids = (pick: (c: ConformCase) => boolean) => all.filter(pick).map((c) => c.id).sort();
const isUnderflow = (s: ConformCase['steps'][number]) => !s.accepted && /^(Session|Publisher)\.(connection|stream)(Created|Destroyed)$/.test(s.event);
const wire = (...kinds: string[]) => (c: ConformCase) => c.kind === 'wire' && kinds.some((k) => c.id.endsWith(`:${k}`));

const BUGS: Array<{ name: string; edits: Array<[string, string]>; fails: string[]; mayFail?: (c: CaseResult) => boolean }> = [
  {
    name: 'wrong settle (media gone: back to starting, never cleanup)',
    edits: [["return state === 'waiting' || state === 'starting' ? 'starting' : 'cleanup';", "return 'starting';"]],
    fails: ids((c) => c.steps.some((s) => s.state === 'cleanup')),
  },
  {
    name: 'negative counter (no underflow check)',
    edits: [['if (counters[counter] < 0) return null;', '']],
    fails: ids((c) => c.steps.some(isUnderflow)),
  },
  {
    name: 'a report for a rejected event',
    edits: [['if (!next) return;', 'if (!next) { if (!left && !stopped) { const { connections, sendStreams, recvStreams } = session.counters; queue.push(JSON.stringify({ action: \'status\', event: type, state: session.state, connections, sendStreams, recvStreams })); pumping ??= pump(); } return; }']],
    fails: ids((c) => c.steps.some((s) => !s.accepted)),
  },
  {
    name: 'event names matched case-insensitively',
    edits: [['function step(session, type) {', 'function step(session, type) {\n  type = Object.keys(COUNTING).find((k) => k.toLowerCase() === String(type).toLowerCase()) ?? type;']],
    // The protocol 1.1 misspellings that differ only in case, and the lower-case variant of every event.
    fails: ids((c) => c.steps.some((s) => !s.accepted && !(ROOM_EVENTS as readonly string[]).includes(s.event) && ROOM_EVENTS.some((e) => e.toLowerCase() === s.event.toLowerCase()))),
  },
  {
    name: 'two-party assumption (any connection leaving means back to waiting)',
    edits: [['if (counters[counter] < 0) return null;', "if (counters[counter] < 0) return null;\n  if (type === 'Session.connectionDestroyed' && counters.connections >= 1) return { state: 'waiting', counters };"]],
    fails: ids((c) => c.steps.some((s) => s.accepted && s.event === 'Session.connectionDestroyed' && s.connections >= 2)),
  },
  {
    name: 'no retry',
    edits: [['if (res.status === 408 || res.status === 429 || res.status >= 500) {', 'if (false) {'], ["console.error(`attempt ${attempt}: ${err.message}`);", 'return false;']],
    fails: ids(wire('503-retry-after', '429-retry-after', 'dropped-connection')),
  },
  {
    name: 'retry before Retry-After',
    edits: [["await sleep(after && /^\\d+$/.test(after) ? Number(after) * 1000 : 100 * attempt);", 'await sleep(100 * attempt);']],
    fails: ids(wire('503-retry-after', '429-retry-after')),
  },
  {
    name: 'reports after the leave (the leave does not wait for the queue)',
    edits: [['while (pumping) await pumping;', '']],
    fails: ids(wire('leave-last')),
    // Elsewhere the queue is empty when the leave comes, unless a report was slower than the quiet window:
    // then this client's leave overtakes it there too, and that is the divergence.
    mayFail: (c) => /"action":"leave"/.test(c.divergence?.received ?? ''),
  },
  {
    name: 'Basic without the colon',
    edits: [['Buffer.from(`${auth.sessionToken}:`)', 'Buffer.from(`${auth.sessionToken}`)']],
    fails: ids((c) => c.auth === 'basic'),
  },
  {
    name: 'a reused Hawk nonce',
    edits: [["const nonce = randomBytes(8).toString('base64url');", "const nonce = (hawkHeader.nonce ??= randomBytes(8).toString('base64url'));"]],
    fails: ids((c) => c.auth === 'hawk'),
  },
];

describe('deliberately broken clients fail the cases they should, and only those', () => {
  // Three at a time (the wait is the wire's, not the CPU's); each bug is its own test, reported by name.
  const runs = new Map<string, Promise<CaseResult[]>>();
  const run = (bug: (typeof BUGS)[number]) => runConformance({ adapter: brokenAdapter(bug.name.replace(/\W+/g, '-'), bug.edits), quietMs: 80, jobs: 4 }).then((r) => r.cases);
  beforeAll(() => {
    const AT_ONCE = 3;
    for (let i = 0; i < BUGS.length; i += AT_ONCE) {
      const before = i === 0 ? Promise.resolve() : Promise.allSettled(BUGS.slice(i - AT_ONCE, i).map((b) => runs.get(b.name)));
      for (const bug of BUGS.slice(i, i + AT_ONCE)) {
        const p = before.then(() => run(bug));
        p.catch(() => {});
        runs.set(bug.name, p);
      }
    }
  });
  it.each(BUGS.map((b) => [b.name, b] as const))('%s', async (_name, bug) => {
    expect(bug.fails.length).toBeGreaterThan(0);
    const cases = await runs.get(bug.name)!;
    const failed = cases.filter((c) => c.status === 'failed' && !(bug.mayFail?.(c) && !bug.fails.includes(c.id))).map((c) => c.id).sort();
    expect(failed).toEqual(bug.fails);
    expect(cases.filter((c) => c.status === 'skipped')).toEqual([]);
    for (const c of cases.filter((r) => r.status === 'failed')) expect(c.divergence).toBeDefined();
  });
});

it('the two-party assumption shows only from max count 3 (the default): at 2 no case has a third party leave', () => {
  const thirdLeaves = (cs: ConformCase[]) => cs.filter((c) => c.steps.some((s) => s.accepted && s.event === 'Session.connectionDestroyed' && s.connections >= 2));
  expect(thirdLeaves(selectCases({ maxCount: 2 }, info))).toEqual([]);
  expect(thirdLeaves(all).length).toBeGreaterThan(0);
});
