// `loop-room-state/inspect`: pass `createVisualizerInspector({ url })` as `inspect` to `createActor` (or
// `createRoomSession`) and the visualizer's live mode shows the session. Browser-safe: uses the global WebSocket
// unless one is passed (Node 20 has none; the Node build of this entry passes the `ws` package's).
import type { InspectionEvent, Observer } from 'xstate';
import { ROOM_COUNTERS, isRoomState } from '../../machines/domain';
import { INSPECT_PATH, LIMITS, relayProtocols, type InspectorMessage } from './protocol';

export { relayProtocols };

/** The part of the WebSocket API used here (the browser's and the `ws` package's both fit). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
/** A WebSocket constructor (the browser's, or the `ws` package's default export in Node). */
export type SocketConstructor = new (url: string, protocols?: string[]) => SocketLike;

/** What createVisualizerInspector() takes: where the visualizer is, and how to connect to it. */
export interface VisualizerInspectorOptions {
  /** The visualizer server: `ws://127.0.0.1:PORT` (an `http://` URL is accepted and converted; `/inspect` is added when no path is given). */
  url: string;
  /** Shown in the visualizer's session list; default: the actor's id. */
  label?: string;
  /**
   * The relay's admin token, when the server has one: offered as the WebSocket subprotocol `bearer.<base64url>` next
   * to `loop-room-state` (a browser cannot set headers on a WebSocket), never in the URL (URLs reach logs).
   */
  token?: string;
  /** A WebSocket constructor; default: `globalThis.WebSocket`. */
  WebSocket?: SocketConstructor;
  /** Told when the connection fails, drops (it then reconnects) or messages had to be dropped; default: `console.warn`. */
  onError?: (err: Error) => void;
  /** Messages kept for (re)sending (default 10000): each session's history, sent again after a reconnect. Beyond it, later ones are dropped and `onError` is told. */
  maxQueue?: number;
  /** Reconnect delays after a drop: the first, doubling up to the maximum (ms). Default 250 and 5000. */
  retry?: { initialDelay?: number; maxDelay?: number };
}

/** An XState inspector that relays a session to the visualizer's live mode: pass it as `inspect`. */
export interface VisualizerInspector extends Observer<InspectionEvent> {
  /** Takes one inspection event (XState calls it). */
  next(event: InspectionEvent): void;
  /** Sends what is queued, then closes the connection. */
  close(): Promise<void>;
}

const OPEN = 1;
const CLOSED = 3;
/** The server closes with 1008 when it refuses a message: retrying would only be refused again. */
const POLICY_VIOLATION = 1008;

/**
 * An inspector that streams an actor's events to a running visualizer (`loop-room-state visualize`), whose
 * live mode then shows the session: pass it as `inspect` to `createActor` or `createRoomSession`. Queues while
 * connecting and reconnects after a drop, telling `onError`. Throws a TypeError when no WebSocket is available
 * or the URL is bad. Call `close()` when done.
 */
