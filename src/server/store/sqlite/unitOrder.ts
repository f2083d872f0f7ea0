// The order of one process's units of work on the threaded SQLite store. A unit decides on this thread and the writer
// applies the decision only if the rows it was decided on are unchanged; so that this fails only when another process
// wrote (or a sweep ended the session meanwhile), units that change each other's rows do not overlap here:
// - units on one session run one after the other (updateSession);
// - joins of one room run one after the other; a join waits for the units in flight on the room's sessions, and
//   units that arrive meanwhile wait for the join (it decides on every open session of the room, and every report
//   changes its session). `epoch` counts the joins done, so a unit can tell that one ran while it read its rows.

interface Room {
  /** Session units in flight on the room. */
  active: number;
  /** Joins running or waiting. */
  joins: number;
  /** The running join, waiting for `active` to reach 0. */
  idle?: () => void;
  /** Session units waiting for `joins` to reach 0. */
  blocked: Array<() => void>;
}

/** Runs `run` once the earlier runs under `key` have settled (whatever their outcome). */
function chained<T>(tails: Map<string, Promise<void>>, key: string, run: () => Promise<T>): Promise<T> {
  const result = (tails.get(key) ?? Promise.resolve()).then(run);
  const tail = result.then(
    () => {},
    () => {},
  );
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return result;
}

export class UnitOrder {
  private readonly sessionTails = new Map<string, Promise<void>>();
  private readonly joinTails = new Map<string, Promise<void>>();
  private readonly rooms = new Map<string, Room>();
  /** Joins done so far (any room). */
  epoch = 0;

  /** Runs a unit on session `id` once its earlier units have settled. */
  session<T>(id: string, unit: () => Promise<T>): Promise<T> {
    return chained(this.sessionTails, id, unit);
  }

  /** Inside a session unit: counts it in flight on its room (until `leave`), once no join of the room runs or waits. */
  async enter(room: string): Promise<void> {
    for (;;) {
      const r = this.room(room);
      if (r.joins === 0) {
        r.active++;
        return;
      }
      await new Promise<void>((resolve) => r.blocked.push(resolve));
    }
  }

  leave(room: string): void {
    const r = this.room(room);
    r.active--;
    if (r.active === 0) r.idle?.();
    this.tidy(room, r);
  }

  /** Runs a join of `room` once its earlier joins have settled and no unit on the room's sessions is in flight. */
  join<T>(room: string, unit: () => Promise<T>): Promise<T> {
    const r = this.room(room);
    r.joins++;
    return chained(this.joinTails, room, async () => {
      if (r.active > 0) await new Promise<void>((resolve) => (r.idle = resolve));
      r.idle = undefined;
      try {
        return await unit();
      } finally {
        this.epoch++;
        r.joins--;
        if (r.joins === 0) for (const wake of r.blocked.splice(0)) wake();
        this.tidy(room, r);
      }
    });
  }

  private room(token: string): Room {
    let r = this.rooms.get(token);
    if (!r) this.rooms.set(token, (r = { active: 0, joins: 0, blocked: [] }));
    return r;
  }

  /** An entry nobody uses or waits on goes (entries are kept while `joins` > 0, so a join's `r` stays the room's). */
  private tidy(token: string, r: Room): void {
    if (r.active === 0 && r.joins === 0 && r.blocked.length === 0) this.rooms.delete(token);
  }
}
