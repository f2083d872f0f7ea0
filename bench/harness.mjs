// Shared bench harness: every figure is a ratio to a baseline measured in the same run, never an absolute target.
import { performance } from 'node:perf_hooks';

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
