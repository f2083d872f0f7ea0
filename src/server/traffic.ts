// The traffic view's endpoints, under the API's base path and with /v1/stats's admin-token rule:
//   GET /v1/traffic?window=hour|day|all          the figures the page draws (stats + open sessions by state + histogram)
//   GET /v1/traffic?since=ISO&until=ISO          the same for a chosen range (to compare two periods)
//   GET /v1/traffic/stream?window=... (or since, until)   the same as server-sent events: one now, then one on every change
//   GET /v1/traffic/sessions/:id                 one session's reports (with the state before each), for replay
// Figures come from the store only (so they agree across server processes); the stream polls the store while
// anyone listens (every POLL_MS, slower when a read takes long) and sends only when the figures changed.
// Routed, admin-checked and answered through the route table (routes.ts) like every other route; the Bearer token
// travels in a header (fetch), never in a URL, so it reaches no log.
import type { ServerResponse } from 'node:http';
import { ROOM_STATES, type RoomState } from '../../machines/domain';
import { TRAFFIC_MEDIA_BUCKETS, TRAFFIC_WINDOWS, WINDOW_MS, type TrafficSnapshot, type TrafficWindow } from '../traffic/wire';
import { errors } from './errors';
import { StoreUnavailableError, type Figures, type Stats } from './store';
import { timeRange } from './validate';

/** How often the stream reads the store while someone listens. */
export const POLL_MS = 500;
const HEARTBEAT_MS = 15_000;

/** A chosen range (epoch ms, `until` after `since`). */
export interface TrafficRange {
  since: number;
  until: number;
}

/** The figures of a named window or a chosen range, read from the store's rollups now (their cost: the window's minutes, not its reports). */
export async function trafficSnapshot(store: Figures, query: TrafficWindow | TrafficRange, now = Date.now()): Promise<TrafficSnapshot> {
  const span = typeof query === 'string' ? WINDOW_MS[query] : undefined;
  const { since, until } = typeof query === 'string' ? { since: span === undefined ? undefined : now - span, until: undefined } : query;
  // metricsData([]): the sessions open now by state, without a histogram (the window's comes with the stats).
  const [stats, metrics] = await Promise.all([store.stats({ since, until }), store.metricsData([])]);
  const open = Object.fromEntries(ROOM_STATES.map((s) => [s, 0])) as Record<RoomState, number>;
  for (const o of metrics.openSessions) if (o.state in open) open[o.state] += o.count;
  return {
    window: typeof query === 'string' ? query : 'range',
    at: new Date(now).toISOString(),
    // What the store counted: since rounded down, until up, to minutes (to hours before the minutes kept).
    since: stats.counted.since,
    until: stats.counted.until,
    sessions: stats.sessions,
    funnel: stats.funnel,
    open,
    transitions: stats.transitions,
    ended: stats.ended,
    timeToMedia: { count: stats.timeToMedia.count, p50: stats.timeToMedia.p50, p90: stats.timeToMedia.p90, p99: stats.timeToMedia.p99, percentiles: stats.timeToMedia.percentiles, histogram: coarser(stats.timeToMedia.buckets) },
    nonConformance: stats.nonConformance.map((n) => ({ ...n, expected: n.expected ? { ...n.expected } : null, reported: { ...n.reported } })),
    paths: stats.paths,
    states: stats.states,
  };
}

/** The store's time-to-media buckets added up into the traffic view's (each of its bounds is one of the store's). */
function coarser(buckets: Stats['timeToMedia']['buckets']): TrafficSnapshot['timeToMedia']['histogram'] {
  const out = [...TRAFFIC_MEDIA_BUCKETS.map((le) => ({ le: le as number | null, count: 0 })), { le: null, count: 0 }];
  for (const b of buckets) {
    const i = b.le === null ? -1 : TRAFFIC_MEDIA_BUCKETS.findIndex((le) => b.le! <= le);
    out[i < 0 ? out.length - 1 : i].count += b.count;
  }
  return out;
}

/**
 * What a traffic request asks for: `window` (default all), or `since` and `until` together (ISO times, `until` after
 * `since`), never both; else 400 errno 107.
 */
export function trafficQuery(q: URLSearchParams): TrafficWindow | TrafficRange {
  const { since, until } = timeRange(q);
  if (since === undefined && until === undefined) {
    const w = q.get('window') ?? 'all';
    if (!(TRAFFIC_WINDOWS as readonly string[]).includes(w)) throw errors.invalid(`Invalid window: one of ${TRAFFIC_WINDOWS.join(', ')}.`);
    return w as TrafficWindow;
  }
  if (q.has('window')) throw errors.invalid('Invalid window: give either window or since and until, not both.');
  if (since === undefined || until === undefined) throw errors.invalid('Invalid range: give both since and until (ISO times).');
  return { since, until };
}

// ---- the stream: one poller per store and window, shared by every listener ----------------------------------

interface Listener {
  send(text: string): void;
}

