// The API's routes, as one table: each row's template, methods, metric action, whether it is admin data, and its
// handler. Dispatch, the 405's Allow, canonical-path matching, the access log's route names (templates, never
// paths: room tokens and session ids travel in paths) and the metric actions all come from here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Caller } from './auth';

export const REQUEST_ACTIONS = [
  'registration',
  'create',
  'info',
  'delete',
  'join',
  'refresh',
  'status',
  'leave',
  'stats',
  'session-reports',
  'metrics',
  // GET /v1/traffic, /v1/traffic/stream (counted once, when answered), /v1/traffic/sessions/:id
  'traffic',
  'other',
] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];

export type Method = 'GET' | 'POST' | 'DELETE';

/** What a handler gets: the request, its matched parameters (decoded), and where to say which action it was. */
export interface RouteRequest {
  req: IncomingMessage;
  res: ServerResponse;
  method: Method;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The action counted for this answer; a handler that learns it later (from the body) sets it. */
  action: RequestAction;
  /** Who is asking, once the handler knows (Hawk answers carry Server-Authorization, errors included). */
  caller: Caller;
}

export interface Route {
  /** '/metrics' (at the root), or '{base}/rooms/:token' (under the API's base path); ':name' is one segment. */
  template: string;
  methods: readonly Method[];
  /** The action counted for the route's answers; 'other' until the handler knows better (POST /rooms/:token). */
  action: RequestAction;
  /** Admin data (spec section 7): loopback callers naming one of the server's hosts, or the admin token. */
  admin: boolean;
  handler: (r: RouteRequest) => Promise<void>;
}

/** What answers each route; the table below says which route is which. */
export interface RouteHandlers {
  metrics: Route['handler'];
  stats: Route['handler'];
  traffic: Route['handler'];
  trafficStream: Route['handler'];
  trafficSession: Route['handler'];
  sessionReports: Route['handler'];
  registration: Route['handler'];
  createRoom: Route['handler'];
  room: Route['handler'];
}

/** The API (server spec sections 1 and 4, and the traffic view's endpoints). */
export const apiRoutes = (h: RouteHandlers): Route[] => [
  { template: '/metrics', methods: ['GET'], action: 'metrics', admin: true, handler: h.metrics },
  { template: '{base}/stats', methods: ['GET'], action: 'stats', admin: true, handler: h.stats },
  { template: '{base}/traffic', methods: ['GET'], action: 'traffic', admin: true, handler: h.traffic },
  { template: '{base}/traffic/stream', methods: ['GET'], action: 'traffic', admin: true, handler: h.trafficStream },
  { template: '{base}/traffic/sessions/:id', methods: ['GET'], action: 'traffic', admin: true, handler: h.trafficSession },
  { template: '{base}/sessions/:id/reports', methods: ['GET'], action: 'session-reports', admin: true, handler: h.sessionReports },
  { template: '{base}/registration', methods: ['POST'], action: 'registration', admin: false, handler: h.registration },
  { template: '{base}/rooms', methods: ['POST'], action: 'create', admin: false, handler: h.createRoom },
  { template: '{base}/rooms/:token', methods: ['GET', 'DELETE', 'POST'], action: 'other', admin: false, handler: h.room },
];

export interface CompiledRoute extends Route {
  /** The template with the base path filled in: the access log's route name. */
  name: string;
  pattern: RegExp;
  paramNames: string[];
}

export function compileRoutes(routes: readonly Route[], base: string): CompiledRoute[] {
  return routes.map((r) => {
    const name = r.template.replace('{base}', base);
    const paramNames: string[] = [];
    const source = name
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        paramNames.push(segment.slice(1));
        return '([^/]*)'; // an empty value is the handler's to refuse (an unknown room token, say)
      })
      .join('/');
    return { ...r, name, pattern: new RegExp(`^${source}$`), paramNames };
  });
}

export type Match = { route: CompiledRoute; params: Record<string, string> } | undefined;

/** The route a canonical path is, with its parameters decoded; undefined when the API has no such path. */
export function matchRoute(routes: readonly CompiledRoute[], path: string): Match {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    for (let i = 0; i < route.paramNames.length; i++) {
      const value = decodeSegment(m[i + 1]);
      if (value === undefined) return undefined;
      params[route.paramNames[i]] = value;
    }
    return { route, params };
  }
  return undefined;
}

function decodeSegment(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** The access log's name for a path: its route's template, or `${base}/*` for a path the API does not have. */
export function routeName(match: Match, base: string): string {
  return match?.route.name ?? `${base}/*`;
}
