// Shared bench harness: every figure is a ratio to a baseline measured in the same run, never an absolute target.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Named exports of the package's sources (modules that are no package entry: stores, test support), bundled
 * with esbuild into the package's node_modules so that their imports (pg, better-sqlite3) resolve.
 * `names`: export name -> source path from the package root.
 */
export async function importSources(names) {
  const { build } = await import('esbuild');
  const dir = join(ROOT, 'node_modules', '.cache', 'loop-room-state-bench');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, `entry-${process.pid}.ts`);
  const out = join(dir, `bundle-${process.pid}.mjs`);
  writeFileSync(entry, Object.entries(names).map(([name, path]) => `export { ${name} } from ${JSON.stringify(join(ROOT, path))};`).join('\n'));
  try {
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      packages: 'external',
      logLevel: 'error',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); const __dirname = " + JSON.stringify(join(ROOT, 'test/support')) + ';' },
    });
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(entry, { force: true });
    rmSync(out, { force: true });
  }
}

/** Median ns per operation of `fn(i)` over `trials` trials of `n` calls each, after a warm-up. */
export function timeSync(fn, { n = 20000, trials = 7 } = {}) {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i);
  const samples = [];
  for (let t = 0; t < trials; t++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    samples.push(((performance.now() - start) * 1e6) / n);
  }
  return median(samples);
}

/** Median ns per operation of an async `fn(i)`, run sequentially. */
export async function timeAsync(fn, { n = 200, trials = 5 } = {}) {
  for (let i = 0; i < Math.min(n, 20); i++) await fn(i);
  const samples = [];
  for (let t = 0; t < trials; t++) {
    const start = performance.now();
    for (let i = 0; i < n; i++) await fn(i);
    samples.push(((performance.now() - start) * 1e6) / n);
  }
  return median(samples);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Print a table: rows of objects with the same keys. */
export function printTable(title, rows) {
  if (rows.length === 0) return;
  const keys = Object.keys(rows[0]);
  const cells = rows.map((r) => keys.map((k) => String(r[k])));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i].length)));
  const line = (vals) => '| ' + vals.map((v, i) => v.padEnd(widths[i])).join(' | ') + ' |';
  console.log(`\n${title}\n`);
  console.log(line(keys));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const c of cells) console.log(line(c));
}

export const fmt = (x, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/**
 * CPU milliseconds (user + system) the processes have used so far, all their threads; with `mainThread`, only each
 * one's main thread. Linux /proc only (NaN elsewhere).
 */
export function cpuMs(pids, { mainThread = false } = {}) {
  let ticks = 0;
  for (const pid of pids) {
    let stat;
    try {
      stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    } catch {
      if (process.platform !== 'linux') return NaN;
      continue; // ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}
