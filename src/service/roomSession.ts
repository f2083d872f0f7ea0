// createRoomSession: runs the room-session machine for one room session and reports every accepted
// event to the room server (docs/protocol.md), in order, through the delivery queue; refreshes the
// participation before it expires, and can leave when the page goes away.
import { createActor, type Observer, type Subscription as XSubscription } from 'xstate';
import type { RoomAnomaly, RoomEvent } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { describeStep, eventTypeOf, rejectUnknown, type CheckedEvent, type RoomSnapshot } from '../model/step';
import type { StatusReport } from '../report';
import { basicAuthorization } from '../transport/basic';
import { CONTENT_TYPE } from '../transport/attempt';
import { createDeliveryQueue, type DeliveryResult, type QueueStats } from '../transport/deliveryQueue';
import { redactor, type RoomSessionError } from '../transport/errors';
import type { HawkSigner } from '../transport/hawkSigner';
import { Listeners, type Subscription } from './listeners';
import { resolveOptions, type RoomSessionOptions } from './options';
import { watchPageHide } from './pageHide';

export interface ReportDelivered {
  body: StatusReport;
  /** Which attempt got it through (1 = the first). */
  attempt: number;
  /** The server's answer (204 expected). */
  status: number;
}

export interface RoomSessionEvents {
  [key: string]: unknown;
  report: ReportDelivered;
  anomaly: RoomAnomaly;
  error: RoomSessionError;
}

export type LeaveResult = DeliveryResult;

export type ReportingState = 'active' | 'leaving' | 'left' | 'stopped';

export interface RoomSessionStats extends QueueStats {
  reporting: ReportingState;
}

export interface RoomSession {
  /** Feed one SDK event, or its type alone. Never throws: a malformed event becomes an `anomaly`. */
  send<const E>(event: CheckedEvent<E>): void;
  getSnapshot(): RoomSnapshot;
  /** Snapshots, as XState's actor.subscribe (a throwing observer is caught and reported as an `error`). */
  subscribe(observer: ((snapshot: RoomSnapshot) => void) | Partial<Observer<RoomSnapshot>>): XSubscription;
  on<K extends 'report' | 'anomaly' | 'error'>(type: K, fn: (payload: RoomSessionEvents[K]) => void): Subscription;
  /** Resolves when every report queued so far is delivered or definitively failed. Never rejects. */
  flush(): Promise<void>;
  /** Stop reporting and refreshing, flush, then POST {"action":"leave"}. Idempotent; never rejects. */
  leave(): Promise<LeaveResult>;
  /**
   * In a browser page: when the page goes away (`pagehide`: tab closed, navigation), send the leave at once
   * with `fetch(..., { keepalive: true })`, which outlives the page. Idempotent; unsubscribe to stop watching.
   */
  leaveOnPageHide(): Subscription;
  /** Stop the machine and all sending now (queued reports are dropped, with one `error`). */
  stop(): void;
  /** Where reporting stands: counts and state. */
  stats(): RoomSessionStats;
}

const LEAVE_BODY = '{"action":"leave"}';

