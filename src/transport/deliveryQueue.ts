// The delivery queue: one request in flight, strict order, bounded retries, bounded length.
// Closures rather than a class: the browser bundle minifies local names, not property names.
import { attempt, type AttemptOutcome, type AttemptRequest } from './attempt';
import type { ReportingStoppedError, RequestDroppedError, RequestsDiscardedError, RoomRequest, RoomSessionError, StopReason } from './errors';
import { nextWait, parseRetryAfter, sleep, type RetryPolicy } from './retry';

/** What the session hands the queue (names ending in `_` are internal: see ./attempt.ts). */
export interface DeliveryQueueOptions extends Pick<AttemptRequest, 'fetch_' | 'url_' | 'authorization_' | 'timeoutMs_'> {
  retry_: RetryPolicy;
  /** Waiting requests kept at most (the one in flight not counted). */
  maxQueue_: number;
  onDelivered_: (body: object, attempt: number, status: number) => void;
  onError_: (error: RoomSessionError) => void;
  /** Called when the queue has drained: nothing waiting, nothing in flight. */
  onIdle_?: () => void;
  /**
   * A prefix unique to this session: each request then carries `Idempotency-Key: "<prefix>.<n>"`, the
   * same on every attempt of that request, so a server that honours it stores a retried report once.
   */
  idempotencyPrefix_?: string;
  /** Asked once per request after a 401: true when signing afresh may pass (Hawk clock corrected). */
  reauthorize_?: (refusal: Extract<AttemptOutcome, { kind: 'stop' }>) => boolean;
  random_?: () => number;
}

/** `answer`: the parsed JSON body of a 2xx answer that had one (refresh answers `{expires}`). */
export type DeliveryResult = { ok: true; status: number; attempts: number; answer?: unknown } | { ok: false; error: RoomSessionError };

/** What became of the requests a flush() waited for. */
export interface FlushResult {
  /** Delivered (a 2xx answer). */
  delivered: number;
  /** Not delivered: refused, given up after their retries, discarded by a stop, or dropped for room. */
  dropped: number;
}

/** How a stop is told: reporting stopped (with why), or the session ended and discarded what waited. */
export type StopCause = { kind: 'stopped'; reason: StopReason; status?: number; errno?: number } | { kind: 'discarded' };

/** Where the delivery queue stands: waiting requests, one in flight, totals delivered and dropped, stopped. */
export interface QueueStats {
  waiting: number;
  inFlight: boolean;
  delivered: number;
  dropped: number;
  stopped: boolean;
}

export interface DeliveryQueue {
  /** Queue a request. Resolves when it is delivered or definitively failed; never rejects. */
  enqueue_(body: object, request?: RoomRequest): Promise<DeliveryResult>;
  /** Resolves when everything queued so far is delivered or definitively failed, with how many were which. */
  flush(): Promise<FlushResult>;
  /** Stop sending: abort the request in flight and discard the waiting ones (reported once, with the count); the error told, unless stopped already. */
  stop(message: string, cause: StopCause): RoomSessionError | undefined;
  stats(): QueueStats;
}

interface Item {
  body: object;
  request: RoomRequest;
  /** Idempotency-Key value, fixed when queued. */
  key_?: string;
  settle_: (result: DeliveryResult) => void;
  done_: Promise<DeliveryResult>;
}

