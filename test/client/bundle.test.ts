// Item 7 of issue 20: what the package adds on top of XState for a Basic client (a page given its sessionToken),
// measured by bench 6's own function from the sources (in a child process: the bench is an ES module). Sizes
// are the same on every run of the same code, unlike times, so a test can hold them.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface Measured {
  start: number;
  hawk: number;
  startInputs: string[];
  lazyInputs: string[];
  ceilingKb: number;
  goalKb: number;
}

let m: Measured;
beforeAll(() => {
  const script = `import { basicOnTopOfXState, OURS_CEILING_KB, OURS_GOAL_KB } from './bench/6-bundle.bench.mjs';
const s = await basicOnTopOfXState('sources');
console.log(JSON.stringify({ start: s.start, hawk: s.hawk, startInputs: Object.keys(s.inputs), lazyInputs: Object.keys(s.lazyInputs), ceilingKb: OURS_CEILING_KB, goalKb: OURS_GOAL_KB }));`;
  m = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }));
});

it('adds at most the ceiling in gzipped bytes at start (the 6.5 kB goal once it is met: D-119), and the ceiling is not loose', () => {
  expect(m.ceilingKb).toBeGreaterThanOrEqual(m.goalKb);
  expect(m.start).toBeLessThanOrEqual(m.ceilingKb * 1000);
  // More than 0.3 kB under the ceiling: lower OURS_CEILING_KB (bench/6-bundle.bench.mjs) to hold the gain.
  expect(m.ceilingKb * 1000 - m.start).toBeLessThan(300);
});

it('loads the Hawk signer and its hashing only when used, and the room helpers on first call', () => {
  expect(m.startInputs).toContain('src/service/roomSession.ts');
  expect(m.startInputs.filter((i) => /hawkSigner|@noble|src\/rooms\/(rooms|request|hawkSession)\.ts/.test(i))).toEqual([]);
  expect(m.hawk).toBeGreaterThan(0);
  expect(m.lazyInputs).toEqual(expect.arrayContaining(['src/transport/hawkSigner.ts', 'src/rooms/rooms.ts', 'src/rooms/request.ts']));
});
