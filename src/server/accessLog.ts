// One line per answered request, for operators (`serve --access-log`). It names the route (routes.ts), never the
// path as sent: room tokens and session ids sit in paths, and a token in a log is a leaked secret.
import type { RequestAction } from './metrics';

export interface AccessLogEntry {
  /** When the answer left (ISO 8601). */
  time: string;
  method: string;
  /** The route, e.g. '/v1/rooms/:token'; '/v1/*' for a path the API does not have. */
  route: string;
  action: RequestAction;
  status: number;
  /** From the request's arrival to its answer (a traffic stream: to its first byte); none for an answer given before the request was whole. */
  ms?: number;
  /** The error body's errno, on errors. */
  errno?: number;
}
