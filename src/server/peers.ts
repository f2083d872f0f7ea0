// The server's Node-only libraries are optional peer dependencies, loaded when first needed so that the
// rest of the CLI runs without them. A missing one is a clear error naming the package to install.
import type BetterSqlite3 from 'better-sqlite3';

export class MissingPeerError extends Error {
  constructor(readonly peer: string) {
    super(`this needs the optional package '${peer}': npm install ${peer}`);
    this.name = 'MissingPeerError';
  }
}

function load<T>(name: string, get: () => unknown = () => require(name)): T {
  try {
    return get() as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${name}'`)) throw new MissingPeerError(name);
    throw err;
  }
}

export const loadBetterSqlite3 = (): typeof BetterSqlite3 => load<typeof BetterSqlite3>('better-sqlite3');

/** The parts of the hawk package (it ships no types) the server uses; see hawk/lib/server.js. */
export interface HawkServerModule {
  server: {
    authenticate(
      req: { method: string; url: string; host: string; port: number; authorization: string },
      credentialsFunc: (id: string) => Promise<{ key: string; algorithm: string } | null | undefined>,
      options: { payload?: string; nonceFunc?: (key: string, nonce: string, ts: string) => Promise<void> | void; timestampSkewSec?: number },
    ): Promise<{ credentials: { key: string; algorithm: string }; artifacts: Record<string, unknown> }>;
    header(credentials: { key: string; algorithm: string }, artifacts: Record<string, unknown>, options?: { payload?: string; contentType?: string }): string;
  };
  crypto: { timestampMessage(credentials: { key: string; algorithm: string }, localtimeOffsetMsec: number): { ts: number; tsm: string } };
  utils: { unauthorized(message: string, attributes: Record<string, unknown>): { output: { headers: Record<string, string> } } };
}
export const loadHawk = (): HawkServerModule => load<HawkServerModule>('hawk');

export const loadPromClient = (): typeof import('prom-client') => load<typeof import('prom-client')>('prom-client');

/**
 * The visualizer's live relay (WebSockets); the page itself needs nothing. A literal require, so that a bundle
 * inlining its dependencies (the tests' build of the CLI) takes ws with it.
 */
export const loadWs = (): typeof import('ws') => load<typeof import('ws')>('ws', () => require('ws'));
