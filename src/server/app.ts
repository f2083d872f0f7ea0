// What `serve` runs, as one function: the room server (API, /metrics, /health, /ready) with the visualizer page and
// its live relay on the same port, the relay sharing the API's admin token, origins, proxies and limits. The CLI
// adds flags, logs and signals around it; tests start the same thing in process.
import { errors, answerError } from './errors';
import { DEFAULT_LIMITS } from './limits';
import { listenRoomServer, type ListeningRoomServer, type RoomServerOptions } from './server';

export interface ServeAppOptions extends RoomServerOptions {
  port?: number;
  requestTimeoutMs?: number;
  shutdownGraceMs?: number;
  /** The visualizer page (the built dist/visualizer.html); without it `/` answers 404 and there is no relay. */
  html?: string;
}

export interface ServeApp extends ListeningRoomServer {
  visualizer?: import('../visualizer/server').VisualizerServer;
}

export async function createServeApp(options: ServeAppOptions): Promise<ServeApp> {
  let visualizer: ServeApp['visualizer'];
  const server = await listenRoomServer({
    ...options,
    fallback: (req, res) => (visualizer ? visualizer.handle(req, res) : answerError(res, errors.notFound())),
  });
  if (options.html !== undefined) try {
    const { attachVisualizer } = await import('../visualizer/server');
    const limits = options.limits;
    visualizer = await attachVisualizer(server.http, {
      html: options.html,
      ...(options.host !== undefined ? { host: options.host } : {}),
      ...(options.log ? { log: options.log } : {}),
      ...(options.adminToken !== undefined ? { adminToken: options.adminToken } : {}),
      ...(options.publicUrl !== undefined ? { publicUrl: options.publicUrl } : {}),
      ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
      ...(options.trustedProxies ? { trustedProxies: options.trustedProxies } : {}),
      connectionsPerAddress: limits === 'off' ? Infinity : (limits?.relayConnectionsPerAddress ?? DEFAULT_LIMITS.relayConnectionsPerAddress),
    });
  } catch (err) {
    // Already listening: a server that cannot serve must not stay up answering /health.
    await server.close(0);
    throw err;
  }
  return {
    ...server,
    visualizer,
    // Stop accepting first; then the live view's WebSockets (which no request waits for) end, so the drain waits
    // only for requests.
    close: async (graceMs?: number) => {
      const closing = server.close(graceMs);
      await visualizer?.close();
      await closing;
    },
  };
}
