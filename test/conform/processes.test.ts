// The adapter's processes: whatever an adapter starts is gone after the run, and after an interrupted one.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformance } from '../../src/conform/runner';
import { buildInto } from '../support/visualizerPage';
import { brokenAdapter, scriptAdapter } from './support';

const dir = mkdtempSync(join(tmpdir(), 'conform-processes-'));
const started: number[] = [];

/** Running, not a zombie left for a parent that no longer reaps (a container's init may not). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

/** Pids an adapter wrote to `file`, one a line. */
const pidsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []);

afterEach(() => {
  // What a failing test left running: only the pids these tests' adapters wrote.
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

it('a helper process the adapter started is killed with its process group at the end of the run', async () => {
  const file = join(dir, 'helper.pids');
  const adapter = brokenAdapter('helper', [
    ["case 'hello':", `case 'hello': { const h = (await import('node:child_process')).spawn('sleep', ['300'], { stdio: 'ignore' }); h.unref(); (await import('node:fs')).appendFileSync(${JSON.stringify(file)}, h.pid + '\\n'); }`],
  ]);
  const result = await runConformance({ adapter, cases: ['model:init|Session.connectionCreated|0'], quietMs: 50, jobs: 1 });
  expect(result.summary.passed).toBe(1);
  const helpers = pidsIn(file);
  started.push(...helpers);
  expect(helpers).toHaveLength(1);
  // The adapter itself ends when its stdin closes; its helper must not outlive it.
  expect(await until(() => !helpers.some(alive))).toBe(true);
});

describe('an interrupted kit kills every adapter process group, then exits 128 + the signal', () => {
  let cli: string;
  beforeAll(() => {
    cli = join(buildInto({ cli: true }), 'cli.cjs');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: exit %i, the adapters and their helpers gone', async (signal, code) => {
    const file = join(dir, `${signal}.pids`);
    // Answers hello, then hangs on start; its helper would outlive it unless the group is killed.
    const adapter = scriptAdapter(
      `hang-${signal}`,
      `const fs = require('fs');
const h = require('child_process').spawn('sleep', ['300'], { stdio: 'ignore' });
fs.appendFileSync(${JSON.stringify(file)}, process.pid + '\\n' + h.pid + '\\n');
require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
  const m = JSON.parse(l);
  if (m.type === 'hello') console.log(JSON.stringify({ id: m.id, ok: true, name: 'hangs', auth: ['basic'], observes: [] }));
});`,
    );
    const kit = spawn(process.execPath, [cli, 'conform', '--adapter', adapter, '--only', 'model', '--jobs', '2', '--timeout-ms', '600000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    kit.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => kit.once('exit', (c) => resolve(c)));
    // Two lanes: both adapters started (the second after the first's hello) and waiting on start.
    expect(await until(() => pidsIn(file).length === 4)).toBe(true);
    const pids = pidsIn(file);
    started.push(...pids);
    kit.kill(signal);
    expect(await exited).toBe(code);
    expect(err).toContain(`interrupted by ${signal}`);
    expect(await until(() => !pids.some(alive))).toBe(true);
  });
});
