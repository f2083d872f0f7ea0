// `loop-room-state/inspect`: pass `createVisualizerInspector({ url })` as `inspect` to `createActor` (or
// `createRoomSession`) and the visualizer's live mode shows the session. Browser-safe: uses the global WebSocket
// unless one is passed (Node 20 has none; the Node build of this entry passes the `ws` package's).
import type { InspectionEvent, Observer } from 'xstate';
import { ROOM_COUNTERS, isRoomState } from '../../machines/domain';
import { INSPECT_PATH, LIMITS, type InspectorMessage } from './protocol';

/** The part of the WebSocket API used here (the browser's and the `ws` package's both fit). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketConstructor = new (url: string) => SocketLike;

export interface VisualizerInspectorOptions {
  /** The visualizer server: `ws://127.0.0.1:PORT` (an `http://` URL is accepted and converted; `/inspect` is added when no path is given). */
  url: string;
  /** Shown in the visualizer's session list; default: the actor's id. */
  label?: string;
  /** A WebSocket constructor; default: `globalThis.WebSocket`. */
  WebSocket?: SocketConstructor;
  /** Told when the connection fails or messages had to be dropped; default: `console.warn`. */
  onError?: (err: Error) => void;
  /** Messages kept while the socket connects (default 10000); beyond that they are dropped and `onError` is told. */
  maxQueue?: number;
}

export interface VisualizerInspector extends Observer<InspectionEvent> {
  next(event: InspectionEvent): void;
  /** Sends what is queued, then closes the connection. */
  close(): Promise<void>;
}

const OPEN = 1;
const CLOSED = 3;

export function createVisualizerInspector(options: VisualizerInspectorOptions): VisualizerInspector {
  const url = inspectUrl(options.url);
  const shown = new URL(url).origin; // never echo credentials or query strings in messages
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (typeof Ctor !== 'function')
    throw new TypeError("createVisualizerInspector: no WebSocket available: pass { WebSocket } (in Node 20: import WebSocket from 'ws')");
  const report = options.onError ?? ((err: Error) => console.warn(err.message));
  const maxQueue = options.maxQueue ?? 10_000;
  const instance = randomId();
  const ids = new WeakMap<object, string>();
  let count = 0;
  const queue: string[] = [];
  let dropped = 0;
  let failed = false;
  let socket: SocketLike | undefined;
  let closed: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;

  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    report(new Error(`visualizer inspector: ${why} (${shown}); live events are no longer sent`));
  };

  const connect = (): SocketLike => {
    const s = new Ctor(url);
    s.onopen = () => {
      for (const m of queue.splice(0)) s.send(m);
      if (closed) s.close(1000, 'done');
    };
    s.onerror = () => fail('connection failed');
    s.onclose = (ev) => {
      const code = (ev as { code?: number } | undefined)?.code;
      if (!closed && code !== 1000) fail(`connection closed${code ? ` (code ${code})` : ''}`);
      resolveClosed?.();
    };
    return s;
  };

  const send = (m: InspectorMessage) => {
    if (failed || closed) return;
    const text = JSON.stringify(m);
    socket ??= connect();
    if (socket.readyState === OPEN) return socket.send(text);
    if (queue.length < maxQueue) return void queue.push(text);
    if (dropped++ === 0) report(new Error(`visualizer inspector: more than ${maxQueue} events queued while connecting to ${shown}; dropping the rest`));
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
      if (!socket || socket.readyState === CLOSED) resolveClosed?.();
      else if (socket.readyState === OPEN) socket.close(1000, 'done');
      // still connecting: onopen flushes the queue, then closes
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