export function createDeliveryQueue(o: DeliveryQueueOptions): DeliveryQueue {
  const waiting: Item[] = [];
  let inFlight: Item | undefined;
  let pumping = false;
  let stopped = false;
  /** Set after a request exhausted its retries: later ones (but a leave) get one attempt until one gets through. */
  let unreachable = false;
  let overflowed = 0;
  let delivered = 0;
  let dropped = 0;
  let sequence = 0;
  const cancel = new AbortController();
  let wake: (() => void) | undefined;

  /** The request is given up after `attempts`, for the reason `last` tells. */
  const giveUp = ({ request, body }: Item, why: string, last: { status?: number; errno?: number; message: string }, attempts: number): DeliveryResult => {
    const error: RequestDroppedError = { type: 'error', kind: 'dropped', message: `${request} ${why}: ${last.message}`, request, body, attempts, status: last.status, errno: last.errno };
    dropped++;
    o.onError_(error);
    return { ok: false, error };
  };

  const stop: DeliveryQueue['stop'] = (message, cause) => {
    if (stopped) return undefined;
    stopped = true;
    cancel.abort();
    wake?.();
    const discarded = [...(inFlight ? [inFlight] : []), ...waiting.splice(0)];
    // Settled here, so no longer in flight for the listeners and flush() told below (its attempt only ends).
    inFlight = undefined;
    dropped += discarded.length;
    const e: ReportingStoppedError | RequestsDiscardedError = { type: 'error', message, ...cause, dropped: discarded.length };
    for (const d of discarded) d.settle_({ ok: false, error: { ...e, request: d.request, body: d.body } });
    // A stop the caller asked for with nothing pending is not an error.
    if (cause.kind === 'stopped' || discarded.length > 0) o.onError_(e);
    return e;
  };

  /** Deliver one item with retries; undefined when stop() already settled it. */
  const deliver = async (item: Item): Promise<DeliveryResult | undefined> => {
    const body = JSON.stringify(item.body);
    // Unreachable, one attempt; but a leave always gets the whole policy: it ends the participation.
    const once = unreachable && item.request !== 'leave';
    const started = Date.now();
    let last: AttemptOutcome | undefined;
    let reauthorized = false;
    const headers = item.key_ ? { 'Idempotency-Key': item.key_ } : undefined;
    let n = 1;
    for (; ; n++) {
      last = await attempt({ ...o, body_: body, headers_: headers, cancel_: cancel.signal });
      if (stopped) return undefined;
      if (last.kind === 'delivered') {
        unreachable = false;
        delivered++;
        o.onDelivered_(item.body, n, last.status);
        return { ok: true, status: last.status, attempts: n, ...('answer' in last ? { answer: last.answer } : {}) };
      }
      if (last.kind === 'drop') return giveUp(item, 'refused', last, n);
      if (last.kind === 'stop') {
        // After a 401, one more try when signing afresh may pass; not counted: it is a new signature, not a repeat.
        if (last.status === 401 && !reauthorized && o.reauthorize_?.(last)) {
          reauthorized = true;
          n--;
          continue;
        }
        stop(`reporting stopped: ${last.message}`, { kind: 'stopped', reason: last.reason, status: last.status, errno: last.errno });
        return undefined;
      }
      const wait = once ? undefined : nextWait(n, started, o.retry_, parseRetryAfter(last.retryAfter_, o.retry_.maxRetryAfterMs), o.random_);
      if (wait === undefined) break;
      await sleep(wait, (w) => (wake = w));
      if (stopped) return undefined;
    }
    unreachable = true;
    return giveUp(item, `given up after ${n} attempt(s)`, last, n);
  };

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      while (!stopped && waiting.length > 0) {
        const item = (inFlight = waiting.shift()!);
        const result = await deliver(item);
        inFlight = undefined;
        if (result) item.settle_(result);
      }
    } finally {
      pumping = false;
    }
    // After the settled promises' own callbacks, so a flush() awaiting them has its answer first; and
    // only when nothing was queued meanwhile.
    await Promise.resolve();
    if (!stopped && !pumping && waiting.length === 0) o.onIdle_?.();
  };

  const reportOverflow = () => {
    const n = overflowed;
    overflowed = 0;
    o.onError_({ type: 'error', kind: 'overflow', message: `queue full (maxQueue ${o.maxQueue_}): ${n} oldest waiting report(s) dropped`, dropped: n });
  };

  return {
    enqueue_(body, request = 'status') {
      let settle!: (r: DeliveryResult) => void;
      const done = new Promise<DeliveryResult>((r) => (settle = r));
      const item: Item = { body, request, settle_: settle, done_: done, key_: o.idempotencyPrefix_ === undefined ? undefined : `"${o.idempotencyPrefix_}.${++sequence}"` };
      if (stopped) {
        settle({ ok: false, error: { type: 'error', kind: 'stopped', reason: 'failed', message: 'reporting has stopped; request not sent', dropped: 1, request, body } });
        return done;
      }
      // Drop the oldest waiting status report: each report names the whole state after its event, so
      // the newest ones keep the server's view right. A leave or refresh is never dropped for room.
      if (request === 'status' && waiting.length >= o.maxQueue_) {
        const index = waiting.findIndex((i) => i.request === 'status');
        if (index >= 0) {
          const [old] = waiting.splice(index, 1);
          dropped++;
          old.settle_({ ok: false, error: { type: 'error', kind: 'overflow', message: 'queue full: oldest waiting report dropped', dropped: 1, request: old.request, body: old.body } });
          if (overflowed++ === 0) void Promise.resolve().then(reportOverflow);
        }
      }
      waiting.push(item);
      void pump();
      return done;
    },
    async flush() {
      const results = await Promise.all([inFlight, ...waiting].filter((i): i is Item => i !== undefined).map((i) => i.done_));
      const delivered = results.filter((r) => r.ok).length;
      return { delivered, dropped: results.length - delivered };
    },
    stop,
    stats: () => ({ waiting: waiting.length, inFlight: inFlight !== undefined, delivered, dropped, stopped }),
  };
}
