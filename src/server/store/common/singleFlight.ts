// One read in flight per key: callers asking the same while it runs share its answer, so a burst of identical
// scrapes (several Prometheus servers, a page reloaded) costs one query and never piles up on the database.

export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  run<T>(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running as Promise<T>;
    const started = read().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  /** Reads in flight now (for tests and operators). */
  get size(): number {
    return this.inFlight.size;
  }
}
