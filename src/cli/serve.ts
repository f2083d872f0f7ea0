import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError, parseArgs } from './args';
import type { Command, CommandIO } from './command';
import { isIP } from 'node:net';
import { DEFAULT_LIMITS, type Limits } from '../server/limits';
import { DEFAULT_MINUTE_ROLLUPS_DAYS } from '../server/store/common/fold';
import type { OperatorLog } from '../server/log';
import { checkPortFree, interrupts, isLoopback, listenError } from './listening';
import { ENV_HELP, withEnvironment } from './config';

export const DEFAULT_SERVE_PORT = 5000;

/** serve's flags (each also LOOP_ROOM_STATE_<FLAG>, config.ts). */
export const SERVE_FLAGS = {
  port: 'value', host: 'value', db: 'value', store: 'value', strict: 'switch', 'admin-token': 'value', 'retain-days': 'value', 'minute-rollups-days': 'value',
  'participant-ttl': 'value', 'max-room-size': 'value', 'web-app-url': 'value', 'cors-origin': 'value', 'public-url': 'value',
  'access-log': 'switch', 'log-format': 'value', 'shutdown-grace': 'value',
  'trusted-proxy': 'value', limits: 'value', 'max-registrations': 'value', 'max-rooms-per-session': 'value',
  'max-reports-per-session': 'value', 'max-relay-connections': 'value', 'media-api-key': 'value', 'media-session-id': 'value',
} as const;

