// The options of createRoomSession, checked up front: a bad option is a clear TypeError at creation,
// never a failure later on the network path. Messages never echo a token or key.
import type { InspectionEvent, Observer } from 'xstate';
import { checkHawkCredentials, type HawkCredentials } from '../transport/hawkCredentials';
import type { FetchLike } from '../transport/attempt';
import { retryPolicyFrom, type RetryPolicy } from '../transport/retry';

/** How a session's requests are authorized: Basic with the join's sessionToken (standalone client), or Hawk (desktop client). */
export type RoomAuth =
  | { type: 'basic'; sessionToken: string }
  /** `localtimeOffsetMsec`: added to the local clock for Hawk timestamps (as in the hawk library); corrected from the server's Date header after a stale-timestamp 401. */
  | { type: 'hawk'; credentials: HawkCredentials; localtimeOffsetMsec?: number };

/** An XState inspector: an observer of inspection events, or a function taking each one. */
export type RoomInspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

/** Joining as part of the session (`createRoomSession({ join })`): POST {"action":"join"} before any report. */
export interface RoomJoinOptions {
  /** The name the other participants see. */
  displayName: string;
  /** How many participants this client can handle (default 2). */
  clientMaxSize?: number;
}

/** What createRoomSession takes. Either `auth` (already joined), `join` (the session joins), or both (a Hawk user joins). */
export interface RoomSessionOptions {
  /** The room's token; reports go to `${serverUrl}/rooms/${roomToken}`. */
  roomToken: string;
  /** The Loop server's base URL, with the API's /v1 prefix, e.g. https://loop.services.mozilla.com/v1 */
  serverUrl: string;
  /**
   * Basic (standalone client, the sessionToken from joining) or Hawk (desktop client). Without it, `join`
   * is required: the session joins with no credentials and reports with the sessionToken it is given.
   */
  auth?: RoomAuth;
  /** Join the room first (with `auth` if given); reports queue meanwhile. The session also leaves on leave(). */
  join?: RoomJoinOptions;
  /**
   * Ends the session when aborted: a join in flight is cancelled (reporting stops, reason `join-failed`),
   * otherwise the session leaves, as leave(), and stops.
   */
  signal?: AbortSignal;
  /**
   * Send an `Idempotency-Key` header with each request, the same on each of its retries (default true), so
   * a server that honours it stores a retried report once. Turn it off only for a cross-origin server whose
   * CORS answer does not allow the header.
   */
  idempotencyKey?: boolean;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Per-attempt timeout (default 10000 ms). */
  timeoutMs?: number;
  /** Retry bounds (defaults: 5 attempts, 250 ms base, 4000 ms max backoff, Retry-After capped at 30000 ms). */
  retry?: Partial<RetryPolicy>;
  /** Waiting reports kept at most before the oldest is dropped (default 100). */
  maxQueue?: number;
  /** Passed to XState's createActor: an inspector such as @statelyai/inspect's `inspector.inspect`. */
  inspect?: RoomInspector;
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
  serverUrl: string;
  roomToken: string;
  /** Undefined only while a standalone join is to give the Basic sessionToken. */
  auth?: RoomAuth;
  join?: RoomJoinOptions;
  signal?: AbortSignal;
  idempotencyKey: boolean;
  fetch: FetchLike;
  timeoutMs: number;
  retry: RetryPolicy;
  maxQueue: number;
  inspect?: RoomInspector;
  expires?: number;
  refreshEveryMs?: number;
  leaveOnPageHide: boolean;
  secrets: string[];
}

const KNOWN_OPTIONS = new Set(['roomToken', 'serverUrl', 'auth', 'join', 'signal', 'idempotencyKey', 'fetch', 'timeoutMs', 'retry', 'maxQueue', 'inspect', 'expires', 'refreshEveryMs', 'leaveOnPageHide']);

/** A TypeError for the first own key of `given` not in `known` (plain JS has no compiler to catch a typo). */
export function checkKnownKeys(given: object, known: ReadonlySet<string>, where: string): void {
  const unknown = Object.keys(given).find((k) => !known.has(k));
  if (unknown !== undefined) throw new TypeError(`${where}: unknown option ${JSON.stringify(unknown)}; known options: ${[...known].join(', ')}`);
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
  checkKnownKeys(options, KNOWN_OPTIONS, 'createRoomSession');
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
  const join = o.join as Record<string, unknown> | undefined;
  if (join !== undefined) {
    if (typeof join !== 'object' || join === null) fail('join must be an object { displayName, clientMaxSize? }');
    checkKnownKeys(join!, new Set(['displayName', 'clientMaxSize']), 'createRoomSession: join');
    if (typeof join!.displayName !== 'string' || join!.displayName === '') fail('join.displayName must be a non-empty string');
    if (join!.clientMaxSize !== undefined && !((join!.clientMaxSize as number) >= 2 && Number.isInteger(join!.clientMaxSize))) fail('join.clientMaxSize must be an integer >= 2');
  }
  if (o.signal !== undefined && typeof (o.signal as AbortSignal)?.addEventListener !== 'function') fail('signal must be an AbortSignal');
  for (const k of ['idempotencyKey', 'leaveOnPageHide'] as const) if (o[k] !== undefined && typeof o[k] !== 'boolean') fail(`${k} must be a boolean`);
  // Without auth, a standalone join answers the Basic sessionToken.
  if (auth !== undefined || join === undefined) {
    if (typeof auth !== 'object' || auth === null) fail("auth must be { type: 'basic', sessionToken } or { type: 'hawk', credentials } (or give join: { displayName } to join first)");
  }
  const secrets: string[] = [o.roomToken as string];
  if (auth === undefined) {
    // nothing to check
  } else if (auth!.type === 'basic') {
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
  const retry = retryPolicyFrom(o.retry);
  if (typeof retry === 'string') fail(retry);
  const fetchFn = (o.fetch as FetchLike | undefined) ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  const serverUrl = base!.href.replace(/\/+$/, '');
  // The checked options as given (roomToken, auth, join, signal, inspect, expires, refreshEveryMs), and the rest resolved.
  return {
    ...(o as unknown as RoomSessionOptions),
    url: `${serverUrl}/rooms/${o.roomToken as string}`,
    serverUrl,
    idempotencyKey: o.idempotencyKey !== false,
    fetch: fetchFn,
    timeoutMs: timeoutMs as number,
    retry: retry as RetryPolicy,
    maxQueue: maxQueue as number,
    leaveOnPageHide: o.leaveOnPageHide === true,
    secrets,
  };
}
