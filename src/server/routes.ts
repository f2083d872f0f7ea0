// The API's paths with a parameter, below the base path ('/v1'): matched here by the router, and named here for
// the access log, which writes the route, never the path (room tokens and session ids travel in paths).

/** /rooms/:token (an empty token is the router's to refuse). */
export const ROOM_PATH = /^\/rooms\/([^/]*)$/;
/** /sessions/:id/reports */
export const SESSION_REPORTS_PATH = /^\/sessions\/([^/]+)\/reports$/;
/** /traffic/sessions/:id */
export const TRAFFIC_SESSION_PATH = /^\/traffic\/sessions\/([^/]+)$/;

const TEMPLATES: ReadonlyArray<[RegExp, string]> = [
  [ROOM_PATH, '/rooms/:token'],
  [SESSION_REPORTS_PATH, '/sessions/:id/reports'],
  [TRAFFIC_SESSION_PATH, '/traffic/sessions/:id'],
];
const FIXED = new Set(['/registration', '/rooms', '/stats', '/traffic', '/traffic/stream']);

/** The route a path stands for, with its secrets and ids replaced by names; `${base}/*` for a path the API does not have. */
export function routeOf(path: string, base: string): string {
  if (path === '/metrics') return path;
  const rest = path.slice(base.length);
  if (FIXED.has(rest)) return path;
  for (const [pattern, template] of TEMPLATES) if (pattern.test(rest)) return base + template;
  return `${base}/*`;
}
