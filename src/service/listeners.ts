// A small typed listener registry. A throwing listener never reaches the caller or the event loop.

/** What on() and leaveOnPageHide() return: unsubscribe() stops it. */
export interface Subscription {
  unsubscribe(): void;
}

export class Listeners<Events extends Record<string, unknown>> {
  private readonly map = new Map<keyof Events, Set<(payload: never) => void>>();

  constructor(private readonly onListenerError: (type: keyof Events, error: unknown) => void) {}

  on<K extends keyof Events>(type: K, fn: (payload: Events[K]) => void): Subscription {
    let set = this.map.get(type);
    if (!set) this.map.set(type, (set = new Set()));
    const entry = fn as (payload: never) => void;
    set.add(entry);
    return { unsubscribe: () => void set.delete(entry) };
  }

  emit<K extends keyof Events>(type: K, payload: Events[K]): void {
    for (const fn of [...(this.map.get(type) ?? [])]) {
      try {
        (fn as (p: Events[K]) => void)(payload);
      } catch (err) {
        this.onListenerError(type, err);
      }
    }
  }

  clear(): void {
    this.map.clear();
  }
}
