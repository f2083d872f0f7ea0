// Conformance kit: the default run (model and wire cases, max count 3) against the JavaScript example
// adapter, next to the long-tour vectors (generate-tests --max-count 3) run through the same kit as model
// cases: time and events per case, and how many cases one bug fails (a client that never settles in
// cleanup), which is what short cases buy.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fmt, printTable } from './harness.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const ADAPTER = join(ROOT, 'examples/adapters/conform-adapter.mjs');

/** The kit's runner is not a package entry point: bundle it from source for the bench. */
async function loadKit(dir) {
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `export { runConformance, selectCases } from ${JSON.stringify(join(ROOT, 'src/conform/runner'))};
     export { toConformCase } from ${JSON.stringify(join(ROOT, 'src/conform/cases/model'))};
     export { generateTestCases } from ${JSON.stringify(join(ROOT, 'src/testgen/generate'))};`,
  );
  const outfile = join(dir, 'kit.cjs');
  await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'warning' });
  return createRequire(join(ROOT, 'package.json'))(outfile);
}

function row(name, result) {
  const ran = result.cases.filter((c) => c.status !== 'skipped');
  const events = ran.reduce((n, c) => n + c.steps.length, 0);
  return {
    cases: name,
    count: ran.length,
    'events/case': fmt(events / ran.length, 1),
    'ms/case (sum over lanes)': fmt(ran.reduce((t, c) => t + c.durationMs, 0) / ran.length, 0),
    'wall s': fmt(result.durationMs / 1000, 1),
    failed: result.summary.failed,
  };
}

export default async function main() {
  // Inside the package, so the bundle's require('hawk') (an optional peer, loaded when used) resolves.
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.bench-conform-'));
  try {
    const kit = await loadKit(dir);
    const tours = (info) =>
      kit.generateTestCases({ maxCount: 3 }).map((c) => kit.toConformCase(`tour:${c.id}`, c.description, c.steps.map((s) => s.event), info.auth.includes('basic') ? 'basic' : 'hawk'));
    const designed = await kit.runConformance({ adapter: `"${process.execPath}" "${ADAPTER}"` });
    for (const c of designed.cases.filter((r) => r.status === 'failed')) console.log(`unexpected failure: ${c.id}: ${JSON.stringify(c.divergence)}`);
    const tour = await kit.runConformance({ adapter: `"${process.execPath}" "${ADAPTER}"`, casesFor: tours });
    // One bug (never settles in cleanup): how many cases show it, designed vs tours.
    const source = readFileSync(ADAPTER, 'utf8').replace("return state === 'waiting' || state === 'starting' ? 'starting' : 'cleanup';", "return 'starting';");
    const broken = join(dir, 'broken.mjs');
    writeFileSync(broken, source);
    const quick = { adapter: `"${process.execPath}" "${broken}"`, quietMs: 100 };
    const designedBug = await kit.runConformance({ ...quick, only: 'model' });
    const tourBug = await kit.runConformance({ ...quick, casesFor: tours });
    printTable('9-conform: the default run vs the long-tour vectors through the same kit (JavaScript example adapter, 4 lanes)', [
      row('designed: model + wire, max count 3', designed),
      row('long tours (generate-tests --max-count 3)', tour),
    ]);
    const designedModel = designed.cases.filter((c) => c.kind === 'model');
    const perCase = (cs) => cs.reduce((n, c) => n + c.steps.length, 0) / cs.length;
    console.log(`\nevents per case: tours ${fmt(perCase(tour.cases) / perCase(designedModel), 1)}x the designed model cases`);
    console.log(`one bug (never settles in cleanup, quiet 100 ms): ${designedBug.summary.failed} of ${designedBug.summary.total} designed model cases fail, ${tourBug.summary.failed} of ${tourBug.summary.total} tour cases`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
