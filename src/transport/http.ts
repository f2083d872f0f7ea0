// What a session's reports and the room helpers' requests share (kept apart from ./attempt so that the room
// helpers, loaded on first call, share only this small module with what a page loads at start).

export const CONTENT_TYPE = 'application/json; charset=utf-8';

/** An answer from outside the Loop API: 405, 404 errno 999 (Loop's "no such route"), or a 4xx without the API's JSON errno. */
export function outsideTheApi(status: number, errno: number | undefined): boolean {
  return status === 405 || (status === 404 && errno === 999) || (errno === undefined && status >= 400 && status < 500);
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
