// What a browser app pays to ship the client: esbuild (minified, browser platform, ES2022) bundles of the
// built package, gzipped (level 9). Sizes are deterministic, so they are printed as bytes, with the ratio
// to xstate's own `createActor` as the same-run baseline; and what carries the weight, from esbuild's metafile.
import { build, transform } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fmt, printTable } from './harness.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The package's build shortens internal property names (scripts/mangle.json); bundles of the sources do the same. */
const SOURCES = { mangleProps: new RegExp(JSON.parse(readFileSync(join(ROOT, 'scripts/mangle.json'), 'utf8')).mangleProps) };
export const GOAL_KB = 16;
/** Issue 20's goal: what the package adds on top of XState (an app's own peer) for a Basic client, at start. */
export const OURS_GOAL_KB = 6.5;
/**
 * What test/client/bundle.test.ts holds the figure under until that goal is met (D-119): the figure reached
 * (7.50 kB from the sources) plus about 0.1 kB for zlib builds that compress differently. Lower it as the
 * client shrinks (the test says when it is loose); never raise it to make room. Raised once, from 7.45, for
 * D-157: the retries a server restart needs (reports and the join were lost), 0.16 kB.
 */
export const OURS_CEILING_KB = 7.6;

/** A Basic client (a page given its sessionToken, fed by OpenTok): what it imports from `entry`. */
export const basicClient = (entry) => `export { createRoomSession, attachOpenTok, roomSessionMachine } from ${JSON.stringify(entry)};`;

/**
 * Issue 20's figure: the Basic client bundled as an app that ships XState itself would (xstate external), from
 * the built package (`dist`) or from the sources; `start` is what the package adds to the page at start.
 */
export const basicOnTopOfXState = (from = 'dist') =>
  bundleSize(basicClient(from === 'dist' ? join(ROOT, 'dist/index.mjs') : './src/index'), { splitting: true, external: ['xstate'], ...(from === 'dist' ? {} : SOURCES) });

const kb = (bytes) => fmt(bytes / 1000, 1);

/**
 * Bundle `contents` (an ES module importing the package) as an app would; with `splitting`, chunks loaded
 * by dynamic import() are counted apart from what loads at start.
 */