export function createRoomSession(options: RoomSessionOptions): RoomSession {
  const o = resolveOptions(options);
  const redact = redactor(o.secrets);
  let reporting: ReportingState = 'active';
  let leaving: Promise<LeaveResult> | undefined;

  const listeners: Listeners<RoomSessionEvents> = new Listeners<RoomSessionEvents>((type, err) => {
    if (type !== 'error') emitError({ type: 'error', kind: 'listener', message: `a '${String(type)}' listener threw: ${describe(err)}` });
  });
  const emitError = (error: RoomSessionError) => listeners.emit('error', { ...error, message: redact(error.message) });

  // Only Hawk sessions load the signer and its hashing (a Basic page never downloads them), and load it
  // now, not when first needed: once loaded, the page-hide leave can sign synchronously.
  const auth = o.auth;
  let signer: HawkSigner | undefined;
  const signerReady =
    auth.type === 'hawk' ? import('../transport/hawkSigner').then(({ HawkSigner }) => (signer = new HawkSigner(auth.credentials, auth.localtimeOffsetMsec ?? 0))) : undefined;
  // A failed load surfaces where it is awaited (the first request stops reporting, with an `error`).
  signerReady?.catch(() => {});
  const basic = auth.type === 'basic' ? basicAuthorization(auth.sessionToken) : undefined;
  const sign = (s: HawkSigner, body: string) => s.headerNow({ method: 'POST', url: o.url, contentType: CONTENT_TYPE, body });
  const authorization = (body: string) => (signerReady ? signerReady.then((s) => sign(s, body)) : Promise.resolve(basic!));

  const queue = createDeliveryQueue({
    fetch: o.fetch,
    url: o.url,
    authorization,
    timeoutMs: o.timeoutMs,
    retry: o.retry,
    maxQueue: o.maxQueue,
    reauthorize: (refusal) => signer?.adjustClock(refusal.serverDate) ?? false,
    onDelivered: (body, attempt, status) => {
      if ((body as { action?: string }).action === 'status') listeners.emit('report', { body: body as StatusReport, attempt, status });
    },
    onError: (error) => {
      if (error.kind === 'stopped') {
        // e.g. 410: the participation expired; nothing more is sent, so nothing more is refreshed.
        if (reporting === 'active') reporting = 'stopped';
        quiet();
      }
      emitError(error);
    },
  });

  // Staying in the room: refresh every expires/3 (or refreshEveryMs), each after the previous one settled.
  let expires = o.expires;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRefresh = () => {
    const ms = o.refreshEveryMs ?? (expires === undefined ? undefined : (expires * 1000) / 3);
    if (ms === undefined || reporting !== 'active') return;
    refreshTimer = setTimeout(async () => {
      const r = await queue.enqueue({ action: 'refresh' }, 'refresh');
      const next = r.ok ? (r.answer as { expires?: unknown } | undefined)?.expires : undefined;
      if (typeof next === 'number' && next > 0) expires = next;
      scheduleRefresh();
    }, Math.min(ms, 2 ** 31 - 1));
    // A session must not keep a Node process alive on its own.
    (refreshTimer as { unref?: () => void }).unref?.();
  };
  let pageWatch: Subscription | undefined;
  /** No more refreshes, no more page watching. */
  const quiet = () => {
    clearTimeout(refreshTimer);
    pageWatch?.unsubscribe();
  };

  const actor = createActor(roomSessionMachine, o.inspect ? { inspect: o.inspect as never } : undefined);
  actor.on('anomaly', (anomaly) => listeners.emit('anomaly', anomaly));
  // With an error observer, XState hands a machine failure to us instead of throwing it from a timer.
  actor.subscribe({ error: (err) => emitError({ type: 'error', kind: 'stopped', message: `the machine failed: ${describe(err)}` }) });
  actor.start();
  let actorStopped = false;

  // A listener or observer may call send() while the actor is still busy with the previous event.
  // Such events wait their turn, so each one is compared before/after on its own.
  let stepping = false;
  const pending: unknown[] = [];
  const send = (event: unknown) => {
    pending.push(event);
    if (stepping) return;
    stepping = true;
    try {
      while (pending.length > 0) step(pending.shift());
    } finally {
      stepping = false;
    }
  };

  const step = (event: unknown) => {
    const type = eventTypeOf(event);
    if (actorStopped) {
      emitError({ type: 'error', kind: 'stopped', message: `session stopped: event ${JSON.stringify(String(type))} ignored` });
      return;
    }
    // The live actor cannot take these: XState needs a string type, and acts on its reserved
    // `xstate.*` types itself (`xstate.stop` would stop it). The model gives the machine's answer.
    if (type === undefined) {
      listeners.emit('anomaly', rejectUnknown(actor.getSnapshot(), event).anomaly!);
      return;
    }
    const before = actor.getSnapshot();
    try {
      // Only the type: SDK event objects carry much else the machine has no use for.
      actor.send({ type } as RoomEvent);
    } catch (err) {
      emitError({ type: 'error', kind: 'stopped', message: `the machine failed on ${type}: ${describe(err)}` });
      return;
    }
    const step = describeStep(type, before, actor.getSnapshot());
    if (step.accepted && step.report && reporting === 'active') void queue.enqueue(step.report);
  };

  // The page is going away: no task may run after this handler, so the leave goes now, keepalive,
  // signed synchronously.
  const leaveNow = () => {
    if (reporting === 'left' || actorStopped) return;
    reporting = 'left';
    quiet();
    const send = (header: string) =>
      o.fetch(o.url, { method: 'POST', headers: { 'Content-Type': CONTENT_TYPE, Authorization: header }, body: LEAVE_BODY, keepalive: true, credentials: 'omit' }).then(
        (res) => void res.body?.cancel().catch(() => {}),
        () => {},
      );
    try {
      // A Hawk signer still loading (page closed within moments of joining): sign when it arrives, if
      // the page lives that long; otherwise the server forgets the participation when it expires.
      if (signerReady && !signer) void signerReady.then((s) => send(sign(s, LEAVE_BODY))).catch(() => {});
      else void send(signer ? sign(signer, LEAVE_BODY) : basic!);
    } catch {
      // Nothing to tell: the page is gone.
    }
    queue.stop('the page went away: left the room, waiting requests discarded', 'dropped');
  };

  const session: RoomSession = {
    send,
    getSnapshot: () => actor.getSnapshot(),
    subscribe(observer) {
      const guard = <A extends unknown[]>(fn: ((...a: A) => void) | undefined) =>
        fn &&
        ((...a: A) => {
          try {
            fn(...a);
          } catch (err) {
            emitError({ type: 'error', kind: 'listener', message: `a subscribe observer threw: ${describe(err)}` });
          }
        });
      if (typeof observer === 'function') return actor.subscribe(guard(observer)!);
      return actor.subscribe({ next: guard(observer.next), error: guard(observer.error), complete: guard(observer.complete) });
    },
    on(type, fn) {
      if (type !== 'report' && type !== 'anomaly' && type !== 'error') throw new TypeError(`session.on: unknown event ${JSON.stringify(String(type))}; use 'report', 'anomaly' or 'error'`);
      if (typeof fn !== 'function') throw new TypeError('session.on: the listener must be a function');
      return listeners.on(type, fn);
    },
    flush: () => queue.flush(),
    leave() {
      if (leaving) return leaving;
      clearTimeout(refreshTimer);
      if (reporting === 'active') reporting = 'leaving';
      leaving = (async () => {
        await queue.flush();
        // The spec's main text sends {"action":"leave"}; the session token is already the Basic user.
        const result = await queue.enqueue({ action: 'leave' }, 'leave');
        if (reporting === 'leaving') reporting = 'left';
        pageWatch?.unsubscribe();
        return result.ok ? result : { ok: false as const, error: { ...result.error, message: redact(result.error.message) } };
      })();
      return leaving;
    },
    leaveOnPageHide() {
      if (!pageWatch) {
        pageWatch = watchPageHide(leaveNow);
      }
      return pageWatch;
    },
    stop() {
      if (actorStopped) return;
      actorStopped = true;
      quiet();
      actor.stop();
      queue.stop('session stopped: waiting requests discarded', 'dropped');
      if (reporting !== 'left') reporting = 'stopped';
    },
    stats: () => ({ ...queue.stats(), reporting }),
  };
  if (o.leaveOnPageHide) {
    try {
      session.leaveOnPageHide();
    } catch (err) {
      session.stop();
      throw err;
    }
  }
  scheduleRefresh();
  return session;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
