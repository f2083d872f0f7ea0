// Retry bounds and the wait before each retry: exponential backoff with full jitter, or the server's Retry-After.
import { fieldsProblem, type FieldCheck } from '../check';

/** How requests are retried: attempts, how long, backoff bounds, the longest Retry-After honoured. */
export interface RetryPolicy {
  /** Attempts per request, the first included (>= 1). */
  attempts: number;
  /** No retry starts later than this after the request's first attempt: a restart or a few seconds offline cost nothing. */
  giveUpAfterMs: number;
  /** The backoff ceiling before retry n (1-based) is min(maxDelayMs, baseDelayMs * 2^(n-1)); the wait is uniform in [0, ceiling]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is cut to this (a server must not park the client for ever). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = /* @__PURE__ */ Object.freeze({
  attempts: 30,
  giveUpAfterMs: 30000,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  maxRetryAfterMs: 30000,
});

/** Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): spreads retries of many clients. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * The wait before retry `n` (1-based) of a request first tried at `started`: the server's Retry-After, else the
 * backoff; undefined when the request is to be given up (its attempts made, or the retry would start too late).
 */
export function nextWait(n: number, started: number, policy: RetryPolicy, retryAfterMs?: number, random?: () => number): number | undefined {
  const wait = retryAfterMs ?? backoffDelay(n, policy, random);
  return n < policy.attempts && Date.now() + wait - started <= policy.giveUpAfterMs ? wait : undefined;
}

/** Resolves after `ms`, or at once when the function handed to `onWake` is called. */
export const sleep = (ms: number, onWake: (wake: () => void) => void) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    onWake(() => (clearTimeout(timer), resolve()));
  });

/**
 * Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. Returns milliseconds, capped at
 * `maxMs`, or undefined when absent or unreadable (then the backoff applies).
 */
export function parseRetryAfter(value: string | null, maxMs: number, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text) * 1000, maxMs);
  // An HTTP-date always names its month; without that guard Date.parse reads "-1" as a year.
  if (!/[A-Za-z]{3}/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), maxMs);
}

const isDelay = (v: unknown) => Number.isFinite(v) && (v as number) >= 0;
const RETRY_FIELDS: Readonly<Record<keyof RetryPolicy, FieldCheck>> = {
  attempts: [(v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 100, 'must be an integer from 1 to 100', true],
  giveUpAfterMs: [isDelay, 'must be a finite number >= 0', true],
  baseDelayMs: [isDelay, 'must be a finite number >= 0', true],
  maxDelayMs: [isDelay, 'must be a finite number >= 0', true],
  maxRetryAfterMs: [isDelay, 'must be a finite number >= 0', true],
};

/** Validate user-supplied retry options over the defaults; returns an error message for bad (or unknown) ones. */
export function retryPolicyFrom(given: unknown): RetryPolicy | string {
  const policy = given === undefined || (typeof given === 'object' && given !== null) ? { ...DEFAULT_RETRY, ...given } : given;
  return fieldsProblem(policy, RETRY_FIELDS, 'retry') ?? (policy as RetryPolicy);
}
