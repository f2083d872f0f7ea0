// The metrics an operator alerts on (server spec section 8), beside the room figures of metrics.ts: whether
// the store answers (loop_room_store_up; /metrics itself answers 200 during an outage, so Prometheus tells a
// store outage from a dead process), request latency by action, the build, and prom-client's default process
// and Node metrics (CPU, memory, file descriptors, GC, event-loop lag).
import type { Registry } from 'prom-client';
import type { RequestAction } from './metrics';
import { knownVersion } from './store/common/migrate';
import { SQLITE_MIGRATIONS } from './store/sqlite/migrations';

declare const __PACKAGE_VERSION__: string | undefined;

/** Seconds, from 1 ms (a cached read) to 10 s (a report waiting on a busy store). */
export const REQUEST_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface OperationalMetrics {
  storeUp(up: boolean): void;
  requestDuration(action: RequestAction, seconds: number): void;
}

export function registerOperationalMetrics(prom: typeof import('prom-client'), registry: Registry): OperationalMetrics {
  const registers = [registry];
  const up = new prom.Gauge({ name: 'loop_room_store_up', help: 'Whether the store answered the last scrape and takes writes (1) or not (0: unavailable, or the last write within a minute refused).', registers });
  const duration = new prom.Histogram({
    name: 'loop_room_request_duration_seconds',
    help: 'API request durations, from arrival to answer, by action (this process).',
    labelNames: ['action'],
    buckets: REQUEST_DURATION_BUCKETS,
    registers,
  });
  // The schema version this build knows tells processes of one package version apart during a rolling upgrade.
  const build = new prom.Gauge({ name: 'loop_room_build_info', help: 'The running build: always 1, labelled with the package version and the newest schema version it knows.', labelNames: ['version', 'schema'], registers });
  build.set({ version: typeof __PACKAGE_VERSION__ === 'string' ? __PACKAGE_VERSION__ : 'dev', schema: String(knownVersion(SQLITE_MIGRATIONS)) }, 1);
  // nodejs_eventloop_lag_seconds and the other defaults; sampled at each scrape.
  prom.collectDefaultMetrics({ register: registry });
  // Gauges named like counters (promtool check metrics flags them); nodejs_active_handles{type} and
  // friends carry the same figures.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return {
    storeUp: (isUp) => up.set(isUp ? 1 : 0),
    requestDuration: (action, seconds) => duration.observe({ action }, seconds),
  };
}
