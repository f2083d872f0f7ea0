// One request of the room flow (registration, create, join), signed with the package's own Hawk signer or
// Basic header. Errors carry the server's status and errno and name the request (path with the room token
// replaced by `:roomToken`), never a credential or token.
import type { RoomsShared } from '.';
import type { FieldCheck } from '../check';
import type { RoomsAuth, RoomsClientOptions } from './errors';

/** An option known to a helper, checked elsewhere (or by the server). */
export const KNOWN: FieldCheck = [() => true, ''];

/**
 * Plain JavaScript passes what no compiler checked: a TypeError naming the helper and the first unknown option
 * (a typo such as `maxsize`) or the first failing one. `fields`: the helper's own options; those of every
 * helper (RoomsClientOptions) are added.
 */
export function checkOptions(helper: string, o: unknown, fields: Readonly<Record<string, FieldCheck>>, shared: RoomsShared): void {
  const problem = shared.fieldsProblem_(o, { ...fields, fetch: KNOWN, localtimeOffsetMsec: KNOWN, signal: KNOWN } satisfies Record<keyof RoomsClientOptions, FieldCheck>, '');
  if (problem) throw new TypeError(`${helper}: ${problem}`);
}

export interface RoomsRequest extends RoomsClientOptions {
  serverUrl: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Under serverUrl, e.g. `/rooms/${token}`. */
  path: string;
  /** What errors show instead of `path` (no token in it), e.g. `/rooms/:roomToken`. */
  shownPath?: string;
  body?: unknown;
  auth?: RoomsAuth;
  expect: number[];
}

/** One request; `shared`: what this code shares with a room session (see ./index.ts). */
export async function roomsRequest(r: RoomsRequest, shared: RoomsShared): Promise<Response> {
  const { baseUrl_: baseUrl, CONTENT_TYPE_: CONTENT_TYPE, errorName_: errorName, notTheApiHint_: notTheApiHint, outsideTheApi_: outsideTheApi, readRefusal_: readRefusal, basicAuthorization_: basicAuthorization, checkHawkCredentials_: checkHawkCredentials, RoomsApiError_: RoomsApiError, RoomsNetworkError_: RoomsNetworkError } = shared;
  const base = baseUrl(r.serverUrl);
  const url = `${base}${r.path}`;
  const shown = `${r.method} ${new URL(base).pathname.replace(/\/+$/, '')}${r.shownPath ?? r.path}`;
  if (r.signal !== undefined && !(typeof r.signal === 'object' && r.signal !== null && typeof r.signal.aborted === 'boolean')) throw new TypeError('signal must be an AbortSignal');
  r.signal?.throwIfAborted();
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
  let res: Response;
  try {
    res = await fetchFn(url, { method: r.method, headers, ...(body ? { body } : {}), credentials: 'omit', ...(r.signal ? { signal: r.signal } : {}) });
  } catch (err) {
    // An abort is the caller's own doing: rethrown as is (the signal's reason).
    if (r.signal?.aborted) throw r.signal.reason;
    throw new RoomsNetworkError(`${shown}: no answer from ${new URL(base).host}: ${errorName(err)}${corsHint(err, base)}`, { cause: err });
  }
  if (!r.expect.includes(res.status)) {
    const { errno, message } = await readRefusal(res);
    const notTheApi = outsideTheApi(res.status, errno);
    throw new RoomsApiError(res.status, errno, `${shown}: ${message}${notTheApi ? `; not the Loop API's answer: ${notTheApiHint(base)}` : ''}`, notTheApi);
  }
  return res;
}

/**
 * A browser tells a CORS refusal as a bare TypeError ("Failed to fetch"), like a server down: when the page's
 * origin is not the server's, say what else it may be. Node and same-origin pages get no hint.
 */
function corsHint(err: unknown, base: string): string {
  const page = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  if (!(err instanceof TypeError) || typeof page !== 'string' || page === new URL(base).origin) return '';
  // A file:// page's origin is "null", which servers do not allow (this package's never does).
  return page === 'null'
    ? '; the browser may have refused it (CORS): a page opened from a file cannot call the server, serve it over http(s)'
    : `; the browser may have refused it (CORS): start the server with --cors-origin ${page} (this page's origin)`;
}
