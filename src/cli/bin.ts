import { main } from './main';

main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
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
