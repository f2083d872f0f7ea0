// The Node build of `loop-room-state/inspect`: same API. Node 20 has no global WebSocket, so the `ws`
// package (an optional peer dependency) is the default, loaded on first connection: installing the package
// never pulls ws in, and importing this entry works without it; only connecting without it fails, clearly.
import { createVisualizerInspector as create, type SocketConstructor, type SocketLike, type VisualizerInspector, type VisualizerInspectorOptions } from './inspector';

export type { VisualizerInspector, VisualizerInspectorOptions, SocketConstructor, SocketLike } from './inspector';

export const WS_MISSING_MESSAGE =
  "visualizer inspector: Node has no WebSocket here and the optional peer dependency 'ws' is not installed: run `npm install ws` (or pass { WebSocket })";

let wsConstructor: Promise<SocketConstructor> | undefined;

function loadWs(): Promise<SocketConstructor> {
  wsConstructor ??= import('ws').then(
    (m) => ((m as { default?: unknown }).default ?? (m as { WebSocket?: unknown }).WebSocket) as SocketConstructor,
    (err: unknown) => {
      const code = (err as { code?: string } | undefined)?.code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(WS_MISSING_MESSAGE);
      throw new Error(`visualizer inspector: could not load 'ws': ${err instanceof Error ? err.message : String(err)}`);
    },
  );
  return wsConstructor;
}

export function createVisualizerInspector(options: VisualizerInspectorOptions): VisualizerInspector {
  const given = options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (given) return create({ ...options, WebSocket: given });
  const report = options.onError ?? ((err: Error) => console.warn(err.message));
  // Once ws is known missing, the inspector's own "connection failed" would only repeat it.
  let missing = false;
  const onError = (err: Error) => {
    if (!missing) report(err);
  };
  const fail = (err: Error) => {
    if (missing) return;
    report(err);
    missing = true;
  };
  /** A WebSocket that becomes a `ws` one once the module has loaded (the inspector only sends once open). */
  class LazyWebSocket implements SocketLike {
    onopen: ((ev: unknown) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    onclose: ((ev: unknown) => void) | null = null;
    private real: SocketLike | undefined;
    private state = 0; // CONNECTING until ws is loaded, CLOSED if it cannot be
    private closing: { code?: number; reason?: string } | undefined;

    constructor(url: string, protocols?: string[]) {
      loadWs().then(
        (Ws) => {
          if (this.closing) return this.closed(this.closing.code ?? 1000);
          const s = protocols === undefined ? new Ws(url) : new Ws(url, protocols);
          this.real = s;
          s.onopen = (ev) => this.onopen?.(ev);
          s.onerror = (ev) => this.onerror?.(ev);
          s.onclose = (ev) => this.onclose?.(ev);
        },
        (err: Error) => {
          fail(err);
          this.onerror?.(err);
          this.closed(1006);
        },
      );
    }

    get readyState(): number {
      return this.real?.readyState ?? this.state;
    }

    send(data: string): void {
      this.real?.send(data);
    }

    close(code?: number, reason?: string): void {
      if (this.real) this.real.close(code, reason);
      else this.closing = { code, reason };
    }

    private closed(code: number): void {
      this.state = 3;
      this.onclose?.({ code });
    }
  }
  return create({ ...options, onError, WebSocket: LazyWebSocket });
}
