// What the room helpers share with every app that imports them: their option and auth types and their errors.
// (The helpers themselves load on first call: see ./index.ts.)
import type { FetchLike } from '../transport/attempt';
import type { HawkCredentials } from '../transport/hawkCredentials';

/** Options every room helper takes. */
export interface RoomsClientOptions {
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Hawk: added to the local clock for timestamps (as the hawk library's localtimeOffsetMsec). */
  localtimeOffsetMsec?: number;
  /** Cancels the request: the helper then rejects with the signal's reason (an `AbortError` DOMException by default). */
  signal?: AbortSignal;
}

/** How a room helper authorizes: Hawk (a desktop user's credentials) or Basic (a standalone participant's sessionToken). */
export type RoomsAuth = { type: 'hawk'; credentials: HawkCredentials } | { type: 'basic'; sessionToken: string };

/**
 * The room server answered, but not with success: its HTTP status and errno. `notTheApi` is true when the
 * answer is not the Loop API's (405, or no JSON error body): serverUrl lacks its /v1 prefix or names
 * another server; the message then says so.
 */
export class RoomsApiError extends Error {
  /** Always 'RoomsApiError'. */
  override readonly name = 'RoomsApiError';
  /** The answer's HTTP status. */
  readonly status: number;
  /** The Loop server's errno, when the answer had one. */
  readonly errno: number | undefined;
  /** True when the answer did not come from the Loop API (see the class's description). */
  readonly notTheApi: boolean;
  constructor(status: number, errno: number | undefined, message: string, notTheApi = false) {
    super(message);
    this.status = status;
    this.errno = errno;
    this.notTheApi = notTheApi;
  }
}

/** No answer: the server could not be reached (refused, reset, DNS, CORS refused in a browser). `cause` is fetch's own error. */
export class RoomsNetworkError extends Error {
  /** Always 'RoomsNetworkError'. */
  override readonly name = 'RoomsNetworkError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}