export async function bundleSize(contents, { from = ROOT, splitting = false, external = [], mangleProps } = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'lrs-bundle-'));
  try {
    const result = await build({
      stdin: { contents, resolveDir: from, loader: 'ts', sourcefile: 'app.ts' },
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      target: 'es2022',
      splitting,
      external,
      mangleProps,
      outdir,
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const gz = (file) => gzipSync(file.contents, { level: 9 }).length;
    const meta = (file) => Object.entries(result.metafile.outputs).find(([key]) => resolve(key) === file.path)?.[1];
    const js = result.outputFiles.filter((f) => f.path.endsWith('.js'));
    const entry = js.find((f) => meta(f)?.entryPoint);
    // Loaded at start: the entry and the chunks it imports statically (shared with lazy chunks or not).
    const atStart = new Set([entry]);
    for (const f of atStart) {
      for (const i of meta(f).imports) if (i.kind === 'import-statement' && !i.external) atStart.add(js.find((g) => resolve(g.path) === resolve(i.path)));
    }
    const sum = (files, size) => files.reduce((n, f) => n + size(f), 0);
    const start = [...atStart];
    const lazy = js.filter((f) => !atStart.has(f));
    /** Minified bytes per source file, in the files loaded at start or in the lazy ones. */
    const bytesBy = (files) => {
      const by = {};
      for (const f of files) for (const [input, { bytesInOutput }] of Object.entries(meta(f).inputs)) by[input] = (by[input] ?? 0) + bytesInOutput;
      return by;
    };
    // The lazy chunk(s) holding the Hawk signer, apart (a Basic session never loads them).
    const hawk = lazy.filter((f) => Object.keys(meta(f).inputs).some((i) => /hawkSigner|@noble/.test(i)));
    return {
      start: sum(start, gz),
      lazy: sum(lazy, gz),
      hawk: sum(hawk, gz),
      minified: sum(start, (f) => f.contents.length),
      lazyMinified: sum(lazy, (f) => f.contents.length),
      hawkMinified: sum(hawk, (f) => f.contents.length),
      inputs: bytesBy(start),
      lazyInputs: bytesBy(lazy),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/**
 * Gzipped bytes each source module costs what loads at start: the start code gzipped with and without that
 * module's part (esbuild's unminified output marks each part with its path; each variant is minified alone).
 * gzip shares context between parts, so the costs add up to less than the whole: an order, not a split.
 */
async function gzipCostByModule(contents, options) {
  const outdir = mkdtempSync(join(tmpdir(), 'lrs-bundle-'));
  try {
    const result = await build({ stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'app.ts' }, bundle: true, platform: 'browser', format: 'esm', target: 'es2022', outdir, write: false, metafile: true, logLevel: 'silent', ...options });
    const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint);
    if (entry[1].imports.some((i) => i.kind === 'import-statement' && !i.external)) throw new Error('the start code is more than one file');
    // The exports name parts that are left out; they are the same in every variant.
    const text = result.outputFiles.find((f) => resolve(f.path) === resolve(entry[0])).text.replace(/^export \{[^}]*\};?\s*$/m, '');
    const parts = text.split(/^(?=\/\/ \S+\.[cm]?[jt]s$)/m);
    const gz = async (code) => gzipSync((await transform(code, { minify: true, format: 'esm', target: 'es2022' })).code, { level: 9 }).length;
    const whole = await gz(text);
    const costs = {};
    // A module can have more than one part (its xstate import is hoisted apart).
    for (let i = 0; i < parts.length; i++) {
      const module = parts[i].match(/^\/\/ (\S+)/)?.[1];
      if (module) costs[module] = (costs[module] ?? 0) + whole - (await gz(parts.filter((_, j) => j !== i).join('')));
    }
    return { whole, costs: Object.entries(costs).map(([module, cost]) => ({ module, cost })).sort((a, b) => b.cost - a.cost) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Group metafile inputs into what a reader can act on. */
function owner(input) {
  if (input.includes('node_modules/xstate/')) return 'xstate (interpreter, setup, actions)';
  if (input.startsWith('machines/')) return 'the machine and its vocabulary (machines/)';
  if (input.includes('node_modules/@noble/hashes/')) return 'Hawk hashing: SHA-256, SHA-1, HMAC (@noble/hashes)';
  if (/src\/transport\/hawk\w*\.ts$/.test(input)) return 'Hawk signer, credential check (src/transport/hawk*)';
  if (/src\/transport\/http\.ts$/.test(input)) return 'shared with the room helpers: serverUrl, refusals, messages (src/transport/http)';
  if (/src\/transport\//.test(input)) return 'delivery: queue, attempt, retry, Basic (src/transport)';
  if (/src\/(service\/options|check)\.ts$/.test(input)) return 'option checks (src/service/options, src/check)';
  if (/src\/service\//.test(input)) return 'session: actor, refresh, page hide, listeners (src/service)';
  if (/src\/adapters\//.test(input)) return 'OpenTok adapter (src/adapters)';
  if (/src\/(model|report)/.test(input)) return 'step description, report body (src/model, src/report)';
  if (/src\/rooms\//.test(input)) return 'room helpers: register, create, join (src/rooms; loaded on first call)';
  if (/src\/react\//.test(input)) return 'useRoomSession (src/react)';
  return input;
}

export default async function () {
  const pkg = join(ROOT, 'dist/index.mjs');
  const client = basicClient(pkg);
  // [what, contents, bundle options, which part counts]
  const cases = [
    ['xstate createActor alone (baseline)', `export { createActor } from 'xstate';`, {}, 'all'],
    ['machine only: roomSessionMachine', `export { roomSessionMachine } from ${JSON.stringify(pkg)};`, {}, 'all'],
    ['full client, one file (no code splitting)', client, {}, 'all'],
    ['full client, Basic: what loads at start (code splitting)', client, { splitting: true }, 'start'],
    ['full client, Hawk loaded: start + the signer chunk (code splitting)', client, { splitting: true }, 'all'],
    // The same from the sources: the built package must give the same (nothing in dist/ imports the signer
    // or the room helpers statically).
    ['full client, Basic, bundled from the sources (code splitting)', basicClient('./src/index'), { splitting: true, ...SOURCES }, 'start'],
    // The floor: what the client uses of XState, with nothing of ours. Any client that runs this
    // machine with XState pays it; only the rest is ours to shrink.
    ['xstate floor: setup, assign, emit, createActor, transition (none of ours)', `export { setup, assign, emit, createActor, transition, initialTransition } from 'xstate';`, {}, 'all'],
    // For an app that already ships XState (it is a peer dependency): what this package adds.
    ['ours only, Basic at start (xstate external)', client, { splitting: true, external: ['xstate'] }, 'start'],
    // The same client joining by itself: the join (the room helpers) loads when the session is created.
    ['ours only, Basic + join loaded (xstate external)', client, { splitting: true, external: ['xstate'] }, 'all-but-hawk'],
    // A React app: the hook and the client it runs, at start (react and xstate are the app's own).
    ['ours only, React useRoomSession at start (react, xstate external)', `export { useRoomSession } from ${JSON.stringify(join(ROOT, 'dist/react.mjs'))};`, { splitting: true, external: ['xstate', 'react'] }, 'start'],
  ];
  const rows = [];
  for (const [what, contents, options, part] of cases) {
    const s = await bundleSize(contents, options);
    const [min, gz] =
      part === 'start' ? [s.minified, s.start] : part === 'all-but-hawk' ? [s.minified + s.lazyMinified - s.hawkMinified, s.start + s.lazy - s.hawk] : [s.minified + s.lazyMinified, s.start + s.lazy];
    rows.push({ what, min, gz });
  }
  const base = rows[0].gz;
  const byWhat = (prefix) => rows.find((r) => r.what.startsWith(prefix)).gz;
  printTable(`Browser bundle of the built package (esbuild --minify --platform=browser, gzip -9, each file gzipped apart); goal: full client <= ${GOAL_KB} kB`, [
    ...rows.map(({ what, min, gz }) => ({ what, 'minified kB': kb(min), 'gzipped kB': kb(gz), 'ratio to createActor': fmt(gz / base) })),
  ]);
  const floor = byWhat('xstate floor');
  const ours = byWhat('ours only, Basic at start');
  const met = ours <= OURS_GOAL_KB * 1000;
  console.log(
    `Issue 20's goal, the package on top of XState for a Basic client at start <= ${OURS_GOAL_KB} kB gzipped: ${met ? 'MET' : 'NOT MET'} ` +
      `(${kb(ours)} kB${met ? '' : `, ${kb(ours - OURS_GOAL_KB * 1000)} kB over`}; the test holds it under ${OURS_CEILING_KB} kB).`,
  );
  const start = byWhat('full client, Basic: what loads');
  console.log(
    `Budget: goal ${GOAL_KB} kB - xstate floor ${kb(floor)} kB = ${kb(GOAL_KB * 1000 - floor)} kB left for the machine and the client; ` +
      `they add ${kb(start - floor)} kB to a Basic page (${fmt((start - floor) / (GOAL_KB * 1000 - floor))}x the room left).\n`,
  );

  // Where the weight is: the same full client bundled from the sources with code splitting, by owner
  // (minified bytes before gzip), at start and in the chunk loaded by Hawk sessions.
  const full = await bundleSize(basicClient('./src/index'), { splitting: true, ...SOURCES });
  const groups = new Map();
  for (const [which, inputs] of [['start', full.inputs], ['lazy', full.lazyInputs]]) {
    for (const [input, bytes] of Object.entries(inputs)) {
      const g = groups.get(owner(input)) ?? { start: 0, lazy: 0 };
      g[which] += bytes;
      groups.set(owner(input), g);
    }
  }
  const total = [...groups.values()].reduce((n, g) => n + g.start + g.lazy, 0);
  printTable('What carries the weight in the full client (esbuild metafile of a code-split bundle of the sources: minified bytes per part)', [
    ...[...groups]
      .filter(([, g]) => g.start + g.lazy > 0)
      .sort((a, b) => b[1].start + b[1].lazy - (a[1].start + a[1].lazy))
      .map(([part, g]) => ({ part, 'at start kB': kb(g.start), 'loaded later kB (Hawk signer, room helpers)': kb(g.lazy), share: `${fmt((100 * (g.start + g.lazy)) / total, 0)}%` })),
  ]);

  // What to shrink for issue 20's goal: gzipped bytes per module of the Basic client on top of XState.
  const { whole, costs } = await gzipCostByModule(basicClient('./src/index'), { splitting: true, external: ['xstate'], ...SOURCES });
  printTable(`What the Basic client adds on top of XState costs, by module (the start file, ${kb(whole)} kB gzipped, without each module's code)`, [
    ...costs.filter(({ cost }) => cost > 0).map(({ module, cost }) => ({ module, 'gzipped bytes': cost })),
  ]);
}
