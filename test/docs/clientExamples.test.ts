// Item 6 of issue 20: every ```ts and ```tsx block of docs/client.md type-checks under TypeScript's strict
// mode against the package's sources (as `loop-room-state` and `loop-room-state/react`), React, @xstate/react,
// Vue and Svelte; each block is a module of its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The code blocks of a markdown file in the given languages, in order. */
export function codeBlocks(markdown: string, languages: string[]): Array<{ lang: string; code: string; line: number }> {
  const blocks: Array<{ lang: string; code: string; line: number }> = [];
  const re = /^```(\w+)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    if (languages.includes(m[1])) blocks.push({ lang: m[1], code: m[2], line: markdown.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

it('docs/client.md: every TypeScript example compiles under strict mode', () => {
  const blocks = codeBlocks(readFileSync(join(ROOT, 'docs/client.md'), 'utf8'), ['ts', 'tsx']);
  // React, XState (invoke), Vue and Svelte recipes, errors, room helpers, join, delivery.
  expect(blocks.length).toBeGreaterThanOrEqual(8);
  // Inside the repository, so that node_modules resolves as it would for an app.
  const dir = mkdtempSync(join(ROOT, '.doc-examples-'));
  try {
    const files = blocks.map((b, i) => {
      const name = `line-${b.line}-${i}.${b.lang}`;
      // Top-level await in examples: a module (export {}) targeting ES2022.
      writeFileSync(join(dir, name), `${b.code}\nexport {};\n`);
      return name;
    });
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          jsx: 'react-jsx',
          lib: ['ES2022', 'DOM'],
          types: [],
          skipLibCheck: true,
          isolatedModules: true,
          paths: { 'loop-room-state': ['../src/index.ts'], 'loop-room-state/react': ['../src/react/index.ts'] },
        },
        files,
      }),
    );
    let out = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    // Errors name the block by its line in docs/client.md (the file name).
    expect(out).toBe('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // tsc over React's, Vue's and Svelte's types takes a while on a busy machine.
}, 180_000);
