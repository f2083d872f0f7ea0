// One request of the room flow (registration, create, join), signed with the package's own Hawk signer or
// Basic header. Errors carry the server's status and errno, never a credential.
import { CONTENT_TYPE, type FetchLike } from '../transport/attempt';
import { basicAuthorization } from '../transport/basic';
import { checkHawkCredentials, type HawkCredentials } from '../transport/hawkCredentials';

export interface RoomsClientOptions {
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Hawk: added to the local clock for timestamps (as the hawk library's localtimeOffsetMsec). */
  localtimeOffsetMsec?: number;
}

export type RoomsAuth = { type: 'hawk'; credentials: HawkCredentials } | { type: 'basic'; sessionToken: string };

/** A refusal from the room server: its HTTP status, errno and message. */
export class RoomsApiError extends Error {
  constructor(
    readonly status: number,
    readonly errno: number | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RoomsApiError';
  }
}

export interface RoomsRequest extends RoomsClientOptions {
  serverUrl: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  auth?: RoomsAuth;
  expect: number[];
}

export function baseUrl(serverUrl: unknown): string {
  if (typeof serverUrl !== 'string') throw new TypeError('serverUrl must be a string such as "https://host/v1"');
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    throw new TypeError('serverUrl is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('serverUrl must be http: or https:');
  return u.href.replace(/\/+$/, '');
}

export async function roomsRequest(r: RoomsRequest): Promise<Response> {
  const url = `${baseUrl(r.serverUrl)}${r.path}`;
  const body = r.body === undefined ? '' : JSON.stringify(r.body);
  const headers: Record<string, string> = {};
  if (body) headers['Content-Type'] = CONTENT_TYPE;
  if (r.auth?.type === 'hawk') {
    const problem = checkHawkCredentials(r.auth.credentials);
    if (problem) throw new TypeError(problem);
    // Loaded here, not at import: a page that never signs never downloads the signer and its hashing.
    const { HawkSigner } = await import('../transport/hawkSigner');
    const signer = new HawkSigner(r.auth.credentials, r.localtimeOffsetMsec ?? 0);
    headers.Authorization = await signer.header({ method: r.method, url, contentType: body ? CONTENT_TYPE : '', body });
  } else if (r.auth?.type === 'basic') {
    if (typeof r.auth.sessionToken !== 'string' || r.auth.sessionToken === '') throw new TypeError('auth.sessionToken must be a non-empty string');
    headers.Authorization = basicAuthorization(r.auth.sessionToken);
  }
  const fetchFn = r.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  const res = await fetchFn(url, { method: r.method, headers, ...(body ? { body } : {}), credentials: 'omit' });
  if (!r.expect.includes(res.status)) {
    let errno: number | undefined;
    let error = '';
    try {
      const parsed = JSON.parse(await res.text()) as { errno?: unknown; error?: unknown };
      if (typeof parsed.errno === 'number') errno = parsed.errno;
      if (typeof parsed.error === 'string') error = parsed.error.slice(0, 200);
    } catch {
      // not the server's error shape
    }
    throw new RoomsApiError(res.status, errno, `${r.method} ${r.path.split('/').slice(0, 2).join('/')}: HTTP ${res.status}${errno !== undefined ? ` errno ${errno}` : ''}${error ? `: ${error}` : ''}`);
  }
  return res;
}
