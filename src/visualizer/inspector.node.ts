// The Node build of `loop-room-state/inspect`: same API, with the `ws` package as the default WebSocket (Node 20 has none).
import WebSocket from 'ws';
import { createVisualizerInspector as create, type SocketConstructor, type VisualizerInspector, type VisualizerInspectorOptions } from './inspector';

export type { VisualizerInspector, VisualizerInspectorOptions, SocketConstructor, SocketLike } from './inspector';

export function createVisualizerInspector(options: VisualizerInspectorOptions): VisualizerInspector {
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  return create({ ...options, WebSocket: options.WebSocket ?? global ?? (WebSocket as unknown as SocketConstructor) });
}
