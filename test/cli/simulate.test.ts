import { main } from '../../src/cli/main';
import { WORKED_EXAMPLE } from '../../src/model/workedExample';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('loop-room-state CLI', () => {
  it('--help lists simulate', async () => {
    const r = await run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/simulate\s+walk an event sequence/);
  });

  it('simulate walks the worked example and prints each exact report body', async () => {
    const r = await run('simulate');
    expect(r.code).toBe(0);
    for (const row of WORKED_EXAMPLE) {
      const body = JSON.stringify({ action: 'status', event: row.event, state: row.state, connections: row.connections, sendStreams: row.sendStreams, recvStreams: row.recvStreams });
      expect(r.out).toContain(body);
    }
    expect(r.out.trim().split('\n')).toHaveLength(WORKED_EXAMPLE.length + 1);
  });

  it('simulate --events takes another sequence and says which events were rejected', async () => {
    const r = await run('simulate', '--events', 'Session.connectionDestroyed,Session.connectionCreated,Bogus', '--json');
    expect(r.code).toBe(0);
    const steps = JSON.parse(r.out);
    expect(steps.map((s: { accepted: boolean; state: string }) => [s.accepted, s.state])).toEqual([[false, 'init'], [true, 'waiting'], [false, 'waiting']]);
    expect(steps[0].anomaly.reason).toBe('counter-underflow');
    expect(steps[2].anomaly.reason).toBe('unknown-event');
  });

  it('a bad option is a usage error, not a crash', async () => {
    const r = await run('simulate', '--evnets', 'x');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown option --evnets');
    expect((await run('nonsense')).code).toBe(2);
  });
});
