// What a session's reports and the room helpers' requests share (kept apart from ./attempt so that the room
// helpers, loaded on first call, share only this small module with what a page loads at start).
import type { FieldCheck } from '../check';

export const CONTENT_TYPE = 'application/json; charset=utf-8';

/** A room token as it may appear in a path. */
export const ROOM_TOKEN: FieldCheck = [(v) => typeof v === 'string' && /^[\w-]+$/.test(v), 'must be a non-empty string of letters, digits, "_" or "-"', true];

/** serverUrl checked (http or https, no query or fragment: paths are appended to it) and without trailing slashes. */
export function baseUrl(serverUrl: unknown): string {
  if (typeof serverUrl !== 'string') throw new TypeError('serverUrl must be a string such as "https://host/v1"');
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    throw new TypeError('serverUrl is not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError('serverUrl must be http: or https:');
  if (u.search || u.hash) throw new TypeError('serverUrl must not have a query or fragment');
  return u.href.replace(/\/+$/, '');
}

/** An answer from outside the Loop API: 405, 404 errno 999 (Loop's "no such route"), or a 4xx without the API's JSON errno. */
export function outsideTheApi(status: number, errno: number | undefined): boolean {
  return status === 405 || (status === 404 && errno === 999) || (errno === undefined && status >= 400 && status < 500);
}

/** What messages show of a refusal: its status and, from the Loop server's error body {code, errno, error}, errno and error. */
export async function readRefusal(res: Response): Promise<{ errno?: number; message: string }> {
  let errno: number | undefined;
  let error = '';
  try {
    const parsed = JSON.parse(await res.text()) as { errno?: unknown; error?: unknown };
    if (typeof parsed.errno === 'number') errno = parsed.errno;
    if (typeof parsed.error === 'string') error = parsed.error.slice(0, 200);
  } catch {
    // not the server's error shape
  }
  return { errno, message: `HTTP ${res.status}${errno !== undefined ? ` errno ${errno}` : ''}${error ? `: ${error}` : ''}` };
}

/** The hint every "not the API" message carries: the serverUrl used, and the /v1 prefix it needs. */
export function notTheApiHint(serverUrl: string): string {
  return `is serverUrl (${serverUrl}) the Loop API's base URL, with its /v1 prefix (e.g. https://host/v1)?`;
}

/** A short description of a thrown value: its name, message and cause code (fetch hides the cause). */
export function errorName(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  if (typeof e !== 'object' || e === null || typeof e.message !== 'string') return String(err).slice(0, 200);
  const cause = e.cause;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : typeof cause?.message === 'string' ? ` (${cause.message})` : '';
  return `${String(e.name)}: ${e.message}${code}`.slice(0, 300);
}
