// `npm start`: build, then run `loop-room-state serve` in this very process, so that a signal sent to
// npm's process tree (Ctrl-C, SIGTERM) reaches the server itself and stops it cleanly.
// Arguments after `npm start --` go to serve. LOOP_ROOM_STATE_NO_BUILD=1 skips the build (dist/ is fresh).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.env.LOOP_ROOM_STATE_NO_BUILD !== '1') {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
process.argv = [process.argv[0], `${root}dist/cli.cjs`, 'serve', ...process.argv.slice(2)];
createRequire(import.meta.url)('../dist/cli.cjs');
