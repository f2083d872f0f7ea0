// GET /metrics (server spec section 4), made with prom-client. Report and session figures are read from
// the store's running totals at each scrape (they survive restarts, agree across processes, cost the same
// whatever the number of stored reports, and never go down: retention deletes rows, not counts); request
// counts and commit latencies are this process's own. Label values are known names or 'other', so cardinality is bounded.
import type { Registry } from 'prom-client';
import { END_REASONS, StoreUnavailableError, VERDICTS, type Figures } from './store';
import { ROOM_EVENTS, ROOM_STATES } from '../../machines/domain';
import { loadPromClient } from './peers';
import { registerOperationalMetrics, type OperationalMetrics } from './processMetrics';

/** Bounds (seconds) of loop_room_time_to_media_seconds: each one of the store's (MEDIA_BOUNDS). */
export const METRICS_MEDIA_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

// The actions are the route table's (routes.ts).
export { REQUEST_ACTIONS, type RequestAction } from './routes';
import type { RequestAction } from './routes';

const known = (value: string, names: readonly string[]) => (names.includes(value) ? value : 'other');

/** The actions that write: a 503 on one is the store refusing a write. */
const WRITES: ReadonlySet<RequestAction> = new Set<RequestAction>(['registration', 'create', 'delete', 'join', 'refresh', 'status', 'leave']);
/** How long one refused write keeps the store counted as down without a write that succeeded since. */
const WRITES_FAILING_MS = 60_000;

export class ServerMetrics {
  private readonly registry: Registry;
  private readonly requests;
  private readonly commits;
  private readonly reports;
  private readonly transitions;
  private readonly sessions;
  private readonly ended;
  private readonly ops: OperationalMetrics;
  private latest: { buckets: Array<{ le: number; count: number }>; count: number; sum: number } = { buckets: [], count: 0, sum: 0 };

  constructor(private readonly store: Figures) {
    const prom = loadPromClient();
    this.registry = new prom.Registry();
    const registers = [this.registry];
    this.requests = new prom.Counter({ name: 'loop_room_requests_total', help: 'API requests by action and HTTP status (this process).', labelNames: ['action', 'code'], registers });
    this.reports = new prom.Counter({ name: 'loop_room_status_reports_total', help: 'Stored status reports by event, reported state and verdict.', labelNames: ['event', 'state', 'verdict'], registers });
    this.transitions = new prom.Counter({ name: 'loop_room_transitions_total', help: "Stored status reports by the session's state before (from), the reported state (to) and event.", labelNames: ['from', 'to', 'event'], registers });
    this.sessions = new prom.Gauge({ name: 'loop_room_sessions', help: 'Open participant sessions by current state.', labelNames: ['state'], registers });
    this.ended = new prom.Counter({ name: 'loop_room_sessions_ended_total', help: 'Ended sessions by state when they ended and reason (never lowered by retention).', labelNames: ['state', 'reason'], registers });
    const self = this;
    // A histogram filled from stored data: prom-client's Histogram only observes, so this one is read as is.
    this.registry.registerMetric({
      name: 'loop_room_time_to_media_seconds',
      get: async () => ({
        name: 'loop_room_time_to_media_seconds',
        help: 'Seconds from join to the first sendrecv report, per session (never lowered by retention).',
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...self.latest.buckets.map((b) => ({ metricName: 'loop_room_time_to_media_seconds_bucket', labels: { le: b.le }, value: b.count })),
          { metricName: 'loop_room_time_to_media_seconds_bucket', labels: { le: '+Inf' }, value: self.latest.count },
          { metricName: 'loop_room_time_to_media_seconds_sum', labels: {}, value: self.latest.sum },
          { metricName: 'loop_room_time_to_media_seconds_count', labels: {}, value: self.latest.count },
        ],
      }),
    } as never);
    this.commits = new prom.Histogram({ name: 'loop_room_store_commit_seconds', help: 'Store commit durations (this process).', buckets: COMMIT_BUCKETS, registers });
    this.ops = registerOperationalMetrics(prom, this.registry);
  }

  /** One answered request; `seconds` from its arrival, when known. */
  request(action: RequestAction, code: number, seconds?: number): void {
    this.requests.inc({ action, code: String(code) });
    if (seconds !== undefined) this.ops.requestDuration(action, seconds);
    if (WRITES.has(action)) {
      if (code === 503) this.writeFailedAt = Date.now();
      else if (code < 300) this.writeOkAt = Date.now();
    }
  }

  private writeFailedAt = Number.NEGATIVE_INFINITY;
  private writeOkAt = Number.NEGATIVE_INFINITY;

  /**
   * Whether the store refuses writes while it still answers reads (a full disk, a read-only file): the last write
   * was answered 503, within the last minute. /ready and loop_room_store_up say so, not the reads alone.
   */
  writesFailing(now = Date.now()): boolean {
    return this.writeFailedAt > this.writeOkAt && now - this.writeFailedAt < WRITES_FAILING_MS;
  }

  contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The exposition text. During a store outage it still answers, with loop_room_store_up 0 and the stored
   * figures as last read (counters must not drop to nothing and come back).
   */
  async render(): Promise<string> {
    for (const s of this.store.takeCommitTimes?.() ?? []) this.commits.observe(s);
    let data;
    try {
      data = await this.store.metricsData(METRICS_MEDIA_BUCKETS);
      this.ops.storeUp(!this.writesFailing());
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.ops.storeUp(false);
      return this.registry.metrics();
    }
    this.reports.reset();
    this.transitions.reset();
    for (const r of data.reportTotals) {
      const event = known(r.event, ROOM_EVENTS);
      this.reports.inc({ event, state: known(r.state, ROOM_STATES), verdict: known(r.verdict, VERDICTS) }, r.count);
      this.transitions.inc({ from: known(r.from, ROOM_STATES), to: known(r.state, ROOM_STATES), event }, r.count);
    }
    this.sessions.reset();
    for (const s of ROOM_STATES) this.sessions.set({ state: s }, 0);
    for (const s of data.openSessions) this.sessions.inc({ state: known(s.state, ROOM_STATES) }, s.count);
    this.ended.reset();
    for (const e of data.endedSessions) this.ended.inc({ state: known(e.state, ROOM_STATES), reason: known(e.reason, END_REASONS) }, e.count);
    this.latest = data.timeToMedia;
    return this.registry.metrics();
  }
}
