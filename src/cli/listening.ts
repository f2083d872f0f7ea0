// What the long-running commands (serve, visualize) share: the loopback check, the port-in-use message, and
// running until Ctrl-C or SIGTERM.
import { createServer } from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

/** `err` from listen, as the user should read it (a taken port names the flag that fixes it). */
export function listenError(err: unknown, port: number, host: string): unknown {
  if ((err as { code?: string }).code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is in use: pass --port with another port (0 picks a free one)`);
  return err;
}

/**
 * Rejects (with listenError's message) when host:port cannot be bound, before a command opens anything else:
 * a port in use, or an address this machine does not have, must not cost a database file created and migrated
 * for nothing. With port 0 only the address is checked.
 */
export async function checkPortFree(port: number, host: string): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(listenError(err, port, host)));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export interface Interrupts {
  /** Resolves with the first SIGINT or SIGTERM (then the command stops what it runs, gracefully). */
  first: Promise<NodeJS.Signals>;
  /** Called on a second SIGINT or SIGTERM while stopping (stop now), and on SIGHUP (which does not stop). */
  onAgain(fn: () => void): void;
  onHangup(fn: () => void): void;
  /** Removes the handlers (the process then dies of these signals again). */
  dispose(): void;
}

/**
 * SIGINT and SIGTERM stop a command gracefully; a second one asks to hurry. SIGHUP does not kill it (a closed
 * terminal, or `systemctl reload` out of habit): the command is told and goes on.
 */
export function interrupts(): Interrupts {
  let again = () => {};
  let hangup = () => {};
  let seen = false;
  let resolveFirst: (s: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const stop = (signal: NodeJS.Signals) => {
    if (seen) return again();
    seen = true;
    resolveFirst(signal);
  };
  const hup = () => hangup();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', hup);
  return {
    first,
    onAgain: (fn) => (again = fn),
    onHangup: (fn) => (hangup = fn),
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', hup);
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM (then the command closes what it opened and returns). */
export async function untilInterrupted(): Promise<void> {
  const signals = interrupts();
  await signals.first;
  signals.dispose();
}
