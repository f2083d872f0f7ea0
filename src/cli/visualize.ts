import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, parseArgs } from './args';
import type { Command } from './command';
import { isLoopback, listenError, untilInterrupted } from './listening';

export const DEFAULT_PORT = 7357;

export const visualize: Command = {
  name: 'visualize',
  summary: 'serve the offline visualizer on 127.0.0.1 (explore, follow live sessions, replay files)',
  usage: [
    `loop-room-state visualize [--port N] [--host 127.0.0.1]`,
    '',
    `  --port  port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)`,
    '  --host  address to bind (default 127.0.0.1; anything else exposes the page and the live relay to the network)',
    '',
    'Live: pass createVisualizerInspector({ url }) from loop-room-state/inspect as `inspect` to createActor or',
    'createRoomSession, with the URL this prints. Runs until interrupted (Ctrl-C).',
  ].join('\n'),
  async run(argv, io) {
    const { flags } = parseArgs(argv, { port: 'value', host: 'value' });
    const port = flags.port === undefined ? DEFAULT_PORT : Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
    const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
    // The CLI is bundled to dist/cli.cjs; the page is built next to it as dist/visualizer.html.
    const htmlPath = join(__dirname, 'visualizer.html');
    if (!existsSync(htmlPath)) throw new Error(`${htmlPath} is missing: run 'npm run build' first`);
    // Loaded here: only this command needs the server (without `ws` it serves the page alone and says so).
    const { startVisualizerServer } = await import('../visualizer/server');
    let server;
    try {
      server = await startVisualizerServer({ html: readFileSync(htmlPath, 'utf8'), host, port, log: (line) => io.err(line) });
    } catch (err) {
      throw listenError(err, port, host);
    }
    io.out(`Visualizer: ${server.url}`);
    // Without ws the log has said the live view is off: no address for inspectors that could not connect.
    io.out(server.live ? `Live inspectors connect to ${server.url.replace(/^http/, 'ws')}inspect  (Ctrl-C stops)` : 'Ctrl-C stops');
    if (!isLoopback(host)) io.err(`warning: listening on ${host}, not only on this machine`);
    await untilInterrupted();
    await server.close();
    io.out('Visualizer stopped');
    return 0;
  },
};
