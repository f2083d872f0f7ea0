// Adapters for the conform suites: the shipped JavaScript example, and copies of it with one realistic bug.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const EXAMPLE_JS = join(__dirname, '../../examples/adapters/conform-adapter.mjs');
export const EXAMPLE_PY = join(__dirname, '../../examples/adapters/conform_adapter.py');

const dir = mkdtempSync(join(tmpdir(), 'conform-adapters-'));

/** The example adapter with `from` replaced by `to` (which must occur exactly once): a client with one bug. */
export function brokenAdapter(name: string, edits: Array<[string, string]>): string {
  let source = readFileSync(EXAMPLE_JS, 'utf8');
  for (const [from, to] of edits) {
    const at = source.indexOf(from);
    if (at === -1 || source.indexOf(from, at + 1) !== -1) throw new Error(`${name}: the example adapter must contain ${JSON.stringify(from)} exactly once`);
    source = source.replace(from, to);
  }
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  return `"${process.execPath}" "${file}"`;
}

/** An adapter script written as is (for protocol breakers). */
export function scriptAdapter(name: string, source: string): string {
  const file = join(dir, `${name}.cjs`);
  writeFileSync(file, source);
  return `"${process.execPath}" "${file}"`;
}
