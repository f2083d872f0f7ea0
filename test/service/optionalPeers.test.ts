// `ws` is an optional peer: the Node inspector loads it on first connection, and without it says what to
// install. Proven on the built entry (both formats) copied where no node_modules can be found.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WS_MISSING_MESSAGE } from '../../src/visualizer/inspector.node';

const ROOT = join(__dirname, '..', '..');
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lrs-nows-'));
  for (const format of ['cjs', 'esm'] as const) {
    await build({ entryPoints: [join(ROOT, 'src/visualizer/inspector.node.ts')], bundle: true, platform: 'node', format, external: ['ws', 'xstate'], outfile: join(dir, `inspect-node.${format === 'esm' ? 'mjs' : 'cjs'}`), logLevel: 'silent' });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = (load: string) => `${load}
const messages = [];
const inspector = createVisualizerInspector({ url: 'ws://127.0.0.1:9', onError: (e) => messages.push(e.message) });
inspector.next({ type: '@xstate.snapshot', actorRef: {}, event: { type: 'xstate.init' }, snapshot: { value: 'init', status: 'active', context: { connections: 0, sendStreams: 0, recvStreams: 0 } } });
inspector.close().then(() => setTimeout(() => console.log(JSON.stringify(messages)), 50));`;

it.each([
  ['CommonJS', ['-e', script("const { createVisualizerInspector } = require('./inspect-node.cjs');")]],
  ['ESM', ['--input-type=module', '-e', script("import { createVisualizerInspector } from './inspect-node.mjs';")]],
])('%s: the entry loads without ws, and connecting says once to install it', (_name, args) => {
  const out = execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
  expect(JSON.parse(out)).toEqual([WS_MISSING_MESSAGE]);
  expect(WS_MISSING_MESSAGE).toContain('npm install ws');
});
