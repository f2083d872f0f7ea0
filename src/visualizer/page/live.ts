// The page's side of live mode: watch the server's sessions over WebSocket, reconnecting while the page wants them.
import { WATCH_PATH, applyMessage, checkInspectorMessage, checkSessions, relayProtocols, type LiveSession } from '../protocol';

export interface LiveHandlers {
  onStatus(text: string, connected: boolean): void;
  onSessions(sessions: ReadonlyMap<string, LiveSession>, changed: string | undefined): void;
}

export interface LiveClient {
  url: string;
  close(): void;
}

/** `ws://host:port/watch` from a server address the user typed (http or ws, with or without the path). */
export function watchUrl(input: string): string {
  const u = new URL(input);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error('the live server address must start with ws://, wss://, http:// or https://');
  if (u.pathname === '/' || u.pathname === '') u.pathname = WATCH_PATH;
  return u.toString();
}

/** `token`: the server's admin token, when it has one (sent as a subprotocol, kept in memory only). */
export function connectLive(url: string, h: LiveHandlers, token?: string): LiveClient {
  const sessions = new Map<string, LiveSession>();
  let socket: WebSocket | undefined;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let delay = 500;

  let everOpen = false;
  const open = () => {
    h.onStatus(everOpen ? `reconnecting to ${url}…` : `connecting to ${url}`, false);
    const s = token ? new WebSocket(url, relayProtocols(token)) : new WebSocket(url);
    socket = s;
    s.onopen = () => {
      delay = 500;
      everOpen = true;
      h.onStatus(`connected to ${url}`, true);
    };
    s.onmessage = (ev) => {
      let m: unknown;
      try {
        m = JSON.parse(String(ev.data));
      } catch {
        return h.onStatus('the server sent a message that is not JSON; ignored it', true);
      }
      const o = m as { type?: unknown; sessions?: unknown; session?: unknown };
      if (o.type === 'sessions') {
        const list = checkSessions(o.sessions);
        if ('error' in list) return h.onStatus(`the server sent a bad session list (${list.error}); ignored it`, true);
        sessions.clear();
        for (const x of list) sessions.set(x.session, x);
        return h.onSessions(sessions, undefined);
      }
      if (o.type === 'overflow' && typeof o.session === 'string') {
        const s = sessions.get(o.session);
        if (s) s.overflow = true;
        return h.onSessions(sessions, o.session);
      }
      const msg = checkInspectorMessage(m);
      if ('error' in msg) return h.onStatus(`the server sent a bad message (${msg.error}); ignored it`, true);
      applyMessage(sessions, msg);
      h.onSessions(sessions, msg.session);
    };
    s.onclose = async () => {
      if (stopped) return;
      // A handshake the server refused looks like an unreachable server to the page: ask it over HTTP why.
      const refused = everOpen ? undefined : await whyRefused(url, token);
      if (stopped) return;
      if (refused?.final) return h.onStatus(refused.text, false);
      // Say so plainly: the sessions shown are what arrived before the drop until the relay answers again.
      const why = refused?.text ?? (everOpen ? 'connection lost' : 'cannot reach the server');
      h.onStatus(`${why}: reconnecting to ${url} in ${Math.max(1, Math.round(delay / 1000))} s`, false);
      retry = setTimeout(open, delay);
      delay = Math.min(delay * 2, 10_000);
    };
  };
  open();
  return {
    url,
    close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      socket?.close();
      h.onStatus('not connected', false);
    },
  };
}

/**
 * Why the server at `url` refused a WebSocket that never opened. A browser's WebSocket is never told the handshake's
 * status, so the page asks the server over HTTP: an admin route (`/v1/stats`) answering 401 says the server has an
 * admin token (`final`: trying again without another token is pointless); any other answer says the server is up
 * and refused the live view; no answer (or one the page may not read): undefined, the server cannot be reached.
 */
export async function whyRefused(url: string, token?: string): Promise<{ text: string; final: boolean } | undefined> {
  const u = new URL(url);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  // Opened from disk the page's Origin is null, which the relay never lets in (any page could send it).
  if (location.origin === 'null' || location.protocol === 'file:')
    return { text: `a page opened from disk cannot follow live sessions (the server refuses its null Origin): open the page the server serves, ${u.origin}/`, final: true };
  let status: number;
  try {
    const res = await fetch(`${u.origin}/v1/stats`, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: 'no-store', credentials: 'omit' });
    status = res.status;
  } catch {
    return undefined;
  }
  if (status === 401)
    return token
      ? { text: 'the server refused this admin token (401): enter the right one in Admin token and press Connect', final: true }
      : { text: 'the server wants its admin token (401): enter it in Admin token and press Connect', final: true };
  return { text: `the server answers but refused the live view${token ? '' : ' (if it has an admin token, enter it in Admin token and press Connect)'}`, final: false };
}
