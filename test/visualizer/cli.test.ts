// `loop-room-state visualize`: the real bundled CLI in a child process, serving the built page on a port it picks.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { buildInto } from '../support/visualizerPage';

let dir: string;
beforeAll(() => {
  dir = buildInto({ cli: true });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { child: ChildProcessWithoutNullStreams; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [join(dir, 'cli.cjs'), 'visualize', ...args]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exit };
}

async function until(pred: () => boolean, ms = 10_000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > ms) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('serves the page on 127.0.0.1, prints its URL, and stops cleanly on SIGINT', async () => {
  const p = run(['--port', '0']);
  await until(() => /Visualizer: http:\/\/127\.0\.0\.1:\d+\//.test(p.out()));
  const url = (p.out().match(/Visualizer: (\S+)/) as RegExpMatchArray)[1];
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const html = await res.text();
  expect(html).toContain('<title>Room session visualizer');
  expect(p.out()).toContain(`Live inspectors connect to ${url.replace('http', 'ws')}inspect`);
  p.child.kill('SIGINT');
  await expect(p.exit).resolves.toBe(0);
  expect(p.out()).toContain('Visualizer stopped');
  expect(p.err()).toBe('');
});

it('says which port is taken instead of crashing', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as { port: number }).port;
  const p = run(['--port', String(port)]);
  await expect(p.exit).resolves.toBe(1);
  expect(p.err()).toContain(`port ${port} on 127.0.0.1 is in use: pass --port with another port (0 picks a free one)`);
  blocker.close();
});

it.each([
  [['--port', 'abc'], '--port must be an integer from 0 to 65535'],
  [['--port', '70000'], '--port must be an integer from 0 to 65535'],
  [['--colour'], 'unknown option --colour'],
  [['extra'], "unexpected argument 'extra'"],
])('refuses %j with a usage error (exit 2)', async (args, message) => {
  const p = run(args);
  await expect(p.exit).resolves.toBe(2);
  expect(p.err()).toContain(message);
  expect(p.err()).toContain('loop-room-state visualize [--port N]');
});
