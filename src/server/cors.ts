// Which web pages may read the API's answers from a browser (CORS): the origins configured with --cors-origin,
// on every answer to them (errors included). Preflights answer with the route's own methods.
import type { IncomingMessage } from 'node:http';

// Date too: a browser Hawk client corrects its clock from it after a stale-timestamp 401 (not a safelisted header).
const EXPOSED = 'Hawk-Session-Token, Server-Authorization, WWW-Authenticate, Retry-After, Date';

export class CorsPolicy {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[] = []) {
    this.origins = new Set(origins);
  }

  /** True when the request's Origin is one that may read answers. */
  allows(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return origin !== undefined && this.origins.has(origin);
  }

  /** Headers for every answer to this request (none for an origin not allowed). */
  headers(req: IncomingMessage): Record<string, string> {
    if (!this.allows(req)) return {};
    return { 'Access-Control-Allow-Origin': req.headers.origin as string, Vary: 'Origin', 'Access-Control-Expose-Headers': EXPOSED };
  }

  /** A preflight's answer headers, for a route taking these methods. */
  preflight(req: IncomingMessage, methods: readonly string[]): Record<string, string> {
    return {
      ...this.headers(req),
      'Access-Control-Allow-Methods': methods.join(', '),
      'Access-Control-Allow-Headers': 'Authorization, Content-Type, Idempotency-Key',
      'Access-Control-Max-Age': '600',
    };
  }
}
