// Issue 20, item 6: JSDoc on every export. Walks each entry of package.json's `exports` through the type
// declarations the package ships (its `types` condition, under dist/types: needs npm run build) with the
// TypeScript compiler API, as an editor shows them to an app, and names every export without a comment.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

/** Each entry with types: its subpath and its `types` file. */
const entries = Object.entries(pkg.exports)
  .filter((e): e is [string, { types: string }] => typeof e[1] === 'object' && e[1] !== null && typeof (e[1] as { types?: unknown }).types === 'string')
  .map(([subpath, conditions]) => ({ subpath, file: join(ROOT, conditions.types) }));

/** How many exports `file` has, and those without a JSDoc comment (an alias is judged by what it names). */
function walk(program: ts.Program, file: string): { count: number; undocumented: string[] } {
  const checker = program.getTypeChecker();
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
  const undocumented = exported.filter((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === '';
  });
  return { count: exported.length, undocumented: undocumented.map((s) => s.name) };
}

it('package.json has the entries an app imports, each with shipped type declarations', () => {
  expect(entries.map((e) => e.subpath)).toEqual(expect.arrayContaining(['.', './inspect', './react', './testing']));
  for (const { file } of entries) expect(existsSync(file) ? file : `${file} missing: run npm run build`).toBe(file);
});

it('every export of every package entry has JSDoc', () => {
  const program = ts.createProgram(
    entries.map((e) => e.file),
    { strict: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true, skipLibCheck: true },
  );
  const walked = entries.map(({ subpath, file }) => ({ subpath, ...walk(program, file) }));
  // Each entry's exports were seen (a broken resolution would find none, and pass).
  for (const w of walked) expect([w.subpath, w.count > 0]).toEqual([w.subpath, true]);
  expect(walked.filter((w) => w.undocumented.length > 0).map(({ subpath, undocumented }) => ({ subpath, undocumented }))).toEqual([]);
});
