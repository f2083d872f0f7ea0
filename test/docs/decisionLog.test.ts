// docs/decisions.md is a decision log: numbered entries that never change number, an index that lists each
// one, and "superseded by" / "supersedes" links that point at entries that exist and agree with each other.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const text = readFileSync(join(__dirname, '..', '..', 'docs', 'decisions.md'), 'utf8');
const [head, body] = text.split('\n## Entries\n');
const entries = [...body.matchAll(/^### D-(\d+)\n\n\*\*(.+?)\*\*\n\n([\s\S]*?)(?=^### D-|\s*$(?![\s\S]))/gm)].map((m) => ({
  n: Number(m[1]),
  title: m[2].replace(/\.$/, ''),
  text: m[3],
}));
const index = [...head.matchAll(/^\| \[D-(\d+)\]\(#d-\1\) \| (.+?) \| .*? \| (.+?) \|$/gm)].map((m) => ({ n: Number(m[1]), title: m[2], status: m[3] }));

test('entries are numbered 1..N in order, each once', () => {
  expect(entries.length).toBeGreaterThan(80);
  expect(entries.map((e) => e.n)).toEqual(entries.map((_, i) => i + 1));
});

test('the index lists every entry, with its title, in order', () => {
  expect(index.map((e) => e.n)).toEqual(entries.map((e) => e.n));
  for (const e of entries) expect(index[e.n - 1].title.replace(/\\\|/g, '|')).toBe(e.title);
});

test('every entry states its status, and supersession links agree both ways', () => {
  for (const e of entries) expect(e.text).toMatch(/\*\*Status:\*\* (accepted|superseded by D-\d+)/);
  const superseded = entries.flatMap((e) => [...e.text.matchAll(/\*\*Status:\*\* superseded by D-(\d+)/g)].map((m) => [e.n, Number(m[1])]));
  expect(superseded.length).toBeGreaterThan(0);
  for (const [old, by] of superseded) {
    expect(entries[by - 1].text).toContain(`**Supersedes:** D-${old}`);
    expect(index[old - 1].status).toBe(`superseded by D-${by}`);
  }
});
