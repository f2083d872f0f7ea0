// Group commit on the one SQLite connection: writes wait for the next turn of the event loop and go to disk
// together: one transaction, a savepoint per call, nobody answered before the commit that holds their writes.
import type { CommitTimes } from '../common/commitTimes';
import { classify, unavailable, type Log } from './errors';
import type { Db, Sql } from './statements';

interface Pending {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly conn: () => Db,
    private readonly sql: Sql,
    private readonly log: Log,
    private readonly commitTimes: CommitTimes,
    /** Runs last in every group transaction, outside the calls' savepoints: its failure fails the whole commit. */
    private readonly beforeCommit: () => void = () => {},
    /** Runs first, holding the write lock: a throw refuses every call of the transaction (the schema fence). */
    private readonly mayWrite: () => void = () => {},
  ) {}

  /** Runs `run` in the next group transaction; resolves with its value once that transaction committed. */
  write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is queued now (the store's close). */
  drain(): void {
    if (this.queue.length > 0) this.flush();
  }

  /** One transaction for everything queued: a savepoint per call, one commit, then the answers. */
  private flush(): void {
    this.scheduled = false;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return;
    const started = process.hrtime.bigint();
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    let db: Db;
    try {
      db = this.conn();
      this.sql('BEGIN IMMEDIATE').run();
    } catch (err) {
      const e = unavailable(this.log, 'begin', err);
      for (const p of batch) p.reject(e);
      return;
    }
    try {
      this.mayWrite();
    } catch (err) {
      const e = classify(this.log, 'begin', err);
      try {
        db.exec('ROLLBACK');
      } catch {
        // nothing to undo
      }
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) {
      try {
        this.sql('SAVEPOINT call').run();
      } catch (err) {
        outcomes.push({ ok: false, error: classify(this.log, 'savepoint', err) });
        continue;
      }
      try {
        outcomes.push({ ok: true, value: p.run() });
        this.sql('RELEASE call').run();
      } catch (err) {
        outcomes.push({ ok: false, error: classify(this.log, 'write', err) });
        try {
          db.exec('ROLLBACK TO call');
          db.exec('RELEASE call');
        } catch {
          // The transaction is gone; the commit below fails and everybody gets 'unavailable'.
        }
      }
    }
    try {
      this.beforeCommit();
      this.sql('COMMIT').run();
    } catch (err) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // nothing more to undo
      }
      // An outage fails every call with 'unavailable'; a bug of the last step is nobody's call in particular.
      const e = classify(this.log, 'commit', err);
      for (const p of batch) p.reject(e);
      return;
    }
    this.commitTimes.record(started);
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }
}
