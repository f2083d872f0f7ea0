// Per-client limits (server spec section 7): set far above what a normal client does, so only a runaway or hostile
// client meets them. Over a limit: 429 errno 116 "Too many requests." with Retry-After. Counters are this process's
// own (memory); with several processes each has its own (documented in docs/security.md).
import { ApiError, ERRNO } from './errors';

export interface Limits {
  /** New Hawk sessions (POST /registration without credentials) per client address per minute. */
  registrationsPerMinute: number;
  /** Rooms one Hawk session owns at once (neither deleted nor expired). */
  roomsPerHawkSession: number;
  /** Status reports one participant session may store. */
  reportsPerSession: number;
  /** Open live-relay WebSockets (/watch and /inspect) per client address. */
  relayConnectionsPerAddress: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  registrationsPerMinute: 60,
  roomsPerHawkSession: 100,
  reportsPerSession: 1_000,
  relayConnectionsPerAddress: 16,
};

/** Every limit off (`--limits off`: benchmarks, trusted networks). */
export const NO_LIMITS: Readonly<Limits> = {
  registrationsPerMinute: Infinity,
  roomsPerHawkSession: Infinity,
  reportsPerSession: Infinity,
  relayConnectionsPerAddress: Infinity,
};

/** Seconds a client over a count limit (rooms, reports) is told to wait: the count only drops when it acts. */
export const QUOTA_RETRY_AFTER_SECONDS = 60;

export const tooManyRequests = (retryAfterSeconds: number) =>
  new ApiError(429, ERRNO.tooManyRequests, 'Too many requests.', { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) });

/**
 * Hits per key in fixed windows (e.g. registrations per address per minute). Memory stays bounded: ended windows
 * are dropped as keys arrive, and past `maxKeys` live keys the oldest are forgotten.
 */
export class WindowCounter {
  private readonly windows = new Map<string, { start: number; hits: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts a hit; 0 when within the limit, else the milliseconds until the key's window ends. */
  hit(key: string, now: number): number {
    if (this.limit === Infinity) return 0;
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (w) this.windows.delete(key);
      this.sweep(now);
      w = { start: now, hits: 0 };
      this.windows.set(key, w); // insertion order is window start order
    }
    if (w.hits >= this.limit) return w.start + this.windowMs - now;
    w.hits++;
    return 0;
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) {
      if (now - w.start < this.windowMs && this.windows.size < this.maxKeys) break;
      this.windows.delete(k);
    }
  }
}

/** Things open at once per key (e.g. WebSockets per address). */
export class OpenCounter {
  private readonly open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Takes a place for `key`; false (nothing taken) when the key has `limit` open already. */
  take(key: string): boolean {
    const n = this.open.get(key) ?? 0;
    if (n >= this.limit) return false;
    this.open.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = (this.open.get(key) ?? 0) - 1;
    if (n <= 0) this.open.delete(key);
    else this.open.set(key, n);
  }

  count(key: string): number {
    return this.open.get(key) ?? 0;
  }
}
