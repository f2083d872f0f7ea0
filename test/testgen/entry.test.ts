// `loop-room-state/testing` stays out of the client's door: bundling src/index.ts reaches none of it.
import { build } from 'esbuild';
import { join } from 'node:path';

const root = join(__dirname, '../..');

async function inputsOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(root, entry)], bundle: true, write: false, metafile: true, platform: 'neutral',
    mainFields: ['module', 'main'], absWorkingDir: root, logLevel: 'silent', outfile: 'out.js',
  });
  return Object.keys(result.metafile!.inputs);
}

describe('entry points', () => {
  it('the client entry (src/index.ts) bundles no test generator and no xstate/graph', async () => {
    const inputs = await inputsOf('src/index.ts');
    expect(inputs.some((p) => p.startsWith('src/model/'))).toBe(true); // the check sees the real graph
    expect(inputs.filter((p) => p.includes('src/testgen/') || p.includes('xstate-graph') || p.endsWith('src/testing.ts'))).toEqual([]);
  });

  it('the testing entry (src/testing.ts) bundles for a neutral platform: no Node-only module', async () => {
    const inputs = await inputsOf('src/testing.ts');
    expect(inputs.some((p) => p.includes('src/testgen/generate.ts'))).toBe(true);
    expect(inputs.some((p) => p.includes('xstate-graph'))).toBe(true);
  });
});
