// Builds the visualizer as one self-contained HTML file: the page's script (XState and the model), its CSS and the
// diagram laid out at build time from the machine (Graphviz runs here, in Node, not in the page), so it works opened
// from disk with no network at all and draws as soon as it is parsed.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'src/visualizer/page');

/** The diagram's SVG, laid out by Graphviz from the machine (src/visualizer/page/layout.ts, bundled for Node). */
export async function diagramSvg() {
  const dir = mkdtempSync(join(tmpdir(), 'loop-layout-'));
  try {
    const outfile = join(dir, 'layout.cjs');
    await build({ entryPoints: [join(page, 'layout.ts')], absWorkingDir: root, bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'warning' });
    return await createRequire(import.meta.url)(outfile).pageSvg();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Write the single-file visualizer to `outFile`; returns its size in bytes. */
export async function buildVisualizer(outFile) {
  const result = await build({
    entryPoints: [join(page, 'main.ts')],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'eof',
    charset: 'ascii',
    logLevel: 'warning',
  });
  const script = result.outputFiles[0].text;
  // esbuild escapes `</script`; refuse any `<script` too (inside `<!--` it would swallow the closing tag).
  if (/<\/?script/i.test(script)) throw new Error('build-visualizer: the bundled script contains a sequence unsafe inside <script>');
  if (/WebAssembly\.(instantiate|compile)/.test(script)) throw new Error('build-visualizer: Graphviz leaked into the page script (only layout.ts may import it)');
  const svg = await diagramSvg();
  const css = readFileSync(join(page, 'style.css'), 'utf8');
  const template = readFileSync(join(page, 'index.html'), 'utf8');
  for (const p of ['/*STYLE*/', '/*SCRIPT*/', '<!--DIAGRAM-->']) if (!template.includes(p)) throw new Error(`build-visualizer: index.html lost its ${p} placeholder`);
  // Function replacers: `$` in the script must not be read as a replacement pattern.
  const html = template
    .replace('/*STYLE*/', () => css)
    .replace('<!--DIAGRAM-->', () => svg)
    .replace('/*SCRIPT*/', () => script);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, html);
  return Buffer.byteLength(html);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(root, 'dist/visualizer.html');
  const size = await buildVisualizer(out);
  console.log(`built ${out} (${(size / 1024).toFixed(0)} KiB)`);
}
