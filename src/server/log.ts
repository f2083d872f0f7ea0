// The server's operator log (server spec section 8). Text (the default) writes the lines as they are;
// `--log-format json` writes every line on stderr as one JSON object with time, level and msg (pino), and
// the access log to the same stream in the same shape. Lines that repeat (a failed commit per request on a
// full disk) are rate-limited: one line per kind per interval, with the count of those held back.
import type { AccessLogEntry } from './accessLog';
import { MissingPeerError } from './peers';

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export type Level = 'info' | 'warn' | 'error';

export interface OperatorLog {
  /** One operator line (never a secret); its level is read from its wording when not given. */
  line(msg: string, level?: Level): void;
  /** One answered request. Scrapes (/metrics) are not logged: a scrape every 15 s is noise. */
  access(entry: AccessLogEntry): void;
}

export interface LogSinks {
  /** stderr: operator lines, and in json format the access log too. */
  err(text: string): void;
  /** stdout: the text format's access log (one JSON line per request, as before). */
  out(text: string): void;
}

/** How an existing operator line reads: failures are warnings, bugs are errors. */
export function levelOf(msg: string): Level {
  if (/internal error|unexpected failure/i.test(msg)) return 'error';
  if (/fail|lost|unavailable|cut|refus|warning|cannot|ignored/i.test(msg)) return 'warn';
  return 'info';
}

/**
 * `write` at most once per `intervalMs` for each kind of line (the line with its numbers blanked); the next
 * line of a kind let through says how many were held back since the last one.
 */
export function rateLimited(write: (msg: string, level: Level) => void, intervalMs = 10_000, now: () => number = Date.now): (msg: string, level?: Level) => void {
  const kinds = new Map<string, { at: number; held: number }>();
  return (msg, level = levelOf(msg)) => {
    const kind = msg.replace(/\d+/g, '#');
    const t = now();
    const k = kinds.get(kind);
    if (k && t - k.at < intervalMs) {
      k.held++;
      return;
    }
    write(k && k.held > 0 ? `${msg} (${k.held} more like it in the last ${Math.round((t - k.at) / 1000)} s not logged)` : msg, level);
    // Bounded: kinds come from the code's own messages, but an error text may vary.
    if (kinds.size >= 1000) kinds.clear();
    kinds.set(kind, { at: t, held: 0 });
  };
}

interface PinoLike {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function loadPino(): typeof import('pino') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pino') as typeof import('pino');
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'pino'`)) throw new MissingPeerError('pino');
    throw err;
  }
}

export function createOperatorLog(format: LogFormat, sinks: LogSinks, options: { intervalMs?: number } = {}): OperatorLog {
  if (format === 'text') {
    return {
      line: rateLimited((msg) => sinks.err(msg), options.intervalMs),
      access: (entry) => {
        if (entry.action !== 'metrics') sinks.out(JSON.stringify(entry));
      },
    };
  }
  const pino = loadPino();
  const logger: PinoLike = pino.default(
    {
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
    },
    // Synchronous writes to the sink: a line is out before the process exits.
    { write: (text: string) => sinks.err(text) },
  );
  return {
    line: rateLimited((msg, level) => logger[level]({}, msg), options.intervalMs),
    access: (entry) => {
      if (entry.action === 'metrics') return;
      // pino's own time (the same instant) stands for the entry's.
      const { time: _time, ...fields } = entry;
      logger.info(fields, 'request');
    },
  };
}
