// Shipped docs link only what the package ships: every relative link in README.md and docs/*.md must
// point inside `files` (package.json) at a file that exists, and a #fragment at a heading of that file.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
/** npm always packs these, whatever `files` says. */
const ALWAYS = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'];

export function shippedDocs(): string[] {
  return ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
}

/** Markdown links and images, and HTML href/src, outside code blocks and code spans. */
export function linksOf(markdown: string): string[] {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const links: string[] = [];
  for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push(m[1]);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)) links.push(m[1]);
  for (const m of text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)) links.push(m[1]);
  return links;
}

/** GitHub's heading anchors: lowercased, punctuation dropped, spaces to '-', repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a\s+(?:name|id)=["']([^"']+)["']/g)) anchors.add(m[1]);
  return anchors;
}

const isShipped = (path: string) => ALWAYS.includes(path) || pkg.files.some((f) => path === f || path.startsWith(`${f.replace(/\/+$/, '')}/`));

export function problemsOf(doc: string): string[] {
  const source = readFileSync(join(ROOT, doc), 'utf8');
  const problems: string[] = [];
  for (const link of linksOf(source)) {
    if (/^[a-z][a-z\d+.-]*:/i.test(link)) continue; // https:, mailto:, data:
    const [rawPath, fragment] = link.split('#') as [string, string | undefined];
    const path = decodeURIComponent(rawPath);
    const target = path === '' ? doc : posix.normalize(posix.join(posix.dirname(doc), path)).replace(/\/$/, '');
    if (path.startsWith('/') || target.startsWith('..')) {
      problems.push(`${doc}: ${link} leaves the package`);
      continue;
    }
    if (!isShipped(target)) {
      problems.push(`${doc}: ${link} -> ${target}, which the package does not ship (files: ${pkg.files.join(', ')})`);
      continue;
    }
    const abs = join(ROOT, ...target.split('/'));
    if (!existsSync(abs)) {
      problems.push(`${doc}: ${link} -> ${target}, which does not exist`);
      continue;
    }
    if (fragment && target.endsWith('.md') && statSync(abs).isFile() && !anchorsOf(readFileSync(abs, 'utf8')).has(fragment)) {
      problems.push(`${doc}: ${link} -> no heading #${fragment} in ${target}`);
    }
  }
  return problems;
}

/** Code spans that name a file of this repository the package does not ship (a reader of the package has no `src/`). */
export function unshippedMentionsOf(doc: string): string[] {
  const source = readFileSync(join(ROOT, doc), 'utf8').replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const found: string[] = [];
  for (const m of source.matchAll(/`([\w./-]+\/[\w./-]*)`/g)) {
    const path = m[1].replace(/\/$/, '');
    if (path.includes('..') || isShipped(path) || !/^(src|test|machines|scripts|bench)(\/|$)/.test(path)) continue;
    if (existsSync(join(ROOT, ...path.split('/')))) found.push(`${doc}: \`${m[1]}\` is a file of the repository, not of the package`);
  }
  return found;
}

describe('links in shipped docs', () => {
  it('the checker finds what it should (bad links are caught, good ones pass)', () => {
    expect(linksOf('[a](x.md) ![b](y.png "t") `[c](z.md)` <img src="w.png">\n```\n[d](v.md)\n```\n[e]: u.md')).toEqual(['x.md', 'y.png', 'u.md', 'w.png']);
    expect([...anchorsOf('# Title\n## 4.1 Counting *always* happens\n## Title\n```\n# not\n```')]).toEqual(['title', '41-counting-always-happens', 'title-1']);
  });

  it.each(shippedDocs())('%s links only shipped, existing files and headings', (doc) => {
    expect(problemsOf(doc)).toEqual([]);
  });

  it.each(shippedDocs())('%s names no repository-only file (src/, test/, machines/, scripts/, bench/)', (doc) => {
    expect(unshippedMentionsOf(doc)).toEqual([]);
  });

  it('every doc is found (relative to the package root)', () => {
    expect(shippedDocs().every((d) => existsSync(join(ROOT, d)) && !relative(ROOT, join(ROOT, d)).startsWith(`..${sep}`))).toBe(true);
  });
});