interface Poller {
  listeners: Set<Listener>;
  /** The last event sent, and its figures without the read time (to tell a change). */
  last?: string;
  lastFigures?: string;
  /** The poll loop runs (a read in flight or the next one scheduled). */
  running: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

/** One poller per store and query (a window's name, or a range's two times). */
const pollers = new WeakMap<Figures, Map<string, Poller>>();

/** Opens a traffic stream on `res` (its headers: `cors`); it ends when the client goes away or the server closes. */
const HEARTBEAT = ': keep-alive\n\n';
/** Unsent bytes a stream may hold for a slow reader; past them, events wait and only the newest is kept. */
export const STREAM_HIGH_WATER = 64 * 1024;
/** A reader that takes nothing for this long while events wait is cut off (a live one reconnects: `retry`). */
export const STREAM_STALL_MS = 30_000;

/**
 * How a stream's events are written: at once while the reader keeps up; otherwise only the newest waits for the
 * socket to drain (each event is the whole figures, so the ones in between are not needed), heartbeats skipped.
 * A reader that stops reading cannot make the server hold more than about one event for it.
 */
export function streamSender(res: ServerResponse, stallMs = STREAM_STALL_MS): (text: string) => void {
  let pending: string | undefined;
  let stall: ReturnType<typeof setTimeout> | undefined;
  res.on('drain', () => {
    clearTimeout(stall);
    stall = undefined;
    const text = pending;
    pending = undefined;
    if (text !== undefined) res.write(text);
  });
  res.on('close', () => clearTimeout(stall));
  return (text) => {
    if (res.writableLength < STREAM_HIGH_WATER) return void res.write(text);
    if (text !== HEARTBEAT) pending = text;
    stall ??= setTimeout(() => res.destroy(), stallMs);
    stall.unref?.();
  };
}

export function openTrafficStream(store: Figures, res: ServerResponse, query: TrafficWindow | TrafficRange, cors: Record<string, string>, now: () => number = Date.now): void {
  const key = typeof query === 'string' ? query : `${query.since}/${query.until}`;
  // Set on the response, not only written with the status: the shutdown drain finds live streams by their
  // Content-Type (res.getHeader), and ends them at once instead of after the whole grace period.
  for (const [name, value] of Object.entries({ ...cors, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' })) res.setHeader(name, value);
  res.writeHead(200);
  res.write(`retry: 1000\n\n`);
  res.socket?.setTimeout(0);
  let byWindow = pollers.get(store);
  if (!byWindow) pollers.set(store, (byWindow = new Map()));
  let poller = byWindow.get(key);
  if (!poller) byWindow.set(key, (poller = { listeners: new Set(), running: false }));
  const p = poller;
  const listener: Listener = { send: streamSender(res) };
  p.listeners.add(listener);
  // The newcomer gets the current figures at once (the last ones, or a fresh read).
  if (p.last) listener.send(p.last);
  const heartbeat = setInterval(() => listener.send(HEARTBEAT), HEARTBEAT_MS);
  heartbeat.unref();
  const leave = () => {
    clearInterval(heartbeat);
    p.listeners.delete(listener);
    if (p.listeners.size === 0) {
      if (p.timer) clearTimeout(p.timer);
      p.timer = undefined;
      p.running = false;
      if (byWindow!.get(key) === p) byWindow!.delete(key);
    }
  };
  // The response's close: the client went away or the server is closing (the request's own 'close' may come early).
  res.on('close', leave);
  res.on('error', leave);
  if (!p.running) {
    p.running = true;
    poll(store, query, p, now, true);
  }
}

function poll(store: Figures, query: TrafficWindow | TrafficRange, p: Poller, now: () => number, force: boolean): void {
  const started = Date.now();
  trafficSnapshot(store, query, now())
    .then((snap) => {
      const { at: _at, since: _since, ...figures } = snap;
      const text = `event: traffic\ndata: ${JSON.stringify(snap)}\n\n`;
      const changed = JSON.stringify(figures) !== p.lastFigures;
      if (changed || force) {
        p.lastFigures = JSON.stringify(figures);
        p.last = text;
        for (const l of p.listeners) l.send(text);
      }
    })
    .catch((err: unknown) => {
      const why = err instanceof StoreUnavailableError ? 'the store is unavailable' : 'the figures could not be read';
      for (const l of p.listeners) l.send(`event: trouble\ndata: ${JSON.stringify({ error: why })}\n\n`);
    })
    .finally(() => {
      if (p.listeners.size === 0 || !p.running) {
        p.running = false;
        return;
      }
      // Never more than half the time reading: a slow store is polled less often.
      const took = Date.now() - started;
      p.timer = setTimeout(() => poll(store, query, p, now, false), Math.max(POLL_MS, 2 * took));
      p.timer.unref();
    });
}

/** Listeners of the store's traffic streams now, over all windows (for tests and operators). */
export function activeStreams(store: Figures): number {
  let n = 0;
  for (const p of pollers.get(store)?.values() ?? []) n += p.listeners.size;
  return n;
}
