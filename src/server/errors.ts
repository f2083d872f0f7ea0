// The API's error answers: {"code", "errno", "error"} (server spec section 1), one class per refusal. Every error
// body the server writes comes from here.
import type { ServerResponse } from 'node:http';

export const ERRNO = {
  invalidToken: 105,
  badJson: 106,
  invalidParameters: 107,
  missingParameters: 108,
  invalidAuth: 110,
  expired: 111,
  tooLarge: 113,
  tooManyRequests: 116,
  clientMaxSize: 121,
  backend: 201,
  roomFull: 202,
  notInRoom: 203,
  notFound: 999,
} as const;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errno: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): string {
    return JSON.stringify({ code: this.status, errno: this.errno, error: this.message });
  }

  /** The whole HTTP answer as raw bytes, for a socket the HTTP parser gave up on (then closed). */
  rawResponse(): string {
    const body = this.body();
    const head = [`HTTP/1.1 ${this.status} ${STATUS_TEXT[this.status] ?? 'Error'}`, 'Connection: close', 'Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`];
    for (const [name, value] of Object.entries(this.headers)) head.push(`${name}: ${value}`);
    return `${head.join('\r\n')}\r\n\r\n${body}`;
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable' };

/** Writes an error answer outside the API's routes (the server's own 404, serve's fallback). */
export function answerError(res: ServerResponse, e: ApiError): void {
  res.writeHead(e.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...e.headers });
  res.end(e.body());
}

export const AUTH_SCHEMES = 'Basic,Hawk';

export const errors = {
  notFound: () => new ApiError(404, ERRNO.notFound, 'Not found.'),
  /** A request the page cannot take (not GET or HEAD) outside the API: a client whose serverUrl lacks the base path. */
  outsideTheApi: (base: string) => new ApiError(404, ERRNO.notFound, `Not found: the API is under ${base} (a client's serverUrl ends with it).`),
  malformedRequest: () => new ApiError(400, ERRNO.badJson, 'Malformed request.'),
  headersTooLarge: () => new ApiError(431, ERRNO.notFound, 'Request headers too large: the request line and headers must fit in 16 KiB.'),
  requestTimeout: () => new ApiError(408, ERRNO.notFound, 'Request timeout: the whole request must arrive within the time limit.'),
  methodNotAllowed: (allow: string) => new ApiError(405, ERRNO.notFound, 'Method not allowed.', { Allow: allow }),
  tooLarge: (limit: number) => new ApiError(413, ERRNO.tooLarge, `Request body larger than ${limit} bytes.`),
  roomNotFound: () => new ApiError(404, ERRNO.invalidToken, 'Token not found.'),
  unauthorized: (wwwAuthenticate = AUTH_SCHEMES) => new ApiError(401, ERRNO.invalidAuth, 'Unauthorized.', { 'WWW-Authenticate': wwwAuthenticate }),
  adminLocalOnly: () => new ApiError(403, ERRNO.invalidAuth, 'Admin data answers this machine only (or the admin token).'),
  notOwner: () => new ApiError(403, ERRNO.invalidAuth, "Authenticated user is not the room's owner."),
  badJson: (why: string) => new ApiError(400, ERRNO.badJson, why),
  missing: (name: string) => new ApiError(400, ERRNO.missingParameters, `Missing: ${name}`),
  invalid: (message: string) => new ApiError(400, ERRNO.invalidParameters, message),
  clientMaxSize: () => new ApiError(400, ERRNO.clientMaxSize, 'Too many participants in the room for you to handle.'),
  roomFull: () => new ApiError(400, ERRNO.roomFull, 'The room is full.'),
  notInRoom: (message = "Can't update status for a room you aren't in.") => new ApiError(400, ERRNO.notInRoom, message),
  /** A status report whose Idempotency-Key this session already used for a report with other fields (IETF httpapi draft: 422). */
  idempotencyKeyReused: () => new ApiError(422, ERRNO.invalidParameters, 'Idempotency-Key already used for a different report of this session.'),
  expired: () => new ApiError(410, ERRNO.expired, 'Participation has expired.'),
  unavailable: (retryAfterSeconds: number) =>
    new ApiError(503, ERRNO.backend, 'Service unavailable: the store cannot take this now.', { 'Retry-After': String(retryAfterSeconds) }),
};
