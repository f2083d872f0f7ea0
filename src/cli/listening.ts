// What the long-running commands (serve, visualize) share: the loopback check, the port-in-use message, and
// running until Ctrl-C or SIGTERM.

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host);
}

/** `err` from listen, as the user should read it (a taken port names the flag that fixes it). */
export function listenError(err: unknown, port: number, host: string): unknown {
  if ((err as { code?: string }).code === 'EADDRINUSE') return new Error(`port ${port} on ${host} is in use: pass --port with another port (0 picks a free one)`);
  return err;
}

/** Resolves on the first SIGINT or SIGTERM (then the command closes what it opened and returns). */
export function untilInterrupted(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
