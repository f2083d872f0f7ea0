// Builds the visualizer as one self-contained HTML file: the page's script (with XState, the model and
// Graphviz's wasm) and its CSS inlined, so it works opened from disk with no network at all.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'src/visualizer/page');

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
    legalComments: 'eof', // keeps Viz.js's notice for the Graphviz and Expat object code it carries
    charset: 'ascii',
    logLevel: 'warning',
    // @viz-js/viz reads import.meta.url only to find a wasm file it never needs (the wasm is embedded).
    define: { 'import.meta.url': '"about:blank"' },
  });
  const script = result.outputFiles[0].text;
  // esbuild escapes `</script`; a `<script` (after the `<!--` that Graphviz's strings hold) would switch the
  // HTML parser into its double-escaped state and swallow the closing tag, so refuse both.
  if (/<\/?script/i.test(script)) throw new Error('build-visualizer: the bundled script contains a sequence unsafe inside <script>');
  const css = readFileSync(join(page, 'style.css'), 'utf8');
  const template = readFileSync(join(page, 'index.html'), 'utf8');
  if (!template.includes('/*STYLE*/') || !template.includes('/*SCRIPT*/')) throw new Error('build-visualizer: index.html lost its placeholders');
  // Function replacers: `$` in the script must not be read as a replacement pattern.
  const html = template.replace('/*STYLE*/', () => css).replace('/*SCRIPT*/', () => script);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, html);
  return Buffer.byteLength(html);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? join(root, 'dist/visualizer.html');
  const size = await buildVisualizer(out);
  console.log(`built ${out} (${(size / 1024).toFixed(0)} KiB)`);
}
