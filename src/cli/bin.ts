import { main } from './main';

// A reader that goes away (`conform --list | head`) ends what stdout takes, not the command: nothing more is
// written there, and no unhandled EPIPE error replaces the exit code.
let stdoutClosed = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutClosed = true;
});

main(process.argv.slice(2), {
  out: (text) => void (stdoutClosed || process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stdout: process.stdout,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`loop-room-state: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
