// `npm run docs`: writes the documents generated from the machine (see src/docs/render.ts).
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'loop-docs-'));
try {
  const outfile = join(dir, 'render.cjs');
  await build({ entryPoints: ['src/docs/render.ts'], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'warning' });
  const { renderDocs } = createRequire(import.meta.url)(outfile);
  for (const [path, content] of Object.entries(await renderDocs())) {
    writeFileSync(path, content);
    console.log(`wrote ${path}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
