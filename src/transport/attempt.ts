// One HTTP attempt of one request, classified. Never throws: every failure becomes an outcome.
import { CONTENT_TYPE, errorName, outsideTheApi, readRefusal } from './http';

/** A WHATWG fetch, or anything called the same way (the global one by default). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export type AttemptOutcome =
  /** `answer`: the JSON body of the answer, when it had one (a refresh answers `{expires}`). */
  | { kind: 'delivered'; status: number; answer?: unknown }
  /** Worth another attempt: network error, timeout, 408, 429, 5xx. */
  | { kind: 'retry'; status?: number; errno?: number; retryAfter_: string | null; message: string }
  /** This request is refused for good (400 and other 4xx); later ones may pass. */
  | { kind: 'drop'; status: number; errno?: number; message: string }
  /**
   * The server will refuse everything from now on (401, 403, 404, 410: `refused`), the room path is not
   * the Loop API (405, or an answer without the API's JSON: `not-the-api`), or the client cannot sign (`failed`).
   */
  | { kind: 'stop'; reason: 'refused' | 'not-the-api' | 'failed'; status?: number; errno?: number; message: string; serverDate_?: string | null };

/** Names ending in `_` are internal: the package's build shortens them (scripts/mangle.mjs). */
export interface AttemptRequest {
  fetch_: FetchLike;
  url_: string;
  body_: string;
  authorization_: (body: string) => Promise<string>;
  timeoutMs_: number;
  /** Sent on every attempt of this request (the Idempotency-Key stays the same across retries). */
  headers_?: Record<string, string>;
  /** Aborted when the session stops: the attempt ends at once. */
  cancel_: AbortSignal;
  /** Let the request outlive the page (the page-hide leave). */
  keepalive_?: boolean;
}

const STOP_STATUSES = new Set([401, 403, 404, 410]);

export function classifyStatus(status: number): AttemptOutcome['kind'] {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  if (STOP_STATUSES.has(status)) return 'stop';
  return 'drop';
}

export async function attempt(req: AttemptRequest): Promise<AttemptOutcome> {
  let authorization: string;
  try {
    authorization = await req.authorization_(req.body_);
  } catch (err) {
    // A client that cannot sign will not be able to later either.
    return { kind: 'stop', reason: 'failed', message: `could not compute the Authorization header: ${errorName(err)}` };
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeoutMs_);
  const onCancel = () => controller.abort();
  req.cancel_.addEventListener('abort', onCancel);
  try {
    const res = await req.fetch_(req.url_, {
      method: 'POST',
      headers: { ...req.headers_, 'Content-Type': CONTENT_TYPE, Authorization: authorization },
      body: req.body_,
      signal: controller.signal,
      keepalive: req.keepalive_,
      // Credentials are explicit; never let a browser attach cookies to a cross-origin room server.
      credentials: 'omit',
    });
    const { status, headers } = res;
    const kind = classifyStatus(status);
    const type = headers.get('Content-Type') ?? '';
    if (kind === 'delivered') {
      if (/json/i.test(type)) return { kind, status, answer: await res.json().catch(() => undefined) };
      await res.body?.cancel().catch(() => {});
      // A web page where the API should answer (a static host's fallback, say): nothing was reported.
      return /html/i.test(type) ? { kind: 'stop', reason: 'not-the-api', status, message: `HTTP ${status} answered with a web page (${type.split(';')[0]})` } : { kind, status };
    }
    const { errno, message } = await readRefusal(res);
    if (kind === 'retry') return { kind, status, errno, retryAfter_: headers.get('Retry-After'), message };
    // The Loop API answers every refusal with its JSON error (an errno); 405, 404 errno 999 (no such route)
    // or anything else is some other server, or a path outside the API: nothing later can pass either.
    if (outsideTheApi(status, errno)) return { kind: 'stop', reason: 'not-the-api', status, message: `${message}${errno === undefined && status !== 405 ? " (not the API's JSON error)" : ''}` };
    return kind === 'stop' ? { kind, reason: 'refused', status, errno, message, serverDate_: headers.get('Date') } : { kind, status, errno, message };
  } catch (err) {
    return { kind: 'retry', retryAfter_: null, message: timedOut ? `no answer within ${req.timeoutMs_} ms` : req.cancel_.aborted ? 'cancelled' : `network error: ${errorName(err)}` };
  } finally {
    clearTimeout(timer);
    req.cancel_.removeEventListener('abort', onCancel);
  }
}
