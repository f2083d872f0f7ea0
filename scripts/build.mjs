// Builds dist/: the client and testing entry points as ESM and CommonJS, the CLI, and type declarations.
// Each part of the package adds its entry here; runtime dependencies stay external.
import { build } from 'esbuild';
import { buildVisualizer } from './build-visualizer.mjs';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, mkdirSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];

/** Library entry points: name -> source. Built as dist/<name>.mjs and dist/<name>.cjs. */
export const LIBRARY_ENTRIES = {
  index: 'src/index.ts',
  inspect: 'src/visualizer/inspector.ts',
  'inspect-node': 'src/visualizer/inspector.node.ts',
  testing: 'src/testing.ts',
  react: 'src/react/index.ts',
};

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');

const common = { bundle: true, external, target: 'es2022', sourcemap: true, logLevel: 'warning' };
// Internal property names (ending in `_`: ./mangle.json) shortened, the same in every library file: one cache
// for all their builds.
const mangleProps = new RegExp(JSON.parse(readFileSync(new URL('./mangle.json', import.meta.url), 'utf8')).mangleProps);
let mangleCache = {};
const library = { ...common, platform: 'neutral', mainFields: ['module', 'main'], mangleProps };
const buildLibrary = async (options) => ({ mangleCache } = await build({ ...library, ...options, mangleCache }));
// ESM: one build with code splitting, so what the entries share is one copy (dist/chunks/) and what is
// loaded by import() (the Hawk signer and its hashing) stays in a chunk of its own: an app's bundler
// then ships it only to pages that use it.
await buildLibrary({
  entryPoints: LIBRARY_ENTRIES,
  format: 'esm',
  splitting: true,
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
});
// CommonJS has no code splitting: each entry is one file, import() inlined.
for (const [name, entry] of Object.entries(LIBRARY_ENTRIES)) {
  await buildLibrary({ entryPoints: [entry], format: 'cjs', outfile: `dist/${name}.cjs` });
}
await build({
  ...common,
  entryPoints: ['src/cli/bin.ts'],
  platform: 'node',
  format: 'cjs',
  outfile: 'dist/cli.cjs',
  // esbuild is required only when run from the source, where no built SQLite worker sits beside the code.
  external: [...external, 'esbuild'],
  banner: { js: '#!/usr/bin/env node' },
  define: { __PACKAGE_VERSION__: JSON.stringify(pkg.version) },
});

// The SQLite store's worker thread, loaded by the CLI from beside it (src/server/store/sqlite/workerScript.ts).
await build({ ...common, entryPoints: ['src/server/store/sqlite/worker.ts'], platform: 'node', format: 'cjs', outfile: 'dist/sqlite-worker.cjs' });

await buildVisualizer('dist/visualizer.html');
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
console.log('built dist/');
