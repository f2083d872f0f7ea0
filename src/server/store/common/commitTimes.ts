// Per-process buffers and throttles both stores keep: commit durations for the metrics, and how often
// housekeeping runs inside a hot write.

/** Durations (seconds) of committed write transactions, taken by each /metrics scrape; bounded between scrapes. */
export class CommitTimes {
  private times: number[] = [];

  /** Records one commit that started at `started` (process.hrtime.bigint()). */
  record(started: bigint): void {
    this.add([Number(process.hrtime.bigint() - started) / 1e9]);
  }

  /** Durations (seconds) measured elsewhere (the threaded SQLite store's writer). */
  add(seconds: readonly number[]): void {
    this.times.push(...seconds);
    if (this.times.length > 10_000) this.times.splice(0, this.times.length - 5_000);
  }

  take(): number[] {
    const t = this.times;
    this.times = [];
    return t;
  }
}

/** True at most once per `everyMs` of the caller's clock (e.g. deleting old Hawk nonce claims inside a claim). */
export class Throttle {
  private last = 0;

  constructor(private readonly everyMs: number) {}

  due(at: number): boolean {
    if (at - this.last < this.everyMs) return false;
    this.last = at;
    return true;
  }
}
