// The options of createRoomSession, checked up front: a bad option is a clear TypeError at creation,
// never a failure later on the network path. Messages never echo a token or key.
import type { InspectionEvent, Observer } from 'xstate';
import { anyValue, fieldsProblem, isBoolean, isFunction, isNonEmptyString, isPositive, type FieldCheck } from '../check';
import { checkHawkCredentials, type HawkCredentials } from '../transport/hawkCredentials';
import { baseUrl, ROOM_TOKEN } from '../transport/http';
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
   * Ends the session when aborted: a join in flight is cancelled (reporting stops with one `error`, kind
   * `stopped`, reason `join-failed`, message 'could not join the room: cancelled', no `status`; a participation
   * its request is still given is left at once), otherwise the session leaves, as leave(), and stops.
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

/** The options checked, as given, and resolved (names ending in `_` are internal: see ../transport/attempt.ts). */
export interface ResolvedOptions {
  url_: string;
  serverUrl: string;
  roomToken: string;
  /** Undefined only while a standalone join is to give the Basic sessionToken. */
  auth?: RoomAuth;
  join?: RoomJoinOptions;
  signal?: AbortSignal;
  idempotencyKey: boolean;
  fetch_: FetchLike;
  timeoutMs_: number;
  retry_: RetryPolicy;
  maxQueue_: number;
  inspect?: RoomInspector;
  expires?: number;
  refreshEveryMs?: number;
  leaveOnPageHide: boolean;
  secrets_: string[];
}

const isNumber = (v: unknown) => Number.isFinite(v);
const mustBePositive = 'must be a finite number > 0';
const mustBeBoolean = 'must be a boolean';

/** Every option, its test and message; `auth`, `join`, `serverUrl` and `retry` get more checks below. */
const OPTIONS: Readonly<Record<keyof RoomSessionOptions, FieldCheck>> = {
  roomToken: ROOM_TOKEN,
  serverUrl: [anyValue, ''],
  auth: [anyValue, ''],
  join: [anyValue, ''],
  signal: [(v) => typeof (v as AbortSignal).addEventListener === 'function', 'must be an AbortSignal'],
  idempotencyKey: [isBoolean, mustBeBoolean],
  fetch: [isFunction, 'must be a function'],
  timeoutMs: [isPositive, mustBePositive],
  retry: [anyValue, ''],
  maxQueue: [(v) => Number.isInteger(v) && (v as number) >= 1, 'must be an integer >= 1'],
  inspect: [anyValue, ''],
  expires: [isPositive, mustBePositive],
  refreshEveryMs: [isPositive, mustBePositive],
  leaveOnPageHide: [isBoolean, mustBeBoolean],
};
const JOIN: Readonly<Record<keyof RoomJoinOptions, FieldCheck>> = {
  displayName: [isNonEmptyString, 'must be a non-empty string', true],
  clientMaxSize: [(v) => Number.isInteger(v) && (v as number) >= 2, 'must be an integer >= 2'],
};
// `auth` of each type: its known fields (so a misspelt one is refused), `type` and `credentials` checked below.
const BASIC: Readonly<Record<string, FieldCheck>> = { type: [anyValue, ''], sessionToken: [isNonEmptyString, 'must be a non-empty string', true] };
const HAWK: Readonly<Record<string, FieldCheck>> = { type: [anyValue, ''], credentials: [anyValue, ''], localtimeOffsetMsec: [isNumber, 'must be a finite number'] };

export function resolveOptions(options: unknown): ResolvedOptions {
  const fail = (message: string | undefined) => {
    if (message !== undefined) throw new TypeError(`createRoomSession: ${message}`);
  };
  fail(fieldsProblem(options, OPTIONS, ''));
  const o = options as RoomSessionOptions;
  let serverUrl = '';
  try {
    serverUrl = baseUrl(o.serverUrl);
  } catch (e) {
    fail((e as Error).message);
  }
  if (o.join !== undefined) fail(fieldsProblem(o.join, JOIN, 'join'));
  const auth = o.auth as Record<string, unknown> | undefined;
  const secrets: string[] = [o.roomToken];
  // Without auth, a standalone join answers the Basic sessionToken.
  if (auth !== undefined || o.join === undefined) {
    if (typeof auth !== 'object' || auth === null) fail("auth must be { type: 'basic', sessionToken } or { type: 'hawk', credentials } (or give join: { displayName } to join first)");
    else if (auth.type === 'basic') {
      fail(fieldsProblem(auth, BASIC, 'auth'));
      secrets.push(auth.sessionToken as string);
    } else if (auth.type === 'hawk') {
      fail(fieldsProblem(auth, HAWK, 'auth') ?? checkHawkCredentials(auth.credentials));
      const c = auth.credentials as HawkCredentials;
      secrets.push(c.id, c.key);
    } else fail("auth.type must be 'basic' or 'hawk'");
  }
  if (o.fetch === undefined && typeof globalThis.fetch !== 'function') fail('no global fetch: pass the fetch option');
  const retry = retryPolicyFrom(o.retry);
  if (typeof retry === 'string') fail(retry);
  // The checked options as given (roomToken, auth, join, signal, inspect, expires, refreshEveryMs), and the rest resolved.
  return {
    ...o,
    url_: `${serverUrl}/rooms/${o.roomToken}`,
    serverUrl,
    idempotencyKey: o.idempotencyKey !== false,
    fetch_: o.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init)),
    timeoutMs_: o.timeoutMs ?? 10000,
    retry_: retry as RetryPolicy,
    maxQueue_: o.maxQueue ?? 100,
    leaveOnPageHide: o.leaveOnPageHide === true,
    secrets_: secrets,
  };
}
