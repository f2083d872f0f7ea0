// The options of createRoomSession, checked up front: a bad option is a clear TypeError at creation,
// never a failure later on the network path. Messages never echo a token or key.
import { checkHawkCredentials, type HawkCredentials } from '../transport/hawkCredentials';
import type { FetchLike } from '../transport/attempt';
import { retryPolicyFrom, type RetryPolicy } from '../transport/retry';

export type RoomAuth =
  | { type: 'basic'; sessionToken: string }
  /** `localtimeOffsetMsec`: added to the local clock for Hawk timestamps (as in the hawk library); corrected from the server's Date header after a stale-timestamp 401. */
  | { type: 'hawk'; credentials: HawkCredentials; localtimeOffsetMsec?: number };

export interface RoomSessionOptions {
  /** The room's token; reports go to `${serverUrl}/rooms/${roomToken}`. */
  roomToken: string;
  /** The Loop server's base URL, e.g. https://loop.services.mozilla.com/v1 */
  serverUrl: string;
  /** Basic (standalone client, the sessionToken from joining) or Hawk (desktop client). */
  auth: RoomAuth;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Per-attempt timeout (default 10000 ms). */
  timeoutMs?: number;
  /** Retry bounds (defaults: 5 attempts, 250 ms base, 4000 ms max backoff, Retry-After capped at 30000 ms). */
  retry?: Partial<RetryPolicy>;
  /** Waiting reports kept at most before the oldest is dropped (default 100). */
  maxQueue?: number;
  /** Passed to XState's createActor: an inspector such as @statelyai/inspect's `inspector.inspect`. */
  inspect?: unknown;
  /**
   * Seconds until the participation expires, as the join answered (`expires`). When given, the session
   * sends {"action":"refresh"} every `expires`/3, taking each refresh answer's `expires` as the new one.
   */
  expires?: number;
  /** Refresh this often instead (milliseconds); with neither option the session never refreshes. */
  refreshEveryMs?: number;
  /** Call `leaveOnPageHide()` at once (browser pages only). */
  leaveOnPageHide?: boolean;
}

export interface ResolvedOptions {
  url: string;
  auth: RoomAuth;
  fetch: FetchLike;
  timeoutMs: number;
  retry: RetryPolicy;
  maxQueue: number;
  inspect?: unknown;
  expires?: number;
  refreshEveryMs?: number;
  leaveOnPageHide: boolean;
  secrets: string[];
}

export const DEFAULT_TIMEOUT_MS = 10000;
export const DEFAULT_MAX_QUEUE = 100;

export function resolveOptions(options: unknown): ResolvedOptions {
  const fail = (message: string): never => {
    throw new TypeError(`createRoomSession: ${message}`);
  };
  /** An optional number option: finite, and > 0 unless `anySign`. */
  const checkNumber = (value: unknown, name: string, anySign = false) => {
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || (!anySign && value <= 0))) fail(`${name} must be a finite number${anySign ? '' : ' > 0'}`);
  };
  if (typeof options !== 'object' || options === null) return fail('options must be an object');
  const o = options as Record<string, unknown>;
  if (typeof o.roomToken !== 'string' || !/^[\w-]+$/.test(o.roomToken)) fail('roomToken must be a non-empty string of letters, digits, "_" or "-"');
  if (typeof o.serverUrl !== 'string') fail('serverUrl must be a string such as "https://host/v1"');
  let base: URL | undefined;
  try {
    base = new URL(o.serverUrl as string);
  } catch {
    fail('serverUrl is not a valid URL');
  }
  if (base!.protocol !== 'http:' && base!.protocol !== 'https:') fail('serverUrl must be http: or https:');
  if (base!.search || base!.hash) fail('serverUrl must not have a query or fragment');
  const auth = o.auth as Record<string, unknown> | undefined;
  if (typeof auth !== 'object' || auth === null) fail("auth must be { type: 'basic', sessionToken } or { type: 'hawk', credentials }");
  const secrets: string[] = [o.roomToken as string];
  if (auth!.type === 'basic') {
    if (typeof auth!.sessionToken !== 'string' || auth!.sessionToken === '') fail('auth.sessionToken must be a non-empty string');
    secrets.push(auth!.sessionToken as string);
  } else if (auth!.type === 'hawk') {
    const problem = checkHawkCredentials(auth!.credentials);
    if (problem) fail(problem);
    checkNumber(auth!.localtimeOffsetMsec, 'auth.localtimeOffsetMsec', true);
    const c = auth!.credentials as HawkCredentials;
    secrets.push(c.id, c.key);
  } else {
    fail("auth.type must be 'basic' or 'hawk'");
  }
  if (o.fetch !== undefined && typeof o.fetch !== 'function') fail('fetch must be a function');
  if (o.fetch === undefined && typeof globalThis.fetch !== 'function') fail('no global fetch: pass the fetch option');
  for (const k of ['timeoutMs', 'expires', 'refreshEveryMs'] as const) checkNumber(o[k], k);
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxQueue = o.maxQueue ?? DEFAULT_MAX_QUEUE;
  if (!Number.isInteger(maxQueue) || (maxQueue as number) < 1) fail('maxQueue must be an integer >= 1');
  if (o.leaveOnPageHide !== undefined && typeof o.leaveOnPageHide !== 'boolean') fail('leaveOnPageHide must be a boolean');
  const retry = retryPolicyFrom(o.retry);
  if (typeof retry === 'string') fail(retry);
  const fetchFn = (o.fetch as FetchLike | undefined) ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  return {
    url: `${base!.href.replace(/\/+$/, '')}/rooms/${o.roomToken as string}`,
    auth: auth as unknown as RoomAuth,
    fetch: fetchFn,
    timeoutMs: timeoutMs as number,
    retry: retry as RetryPolicy,
    maxQueue: maxQueue as number,
    inspect: o.inspect,
    expires: o.expires as number | undefined,
    refreshEveryMs: o.refreshEveryMs as number | undefined,
    leaveOnPageHide: o.leaveOnPageHide === true,
    secrets,
  };
}
