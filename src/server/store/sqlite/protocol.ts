// The messages between the threaded SQLite store (threaded.ts, on the thread that answers requests) and its worker
// threads (worker.ts).
import type { MessagePort } from 'node:worker_threads';
import { NonceReplayedError, StoreUnavailableError } from '../errors';

/** A call to a worker (sent in arrays: the calls of one turn of the event loop): `deadline` (epoch ms) for reads the caller stops waiting for; the worker skips them once past. */
export interface Call {
  id: number;
  op: string;
  args: unknown[];
  deadline?: number;
}

/** An error as it crosses threads: an outage stays an outage, anything else a programming error with its name. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  unavailable: boolean;
}

export type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

/** What a worker posts: answers (with the durations of the commits made since its last post), or a log line. */
export type Post = { answers: Answer[]; commits: number[] } | { log: string };

/** How a worker is started (workerData). */
export interface ThreadSetup {
  path: string;
  busyTimeoutMs?: number;
  /** Where the worker asks the caller to decide a unit while it holds the write lock (see Asked). */
  asking: { port: MessagePort; flag: SharedArrayBuffer };
}

/**
 * A unit's last round: the writer, inside its transaction, sends the rows (`ctx`) to the caller and waits for the
 * decision (Atomics.wait on `flag`, then the reply read off `port` synchronously).
 */
export interface Asked {
  seq: number;
  token: number;
  ctx: unknown;
}
/** The caller's reply: the decision without its value (which stays with the caller), or why there is none. */
export interface Told {
  seq: number;
  decision?: { kind: 'apply'; [k: string]: unknown } | { kind: 'refuse' };
  error?: WireError;
}

export function wireError(err: unknown): WireError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    unavailable: err instanceof StoreUnavailableError,
  };
}

export function fromWire(w: WireError): Error {
  if (w.unavailable) return new StoreUnavailableError(w.message);
  if (w.name === 'NonceReplayedError') return new NonceReplayedError();
  return Object.assign(new Error(w.message), { name: w.name }, w.code === undefined ? {} : { code: w.code });
}

