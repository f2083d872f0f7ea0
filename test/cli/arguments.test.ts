// Command-line hygiene in every command: stray arguments are errors, messages name flags, typos get a hint.
import fc from 'fast-check';
import { ROOM_EVENTS } from '../../machines/domain';
import { closest } from '../../src/cli/args';
import { COMMANDS } from '../../src/cli/commands';
import { main } from '../../src/cli/main';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe.each(COMMANDS.map((c) => c.name))('%s', (name) => {
  it.each([['stray'], ['-x'], ['a', 'b']])('a stray positional argument %j is a usage error (exit 2), nothing done', async (...argv) => {
    const r = await run(name, ...argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(`unexpected argument '${argv[0]}'`);
  });
});

it('generate-tests names the flag, not the library option, in a range error', async () => {
  for (const [argv, flag] of [[['--max-count', '11'], '--max-count'], [['--seed', '1', '--walks', '0'], '--walks'], [['--seed', '1', '--length', '0'], '--length']] as const) {
    const r = await run('generate-tests', ...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${flag} must be an integer from`);
    expect(r.err).not.toMatch(/\b(maxCount|walkLength)\b/);
  }
});

describe('simulate --events with unknown names', () => {
  it('hints the nearest event name on stderr and still walks (the machine rejects it)', async () => {
    const r = await run('simulate', '--events', 'Session.connectionCreated,Sesssion.connectionCreated,Publisher.StreamDestroyed,Bogus', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toContain("unknown event 'Sesssion.connectionCreated'; did you mean 'Session.connectionCreated'?");
    expect(r.err).toContain("unknown event 'Publisher.StreamDestroyed'; did you mean 'Publisher.streamDestroyed'?");
    expect(r.err).toContain(`unknown event 'Bogus'; the events are ${ROOM_EVENTS.join(', ')}`);
    const steps = JSON.parse(r.out) as { accepted: boolean; anomaly?: { reason: string } }[];
    expect(steps.map((s) => s.accepted)).toEqual([true, false, false, false]);
    expect(steps.slice(1).every((s) => s.anomaly?.reason === 'unknown-event')).toBe(true);
  });

  it('known names print no hint', async () => {
    const r = await run('simulate', '--events', ROOM_EVENTS.join(','));
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });

  it('any one-character typo of a known name is hinted back to that name', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ROOM_EVENTS), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (name, at, c) => {
        const i = at % name.length;
        const typo = name.slice(0, i) + c + name.slice(i + 1);
        expect(closest(typo, ROOM_EVENTS)).toBe(name);
      }),
    );
  });
});

it('an unknown option or command gets a did-you-mean', async () => {
  const r = await run('simulate', '--event', 'x');
  expect(r.code).toBe(2);
  expect(r.err).toContain('unknown option --event; did you mean --events?');
  const c = await run('simulte');
  expect(c.code).toBe(2);
  expect(c.err).toContain("unknown command 'simulte'; did you mean 'simulate'?");
});

describe('a reader that goes away', () => {
  // `loop-room-state conform --list | head -1`: the built CLI, its stdout closed after the first chunk.
  it.each([['conform', '--list'], ['generate-tests', '--format', 'json']])('%s %s: exit 0, no EPIPE trace', async (...argv) => {
    const { spawn } = await import('node:child_process');
    const { join } = await import('node:path');
    const child = spawn(process.execPath, [join(__dirname, '../../dist/cli.cjs'), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect([code, stderr]).toEqual([0, '']);
  });
});
