// Where the SQLite worker's code comes from. The built package ships it bundled next to the CLI
// (dist/sqlite-worker.cjs, made by scripts/build.mjs from worker.ts). Run from the TypeScript source (the tests),
// there is no built file beside this one: worker.ts is bundled here with esbuild (a development dependency) on first
// use, once per process, and run as code whose `require` resolves from the source folder, as it would from dist/.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const WORKER_FILE = 'sqlite-worker.cjs';

let source: { filename: string; code?: undefined } | { code: string; filename?: undefined } | undefined;

export function workerScript(): { filename: string; code?: undefined } | { code: string; filename?: undefined } {
  if (source) return source;
  const built = join(__dirname, WORKER_FILE);
  if (existsSync(built)) return (source = { filename: built });
  const entry = join(__dirname, 'worker.ts');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  // Packages (better-sqlite3) stay outside the bundle, loaded from node_modules as the built file loads them.
  const bundle = esbuild.buildSync({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, packages: 'external', logLevel: 'silent' });
  const code = bundle.outputFiles[0].text;
  return (source = { code: `((require) => {\n${code}\n})(require('node:module').createRequire(${JSON.stringify(entry)}));` });
}