export function createVisualizerInspector(options: VisualizerInspectorOptions): VisualizerInspector {
  const url = inspectUrl(options.url);
  const shown = new URL(url).origin; // never echo credentials or query strings in messages
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (typeof Ctor !== 'function')
    throw new TypeError("createVisualizerInspector: no WebSocket available: pass { WebSocket } (in Node 20: import WebSocket from 'ws')");
  const report = options.onError ?? ((err: Error) => console.warn(err.message));
  const maxQueue = options.maxQueue ?? 10_000;
  const firstDelay = options.retry?.initialDelay ?? 250;
  const maxDelay = options.retry?.maxDelay ?? 5_000;
  const instance = randomId();
  const ids = new WeakMap<object, string>();
  let count = 0;
  // Every message sent, session by session, so a relay that restarts gets each session's whole history again.
  const history = new Map<string, string[]>();
  let kept = 0;
  let dropped = 0;
  let failed = false;
  let socket: SocketLike | undefined;
  let delay = firstDelay;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let outage = false; // told onError about the current outage already
  let closed: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;

  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    report(new Error(`visualizer inspector: ${why} (${shown}); live events are no longer sent`));
  };

  const reconnect = (why: string) => {
    if (!outage) report(new Error(`visualizer inspector: ${why} (${shown}); reconnecting`));
    outage = true;
    retry = setTimeout(() => {
      retry = undefined;
      socket = connect();
    }, delay);
    // Node: a pending retry must not keep the process alive.
    (retry as { unref?: () => void }).unref?.();
    delay = Math.min(delay * 2, maxDelay);
  };

  const connect = (): SocketLike => {
    const s = options.token === undefined ? new Ctor(url) : new Ctor(url, relayProtocols(options.token));
    let opened = false;
    s.onopen = () => {
      opened = true;
      delay = firstDelay;
      outage = false;
      for (const [session, list] of [...history]) {
        for (const m of list) s.send(m);
        if (list[list.length - 1]?.startsWith('{"type":"stop"')) forget(session);
      }
      if (closed) s.close(1000, 'done');
    };
    s.onerror = () => {};
    s.onclose = (ev) => {
      const code = (ev as { code?: number } | undefined)?.code;
      if (socket === s) socket = undefined;
      if (closed) return resolveClosed?.();
      if (code === POLICY_VIOLATION) return fail('the server refused a message (code 1008)');
      reconnect(opened ? `connection lost${code ? ` (code ${code})` : ''}` : 'cannot connect');
    };
    return s;
  };

  const send = (m: InspectorMessage) => {
    if (failed || closed) return;
    const text = JSON.stringify(m);
    if (!socket && !retry) socket = connect();
    const open = socket?.readyState === OPEN;
    if (kept >= maxQueue) {
      if (dropped++ === 0)
        report(new Error(`visualizer inspector: more than ${maxQueue} events kept for ${shown}; later ones are ${open ? 'sent but not kept for a reconnect' : 'dropped'}`));
      if (open) socket?.send(text);
      return;
    }
    if (open) socket?.send(text);
    // An ended session that the relay has been sent in full needs no history; otherwise keep it for (re)sending.
    if (open && m.type === 'stop') return forget(m.session);
    kept++;
    const list = history.get(m.session) ?? [];
    list.push(text);
    history.set(m.session, list);
  };

  const forget = (session: string) => {
    kept -= history.get(session)?.length ?? 0;
    history.delete(session);
  };

  const sessionOf = (actorRef: object): string => {
    let id = ids.get(actorRef);
    if (!id) ids.set(actorRef, (id = `${instance}-${++count}`));
    return id;
  };

  return {
    next(ev) {
      if (ev.type !== '@xstate.snapshot') return;
      const snap = ev.snapshot as { value?: unknown; context?: Record<string, unknown>; status?: string };
      // Only room-session snapshots: other actors in the system (and their context) are never sent.
      if (!isRoomState(snap.value) || !snap.context || !ROOM_COUNTERS.every((c) => typeof snap.context?.[c] === 'number')) return;
      const session = sessionOf(ev.actorRef);
      const body = { state: snap.value, connections: snap.context.connections as number, sendStreams: snap.context.sendStreams as number, recvStreams: snap.context.recvStreams as number };
      const type = String(ev.event?.type ?? '').slice(0, LIMITS.maxName) || '(no type)';
      if (type === 'xstate.init') send({ type: 'start', session, label: (options.label ?? (ev.actorRef as { id?: string }).id ?? session).slice(0, LIMITS.maxName) || session, ...body });
      else if (type === 'xstate.stop' || snap.status !== 'active') send({ type: 'stop', session });
      else send({ type: 'step', session, event: type, ...body });
    },
    error() {},
    complete() {},
    close() {
      if (closed) return closed;
      closed = new Promise<void>((resolve) => (resolveClosed = resolve));
      if (retry) clearTimeout(retry);
      retry = undefined;
      if (!socket || socket.readyState === CLOSED) resolveClosed?.();
      else if (socket.readyState === OPEN) socket.close(1000, 'done');
      // still connecting: onopen sends what is kept, then closes
      return closed;
    },
  };
}

/** `ws://host:port/inspect` from what the user gave; a clear error for anything else. */
export function inspectUrl(input: string): string {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw new TypeError('createVisualizerInspector: "url" must be an absolute ws:// or http:// URL');
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError('createVisualizerInspector: "url" must be a ws://, wss://, http:// or https:// URL');
  if (u.pathname === '/' || u.pathname === '') u.pathname = INSPECT_PATH;
  return u.toString();
}

function randomId(): string {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