export const serve: Command = {
  name: 'serve',
  summary: 'run the room server: the API under /v1, /metrics and the visualizer at / on one port (SQLite by default)',
  usage: [
    'loop-room-state serve [--port N] [--host H] [--db PATH | --store URL] [--strict] [--admin-token T] [--retain-days N]',
    '                      [--minute-rollups-days N] [--participant-ttl SECONDS] [--max-room-size N] [--web-app-url URL]',
    '                      [--cors-origin ORIGINS] [--public-url URL] [--access-log] [--log-format text|json] [--shutdown-grace SECONDS]',
    '                      [--trusted-proxy ADDRS] [--limits off] [--max-registrations N] [--max-rooms-per-session N]',
    '                      [--max-reports-per-session N] [--max-relay-connections N] [--media-api-key K [--media-session-id S]]',
    '',
    `  --port             port to listen on (default ${DEFAULT_SERVE_PORT}; 0 picks a free one)`,
    '  --host             address to bind (default 127.0.0.1; another address needs an admin token)',
    '  --db               SQLite file (default ./loop-room-state.db), WAL, synchronous=FULL',
    '  --store            sqlite:PATH or postgres://user@host/db (several server processes on one database)',
    '  --strict           refuse non-conformant status reports (400 errno 107) instead of storing them with their verdict',
    '  --admin-token      Bearer token for the admin data: /metrics, /v1/stats, /v1/traffic*, /v1/sessions/*, the live',
    '                     relay (or the environment variable LOOP_ROOM_STATE_ADMIN_TOKEN, which keeps it out of ps);',
    '                     without one, admin data answers only this machine (and serve refuses --public-url or',
    '                     another address than loopback)',
    '  --retain-days      delete reports and ended sessions older than this (default 90; 0 keeps everything)',
    '  --minute-rollups-days  keep per-minute figures this long; older windows are read by the hour (default 7; 0 keeps them)',
    '  --participant-ttl  seconds a participant stays without a request (default 300)',
    '  --max-room-size    largest maxSize a room may ask for (default 5)',
    '  --web-app-url      rooms\' roomUrl is this URL followed by the room token (default http://localhost:3000/)',
    '  --cors-origin      comma-separated web origins whose pages may call the API from a browser (default none)',
    '  --public-url       the origin clients use, e.g. https://rooms.example.com behind a TLS-terminating proxy:',
    '                     Hawk signatures are checked for its host and port (default: the Host header\'s); needs an',
    '                     admin token',
    '  --trusted-proxy    comma-separated addresses of reverse proxies whose X-Forwarded-For names the client',
    '                     (per-client limits, admin exposure); default none: the client is the socket\'s address',
    '  --limits off       turn every per-client limit off (benchmarks, trusted networks)',
    `  --max-registrations       new Hawk sessions per client address per minute (default ${DEFAULT_LIMITS.registrationsPerMinute})`,
    `  --max-rooms-per-session   rooms one Hawk session owns at once (default ${DEFAULT_LIMITS.roomsPerHawkSession})`,
    `  --max-reports-per-session status reports one participant session may store (default ${DEFAULT_LIMITS.reportsPerSession})`,
    `  --max-relay-connections   open live-relay WebSockets per client address (default ${DEFAULT_LIMITS.relayConnectionsPerAddress})`,
    '                     over a limit: 429 errno 116 with Retry-After',
    '  --access-log       print one JSON line per API request on stdout: time, method, route (no tokens), action,',
    '                     status, ms, errno (not /metrics scrapes)',
    '  --log-format       text (default) or json: every stderr line one JSON object (time, level, msg), the access',
    '                     log on stderr in the same shape',
    '  --shutdown-grace   seconds a stop (SIGTERM, Ctrl-C) waits for requests already received (default 25)',
    '  --media-api-key    a media provider\'s API key, returned by every join as `apiKey` (Loop clients read it; the',
    '                     server has no media provider of its own, so by default a join answers without it)',
    '  --media-session-id the media session id returned with it as `sessionId` (needs --media-api-key)',
    '',
    'Runs until SIGTERM or Ctrl-C: then stops accepting, answers every request already received (bodies still',
    'arriving included), and exits 0; what still runs after the grace period is cut (a second signal cuts at once).',
    'SIGHUP does not stop it. GET /health (the process answers) and GET /ready (the store answers) need no token.',
    ENV_HELP,
  ].join('\n'),
  async run(argv, io) {
    const { flags } = withEnvironment(parseArgs(argv, SERVE_FLAGS), SERVE_FLAGS, process.env);
    const logFormat = flags['log-format'] ?? 'text';
    if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format is text or json, got '${String(logFormat)}'`);
    const graceMs = Math.round(num(flags, 'shutdown-grace', 25, 0, 3600) * 1000);
    const { createOperatorLog } = await import('../server/log');
    const operatorLog = createOperatorLog(logFormat, io);
    try {
      return await serveWith(flags, io, operatorLog, graceMs);
    } catch (err) {
      if (logFormat !== 'json' || err instanceof UsageError) throw err;
      // Even the last words are one JSON line each.
      operatorLog.line(`serve: ${err instanceof Error ? err.message : String(err)}`, 'error');
      return 1;
    }
  },
};

async function serveWith(flags: Record<string, string | true>, io: CommandIO, operatorLog: OperatorLog, graceMs: number): Promise<number> {
  const port = int(flags, 'port', DEFAULT_SERVE_PORT, 0, 65535);
  const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
  // LOOP_ROOM_STATE_ADMIN_TOKEN arrives here through withEnvironment.
  const adminToken = str(flags['admin-token']);
  if (!isLoopback(host) && !adminToken) throw new UsageError(`listening on ${host} (not only this machine) needs an admin token: --admin-token T or LOOP_ROOM_STATE_ADMIN_TOKEN`);
  const retainDays = int(flags, 'retain-days', 90, 0, 100_000);
  const minuteRollupsDays = int(flags, 'minute-rollups-days', DEFAULT_MINUTE_ROLLUPS_DAYS, 0, 100_000);
  const ttl = num(flags, 'participant-ttl', 300, 0.05, 86_400);
  const maxRoomSize = int(flags, 'max-room-size', 5, 2, 10_000);
  const webAppUrl = typeof flags['web-app-url'] === 'string' ? flags['web-app-url'] : undefined;
  if (webAppUrl !== undefined && !/^https?:\/\//.test(webAppUrl)) throw new UsageError('--web-app-url must be an http(s) URL');
  const corsOrigins = typeof flags['cors-origin'] === 'string' ? flags['cors-origin'].split(',').map((o) => o.trim()).filter(Boolean) : [];
  const publicUrl = str(flags['public-url']);
  if (publicUrl !== undefined && !/^https?:\/\/[^/\s?#@]+\/?$/.test(publicUrl)) throw new UsageError(`--public-url takes an origin such as https://rooms.example.com (no path), got '${publicUrl}'`);
  for (const o of corsOrigins) if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new UsageError(`--cors-origin takes origins such as https://hello.example.com (no path), got '${o}'`);
  // Behind a proxy every request comes from loopback: admin data would answer the internet (spec section 7).
  if (publicUrl !== undefined && !adminToken) throw new UsageError('--public-url (a server reached through a proxy) needs an admin token: --admin-token T or LOOP_ROOM_STATE_ADMIN_TOKEN');
  const apiKey = str(flags['media-api-key']);
  const sessionId = str(flags['media-session-id']);
  if (sessionId !== undefined && apiKey === undefined) throw new UsageError('--media-session-id needs --media-api-key (a join answers both, as loop-server did)');
  const media = apiKey === undefined ? undefined : { apiKey, ...(sessionId !== undefined ? { sessionId } : {}) };
  const trustedProxies = (str(flags['trusted-proxy']) ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of trustedProxies) if (isIP(a) === 0) throw new UsageError(`--trusted-proxy takes IP addresses, got '${a}'`);
  const limitsFlag = str(flags.limits);
  if (flags.limits !== undefined && limitsFlag !== 'off' && limitsFlag !== 'on') throw new UsageError('--limits takes off (or on, the default)');
  const limits: Limits | 'off' =
    limitsFlag === 'off'
      ? 'off'
      : {
          registrationsPerMinute: int(flags, 'max-registrations', DEFAULT_LIMITS.registrationsPerMinute, 1, 1_000_000),
          roomsPerHawkSession: int(flags, 'max-rooms-per-session', DEFAULT_LIMITS.roomsPerHawkSession, 1, 1_000_000),
          reportsPerSession: int(flags, 'max-reports-per-session', DEFAULT_LIMITS.reportsPerSession, 1, 100_000_000),
          relayConnectionsPerAddress: int(flags, 'max-relay-connections', DEFAULT_LIMITS.relayConnectionsPerAddress, 1, 100_000),
        };

  // Node-only libraries, loaded here so that the other commands run without them.
  const { chooseStore } = await import('../server/store');
  const { createServeApp } = await import('../server/app');
  const log = (line: string) => operatorLog.line(line);
  // Before the store is opened: a port in use must not leave a new database file behind.
  await checkPortFree(port, host);
  const chosen = chooseStore({ db: str(flags.db), store: str(flags.store) }, log);
  // The CLI is bundled to dist/cli.cjs; the visualizer page is built next to it.
  const htmlPath = join(__dirname, 'visualizer.html');
  const html = existsSync(htmlPath) ? readFileSync(htmlPath, 'utf8') : undefined;
  if (html === undefined) log(`note: ${htmlPath} is missing (run 'npm run build'): no visualizer at /`);
  let server;
  try {
    await chosen.store.open();
    server = await createServeApp({
      store: chosen.store,
      host,
      port,
      strict: flags.strict === true,
      adminToken,
      retainDays,
      minuteRollupsDays,
      participantTtlMs: Math.round(ttl * 1000),
      maxRoomSize,
      ...(webAppUrl ? { webAppUrl } : {}),
      ...(media ? { media } : {}),
      corsOrigins,
      ...(publicUrl ? { publicUrl } : {}),
      trustedProxies,
      limits,
      // The HMAC key for tokens and ids; default: the one kept in the store.
      ...(process.env.LOOP_ROOM_STATE_SECRET ? { secret: process.env.LOOP_ROOM_STATE_SECRET } : {}),
      log,
      shutdownGraceMs: graceMs,
      ...(flags['access-log'] === true ? { accessLog: (entry) => operatorLog.access(entry) } : {}),
      ...(html !== undefined ? { html } : {}),
    });
  } catch (err) {
    // Whatever opened (a PostgreSQL pool's connections, SQLite's threads) closes, or the process would linger.
    await chosen.store.close().catch(() => {});
    throw listenError(err, port, host);
  }
  const visualizer = server.visualizer;
  await server.room.sweep();
  // Before the line that says it runs: whoever reads that line may send SIGTERM at once.
  const signals = interrupts();
  io.out(`Room server: ${server.serverUrl}  (store: ${chosen.describe}${flags.strict ? ', strict' : ''})`);
  if (server.publicServerUrl) io.out(`Public URL: ${server.publicServerUrl}  (Hawk signatures are checked for this host and port)`);
  io.out(`Metrics: ${server.origin}/metrics${adminToken ? ' (admin token required)' : ''}`);
  if (visualizer) io.out(`Visualizer: ${server.origin}/  (Ctrl-C stops)`);
  if (!isLoopback(host)) log(`warning: listening on ${host}, not only on this machine`);
  signals.onHangup(() => log('serve: SIGHUP ignored (nothing to reload; restart the process to change its settings)'));
  const signal = await signals.first;
  log(`serve: ${signal}: stopped accepting; answering the requests already received (grace ${graceMs / 1000} s)`);
  signals.onAgain(() => {
    log('serve: second signal: cutting the requests still running');
    server.cutNow();
  });
  await server.close();
  await chosen.store.close();
  signals.dispose();
  log('serve: stopped');
  io.out('Room server stopped');
  return 0;
}

const str = (v: string | true | undefined) => (typeof v === 'string' ? v : undefined);

function num(flags: Record<string, string | true>, name: string, fallback: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}`);
  return n;
}

function int(flags: Record<string, string | true>, name: string, fallback: number, min: number, max: number): number {
  const n = num(flags, name, fallback, min, max);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}
