// The page's connection to the server's traffic stream: server-sent events read with fetch (so the admin token goes
// in an Authorization header, which EventSource cannot send), reconnecting with backoff while the page wants it.
import type { TimeRange } from '../trafficCompare';
import { checkTrafficSnapshot, type SessionReports, type TrafficSnapshot, type TrafficWindow } from '../trafficWire';

export interface TrafficSource {
  /** The API's base URL, e.g. http://127.0.0.1:5000/v1 */
  base: string;
  /** Admin token, when the server has one (kept in memory only). */
  token?: string;
}

export type LinkState = 'connecting' | 'live' | 'reconnecting' | 'refused' | 'closed';

export interface StreamHandlers {
  onSnapshot(s: TrafficSnapshot): void;
  onState(state: LinkState, detail: string): void;
}

const headers = (src: TrafficSource): Record<string, string> => (src.token ? { Authorization: `Bearer ${src.token}` } : {});

/** Split server-sent-event text into complete events; returns them and the unfinished rest. */
export function parseEvents(buffer: string): { events: Array<{ event: string; data: string }>; rest: string } {
  const events: Array<{ event: string; data: string }> = [];
  // A chunk may end between the \r and \n of one line break: keep a trailing \r for the next chunk.
  const held = buffer.endsWith('\r') ? '\r' : '';
  const blocks = (held ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, '\n').split('\n\n');
  const rest = (blocks.pop() ?? '') + held;
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

/** Why a request failed, in words a person can act on. */
function refusal(status: number, src: TrafficSource): string {
  if (status === 401) {
    return src.token === undefined
      ? 'the server wants its admin token (401): enter it and connect again'
      : 'the server refused this admin token (401): enter the right one and connect again';
  }
  if (status === 404) return 'this server has no traffic endpoint (404): give the room server\'s address (…/v1)';
  return `the server answered ${status}`;
}

export function openTrafficStream(src: TrafficSource, window: TrafficWindow, h: StreamHandlers): { close(): void } {
  let stopped = false;
  let delay = 1000;
  let abort: AbortController | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let everLive = false;

  const again = (why: string) => {
    if (stopped) return;
    h.onState('reconnecting', `${why}; reconnecting in ${Math.round(delay / 1000)} s`);
    retry = setTimeout(run, delay);
    delay = Math.min(delay * 2, 10_000);
  };

  async function run(): Promise<void> {
    if (stopped) return;
    h.onState(everLive ? 'reconnecting' : 'connecting', `connecting to ${src.base}`);
    abort = new AbortController();
    let res: Response;
    try {
      res = await fetch(`${src.base}/traffic/stream?window=${window}`, { headers: headers(src), signal: abort.signal, cache: 'no-store', credentials: 'omit' });
    } catch {
      return again(`cannot reach ${src.base}`);
    }
    if (!res.ok || !res.body) {
      if (res.status === 401 || res.status === 404) {
        h.onState('refused', refusal(res.status, src));
        return;
      }
      return again(refusal(res.status, src));
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const { events, rest } = parseEvents(buffer);
        buffer = rest;
        for (const e of events) {
          if (e.event === 'trouble') {
            h.onState('reconnecting', `the server cannot read its figures now (${safeError(e.data)}); showing the last ones`);
            continue;
          }
          if (e.event !== 'traffic') continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(e.data);
          } catch {
            continue;
          }
          const snap = checkTrafficSnapshot(parsed);
          if ('error' in snap) {
            h.onState('live', `the server sent figures of an unexpected shape (${snap.error}); ignored them`);
            continue;
          }
          everLive = true;
          delay = 1000;
          h.onState('live', `live from ${src.base}`);
          h.onSnapshot(snap);
        }
      }
    } catch {
      // aborted or dropped
    }
    again('the connection dropped');
  }

  void run();
  return {
    close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      abort?.abort();
      h.onState('closed', 'not connected');
    },
  };
}

function safeError(data: string): string {
  try {
    const o = JSON.parse(data) as { error?: unknown };
    return typeof o.error === 'string' ? o.error.slice(0, 120) : 'unknown trouble';
  } catch {
    return 'unknown trouble';
  }
}

/** The figures of one chosen range (`GET /v1/traffic?since&until`), checked as the stream's are. */
export async function fetchSnapshot(src: TrafficSource, range: TimeRange, signal?: AbortSignal): Promise<TrafficSnapshot> {
  const q = new URLSearchParams({ since: range.since, until: range.until });
  const res = await fetch(`${src.base}/traffic?${q}`, { headers: headers(src), cache: 'no-store', credentials: 'omit', ...(signal ? { signal } : {}) });
  if (!res.ok) throw new Error(refusal(res.status, src));
  const snap = checkTrafficSnapshot(await res.json());
  if ('error' in snap) throw new Error(`the server sent figures of an unexpected shape (${snap.error})`);
  return snap;
}

/** One session's stored reports (for the replay drill-down). */
export async function fetchSessionReports(src: TrafficSource, session: string): Promise<SessionReports> {
  const res = await fetch(`${src.base}/traffic/sessions/${encodeURIComponent(session)}`, { headers: headers(src), cache: 'no-store', credentials: 'omit' });
  if (!res.ok) throw new Error(refusal(res.status, src));
  const body = (await res.json()) as SessionReports;
  if (!body || !Array.isArray(body.reports)) throw new Error('the server sent no report list');
  return body;
}
