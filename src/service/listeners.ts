// A small typed listener registry. A throwing listener never reaches the caller or the event loop.

/** What on() and leaveOnPageHide() return: unsubscribe() stops it. */
export interface Subscription {
  unsubscribe(): void;
}

export interface Listeners<Events extends Record<string, unknown>> {
  on<K extends keyof Events>(type: K, fn: (payload: Events[K]) => void): Subscription;
  emit<K extends keyof Events>(type: K, payload: Events[K]): void;
}

/** Closures rather than a class: a browser bundle minifies local names, not property names. */
export function createListeners<Events extends Record<string, unknown>>(onListenerError: (type: keyof Events, error: unknown) => void): Listeners<Events> {
  const map = new Map<keyof Events, Set<(payload: never) => void>>();
  return {
    on(type, fn) {
      const set = map.get(type) ?? new Set();
      map.set(type, set.add(fn));
      return { unsubscribe: () => void set.delete(fn) };
    },
    emit(type, payload) {
      for (const fn of [...(map.get(type) ?? [])]) {
        try {
          (fn as (p: typeof payload) => void)(payload);
        } catch (err) {
          onListenerError(type, err);
        }
      }
    },
  };
}
