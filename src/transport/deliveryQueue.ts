// The delivery queue: one request in flight, strict order, bounded retries, bounded length.
import { attempt, type AttemptOutcome, type FetchLike } from './attempt';
import type { RoomSessionError } from './errors';
import { backoffDelay, parseRetryAfter, type RetryPolicy } from './retry';

export interface DeliveryQueueOptions {
  fetch: FetchLike;
  url: string;
  authorization: (body: string) => Promise<string>;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Waiting requests kept at most (the one in flight not counted). */
  maxQueue: number;
  onDelivered: (body: object, attempt: number, status: number) => void;
  onError: (error: RoomSessionError) => void;
  /** Asked once per request after a 401: true when signing afresh may pass (Hawk clock corrected). */
  reauthorize?: (refusal: Extract<AttemptOutcome, { kind: 'stop' }>) => boolean;
  random?: () => number;
}

export type DeliveryResult = { ok: true; status: number; attempts: number } | { ok: false; error: RoomSessionError };

interface Item {
  body: object;
  request: 'status' | 'leave';
  settle: (result: DeliveryResult) => void;
  done: Promise<DeliveryResult>;
}

export interface QueueStats {
  waiting: number;
  inFlight: boolean;
  delivered: number;
  dropped: number;
  stopped: boolean;
}

export class DeliveryQueue {
  private readonly waiting: Item[] = [];
  private inFlight: Item | undefined;
  private pumping = false;
  private stopped = false;
  /** Set after a request exhausted its retries: later ones get one attempt until one gets through. */
  private unreachable = false;
  private overflowed = 0;
  private delivered = 0;
  private droppedCount = 0;
  private readonly cancel = new AbortController();
  private wake: (() => void) | undefined;

  constructor(private readonly o: DeliveryQueueOptions) {}

  /** Queue a request. Resolves when it is delivered or definitively failed; never rejects. */
  enqueue(body: object, request: 'status' | 'leave' = 'status'): Promise<DeliveryResult> {
    let settle!: (r: DeliveryResult) => void;
    const done = new Promise<DeliveryResult>((r) => (settle = r));
    const item: Item = { body, request, settle, done };
    if (this.stopped) {
      item.settle({ ok: false, error: this.error('stopped', 'reporting has stopped; request not sent', item) });
      return done;
    }
    // Drop the oldest waiting status report: each report names the whole state after its event, so
    // the newest ones keep the server's view right. A leave is never dropped for room.
    if (request === 'status' && this.waiting.length >= this.o.maxQueue) {
      const index = this.waiting.findIndex((i) => i.request === 'status');
      if (index >= 0) {
        const [old] = this.waiting.splice(index, 1);
        this.droppedCount++;
        old.settle({ ok: false, error: this.error('overflow', 'queue full: oldest waiting report dropped', old) });
        if (this.overflowed++ === 0) void Promise.resolve().then(() => this.reportOverflow());
      }
    }
    this.waiting.push(item);
    void this.pump();
    return done;
  }

  /** Resolves when everything queued so far is delivered or definitively failed. */
  async flush(): Promise<void> {
    await Promise.all([this.inFlight, ...this.waiting].filter((i): i is Item => i !== undefined).map((i) => i.done));
  }

  /** Stop sending: abort the request in flight and discard the waiting ones (reported once, with the count). */
  stop(reason: string, kind: 'stopped' | 'dropped' = 'stopped', cause?: AttemptOutcome): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancel.abort();
    this.wake?.();
    const discarded = [...(this.inFlight ? [this.inFlight] : []), ...this.waiting.splice(0)];
    this.droppedCount += discarded.length;
    const status = cause && 'status' in cause ? cause.status : undefined;
    const errno = cause && 'errno' in cause ? cause.errno : undefined;
    const error: RoomSessionError = { type: 'error', kind, message: reason, status, errno, dropped: discarded.length };
    for (const d of discarded) d.settle({ ok: false, error: { ...error, request: d.request, body: d.body } });
    // A stop the caller asked for with nothing pending is not an error.
    if (kind === 'stopped' || discarded.length > 0) this.o.onError(error);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stats(): QueueStats {
    return { waiting: this.waiting.length, inFlight: this.inFlight !== undefined, delivered: this.delivered, dropped: this.droppedCount, stopped: this.stopped };
  }

  private reportOverflow(): void {
    const dropped = this.overflowed;
    this.overflowed = 0;
    this.o.onError({ type: 'error', kind: 'overflow', message: `queue full (maxQueue ${this.o.maxQueue}): ${dropped} oldest waiting report(s) dropped`, dropped });
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.stopped && this.waiting.length > 0) {
        const item = this.waiting.shift()!;
        this.inFlight = item;
        const result = await this.deliver(item);
        this.inFlight = undefined;
        if (result) item.settle(result);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Deliver one item with retries; undefined when stop() already settled it. */
  private async deliver(item: Item): Promise<DeliveryResult | undefined> {
    const body = JSON.stringify(item.body);
    const attempts = this.unreachable ? 1 : this.o.retry.attempts;
    let last: AttemptOutcome | undefined;
    let reauthorized = false;
    for (let n = 1; n <= attempts; n++) {
      last = await attempt({ fetch: this.o.fetch, url: this.o.url, body, authorization: this.o.authorization, timeoutMs: this.o.timeoutMs, cancel: this.cancel.signal });
      if (this.stopped) return undefined;
      if (last.kind === 'delivered') {
        this.unreachable = false;
        this.delivered++;
        this.o.onDelivered(item.body, n, last.status);
        return { ok: true, status: last.status, attempts: n };
      }
      if (last.kind === 'drop') {
        const error = { ...this.error('dropped', `${item.request} refused: ${last.message}`, item), status: last.status, errno: last.errno, attempts: n };
        this.droppedCount++;
        this.o.onError(error);
        return { ok: false, error };
      }
      if (last.kind === 'stop' && last.status === 401 && !reauthorized && this.o.reauthorize?.(last)) {
        // One more try, not counted against the retry bound: it is a fresh signature, not a repeat.
        reauthorized = true;
        n--;
        continue;
      }
      if (last.kind === 'stop') {
        this.stop(`reporting stopped: ${last.message}`, 'stopped', last);
        return undefined;
      }
      if (n < attempts) {
        const wait = parseRetryAfter(last.retryAfter, this.o.retry.maxRetryAfterMs) ?? backoffDelay(n, this.o.retry, this.o.random);
        await this.sleep(wait);
        if (this.stopped) return undefined;
      }
    }
    this.unreachable = true;
    const retry = last as Extract<AttemptOutcome, { kind: 'retry' }>;
    const error = { ...this.error('dropped', `${item.request} given up after ${attempts} attempt(s): ${retry.message}`, item), status: retry.status, errno: retry.errno, attempts };
    this.droppedCount++;
    this.o.onError(error);
    return { ok: false, error };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private error(kind: RoomSessionError['kind'], message: string, item: Item): RoomSessionError {
    return { type: 'error', kind, message, request: item.request, body: item.body };
  }
}
