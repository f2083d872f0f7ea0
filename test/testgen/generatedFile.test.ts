// The committed generated suite (__generated__/vectors.test.ts) must be what the generator makes now.
// Regenerate with: UPDATE_GENERATED=1 npx jest test/testgen/generatedFile
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTestCases, renderJestFile } from '../../src/testing';

const FILE = join(__dirname, '__generated__', 'vectors.test.ts');
const COMMAND = 'loop-room-state generate-tests --max-count 3 --format jest';

describe('the generated jest suite', () => {
  it('is up to date with the model', () => {
    const fresh = renderJestFile(generateTestCases({ maxCount: 3 }), { command: COMMAND });
    if (process.env.UPDATE_GENERATED === '1') writeFileSync(FILE, fresh);
    expect(existsSync(FILE)).toBe(true);
    const committed = readFileSync(FILE, 'utf8');
    if (committed !== fresh) throw new Error(`${FILE} is stale: regenerate it with UPDATE_GENERATED=1 npx jest test/testgen/generatedFile`);
  });
});

describe('a rendered jest file', () => {
  /** Run the file's text with jest's own `expect`, collecting its tests instead of registering them. */
  function collect(source: string): Array<{ name: string; fn: () => void }> {
    const tests: Array<{ name: string; fn: () => void }> = [];
    const load = (id: string) => {
      if (id !== 'loop-room-state') throw new Error(`unexpected require ${id}`);
      return require('../../src/index');
    };
    new Function('describe', 'test', 'expect', 'require', source)(
      (_: string, fn: () => void) => fn(),
      (name: string, fn: () => void) => tests.push({ name, fn }),
      expect,
      load,
    );
    return tests;
  }

  it('passes for the model\'s vectors and fails, naming the step, for a wrong one', () => {
    const cases = generateTestCases();
    const good = collect(renderJestFile(cases));
    expect(good.map((t) => t.name)).toEqual(cases.map((c) => `${c.id}: ${c.description}`));
    for (const t of good) t.fn();
    const wrong = cases.map((c, i) => (i === 0 ? { ...c, steps: c.steps.map((s, j) => (j === 1 ? { ...s, state: 'sendrecv' as const } : s)) } : c));
    const [first] = collect(renderJestFile(wrong));
    expect(first.fn).toThrow(`${cases[0].id} step 2 (${cases[0].steps[1].event})`);
  });
});
