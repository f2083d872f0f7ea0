// createRoomSession: runs the room-session machine for one room session and reports every accepted
// event to the room server (docs/protocol.md), in order, through the delivery queue; refreshes the
// participation before it expires, and can leave when the page goes away.
import { createActor, type Observer, type Subscription as XSubscription } from 'xstate';
import type { RoomAnomaly, RoomEvent } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { describeStep, eventTypeOf, rejectUnknown, type CheckedEvent, type RoomSnapshot } from '../model/step';
import type { StatusReport } from '../report';
import { basicAuthorization } from '../transport/basic';
import { joinRetrying } from '../rooms';
import { bytesToBase64 } from '../transport/base64';
import { attempt } from '../transport/attempt';
import { CONTENT_TYPE, errorName, notTheApiHint } from '../transport/http';
import { createDeliveryQueue, type DeliveryResult, type FlushResult, type QueueStats } from '../transport/deliveryQueue';
import { redactor, type ReportingStoppedError, type RoomSessionError } from '../transport/errors';
import type { HawkSigner } from '../transport/hawkSigner';
import { createListeners, type Subscription } from './listeners';
import { resolveOptions, type RoomSessionOptions } from './options';
import { watchPageHide } from './pageHide';

/** The room a session reports to; with `join`, what the join answered (never the sessionToken). */
export interface RoomInfo {
  roomToken: string;
  /** This participation's id, when the session joined. */
  roomConnectionId?: string;
  /** Seconds the participation lasts unless refreshed, when known (join answer or the `expires` option). */
  expires?: number;
}

/** What ready() resolves to: the room once joined (at once without `join`), or why the join failed. */
export type JoinResult = { ok: true; room: RoomInfo } | { ok: false; error: ReportingStoppedError };

/** What the `idle` event carries: the session's totals so far. */
export interface RoomSessionIdle {
  type: 'idle';
  delivered: number;
  dropped: number;
}

/** The `report` event: one status report the server accepted. */
export interface ReportDelivered {
  body: StatusReport;
  /** Which attempt got it through (1 = the first). */
  attempt: number;
  /** The server's answer (204 expected). */
  status: number;
}

/** The events on() takes, and what each listener receives. */
export interface RoomSessionEvents {
  [key: string]: unknown;
  report: ReportDelivered;
  anomaly: RoomAnomaly;
  error: RoomSessionError;
  /** The queue drained: every report so far is delivered or dropped. */
  idle: RoomSessionIdle;
  /** The join answered (sessions given `join` only). */
  joined: RoomInfo;
}

/** The names on() takes. */
export type RoomSessionEventName = 'report' | 'anomaly' | 'error' | 'idle' | 'joined';
const EVENT_NAMES: readonly string[] = ['report', 'anomaly', 'error', 'idle', 'joined'] satisfies RoomSessionEventName[];

/** What leave() resolves to: the leave's answer, or why it was not delivered. Never a rejection. */
export type LeaveResult = DeliveryResult;

/** Where reporting stands: joining (with `join`), active, leaving, left, or stopped for good. */
export type ReportingState = 'joining' | 'active' | 'leaving' | 'left' | 'stopped';

/** stats(): the queue's counts and where reporting stands. */
export interface RoomSessionStats extends QueueStats {
  reporting: ReportingState;
}

/** One client's room session: the machine, fed by send(), reporting every accepted event. */
export interface RoomSession {
  /** Feed one SDK event, or its type alone. Never throws: a malformed event becomes an `anomaly`. */
  send<const E>(event: CheckedEvent<E>): void;
  getSnapshot(): RoomSnapshot;
  /** Snapshots, as XState's actor.subscribe (a throwing observer is caught and reported as an `error`). */
  subscribe(observer: ((snapshot: RoomSnapshot) => void) | Partial<Observer<RoomSnapshot>>): XSubscription;
  on<K extends RoomSessionEventName>(type: K, fn: (payload: RoomSessionEvents[K]) => void): Subscription;
  /**
   * Resolves when every request queued so far is delivered or definitively failed, with how many were
   * which (`dropped` counts refused, given-up and discarded ones). Never rejects.
   */
  flush(): Promise<FlushResult>;
  /** Resolves once joined (at once without `join`), or with why the join failed. Never rejects. */
  ready(): Promise<JoinResult>;
  /** The room once known (at once without `join`; after the join answered with it). */
  room(): RoomInfo | undefined;
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
const PAGE_GONE = 'the page went away: left the room, waiting requests discarded';

/**
 * Start a room session: the machine runs at once; reports go to `${serverUrl}/rooms/${roomToken}` in event
 * order, each with an Idempotency-Key kept across its retries. With `join`, the session joins first (reports
 * wait) and leave() ends that participation. Throws a TypeError for a bad or unknown option; nothing else throws.
 */
export function createRoomSession(options: RoomSessionOptions): RoomSession {
  const o = resolveOptions(options);
  const redact = redactor(o.secrets_);
  let reporting: ReportingState = o.join ? 'joining' : 'active';
  /** Reporting goes on (a join pending or done). */
  const reportingOn = () => reporting === 'active' || reporting === 'joining';
  let leaving: Promise<LeaveResult> | undefined;
  let expires = o.expires;
  let room: RoomInfo | undefined = o.join ? undefined : { roomToken: o.roomToken, ...(expires !== undefined && { expires }) };

  const emitError = (error: RoomSessionError) => listeners.emit('error', { ...error, message: redact(error.message) });
  const listenerThrew = (who: string, err: unknown) => emitError({ type: 'error', kind: 'listener', message: `${who} threw: ${errorName(err)}` });
  const listeners = createListeners<RoomSessionEvents>((type, err) => type !== 'error' && listenerThrew(`a '${String(type)}' listener`, err));
  const failed = (message: string) => emitError({ type: 'error', kind: 'stopped', reason: 'failed', dropped: 0, message });

  // Only Hawk sessions load the signer and its hashing (a Basic page never downloads them), and load it
  // now, not when first needed: once loaded, the page-hide leave is signed at once.
  let auth = o.auth;
  const hawk = auth?.type === 'hawk' ? auth : undefined;
  let signer: HawkSigner | undefined;
  const signerReady = hawk && import('../transport/hawkSigner').then(({ HawkSigner }) => (signer = new HawkSigner(hawk.credentials, hawk.localtimeOffsetMsec ?? 0)));
  // A failed load surfaces where it is awaited (the first request stops reporting, with an `error`).
  signerReady?.catch(() => {});
  let basic = auth?.type === 'basic' ? basicAuthorization(auth.sessionToken) : undefined;
  const sign = (s: HawkSigner, body: string) => s.headerNow({ method: 'POST', url: o.url_, contentType: CONTENT_TYPE, body });
  const authorize = async (body: string) => (signerReady ? sign(await signerReady, body) : basic!);

  // The join, when the session owns it: requests wait for it (their Authorization needs it). A join the server
  // did not take (no answer, 408, 429, 5xx) is tried again under the reports' retry policy. Cancelled (stop(), the
  // signal), the join in flight still ends: a participation it was given is left at once, not held until it expires.
  const joinAbort = new AbortController();
  const joinStop = new AbortController();
  const joinCancelled = () => joinStop.signal.aborted;
  const joinResult: Promise<JoinResult> = o.join
    ? joinRetrying({ serverUrl: o.serverUrl, roomToken: o.roomToken, ...o.join!, ...(auth && { auth, localtimeOffsetMsec: hawk?.localtimeOffsetMsec }), fetch: o.fetch_, signal: joinAbort.signal }, { policy_: o.retry_, stop_: joinStop.signal }).then(
        (joined): JoinResult => {
          if (!auth) {
            o.secrets_.push(joined.sessionToken);
            auth = { type: 'basic', sessionToken: joined.sessionToken };
            basic = basicAuthorization(joined.sessionToken);
          }
          if (joinCancelled()) {
            void attempt({ ...o, body_: LEAVE_BODY, authorization_: authorize, cancel_: new AbortController().signal });
            throw 0; // told below as cancelled
          }
          if (!o.expires && joined.expires > 0) expires = joined.expires;
          room = { roomToken: o.roomToken, roomConnectionId: joined.roomConnectionId, expires };
          if (reporting === 'joining') reporting = 'active';
          listeners.emit('joined', room);
          scheduleRefresh();
          return { ok: true, room };
        },
      ).catch((err: { status?: number; errno?: number }): JoinResult => {
          if (reporting !== 'left') reporting = 'stopped';
          quiet();
          // Cancelled: whatever the join in flight was answered is not the reason.
          if (joinCancelled()) err = {};
          const message = redact(`could not join the room: ${joinCancelled() ? 'cancelled' : errorName(err)}`);
          // The queue tells it once, as the stop of reporting (unless the session was stopped already).
          const cause = { kind: 'stopped', reason: 'join-failed', status: err?.status, errno: err?.errno } as const;
          return { ok: false, error: (queue.stop(message, cause) as ReportingStoppedError) ?? { type: 'error', message, ...cause, dropped: 0 } };
        })
    : Promise.resolve({ ok: true, room: room! });
  /** Stop joining: no more tries; a participation the join in flight is given is left. */
  const cancelJoin = () => joinStop.abort();

  const queue = createDeliveryQueue({
    ...o,
    // Unique per session: with the request's sequence number, each request's Idempotency-Key.
    idempotencyPrefix_: o.idempotencyKey ? bytesToBase64(globalThis.crypto.getRandomValues(new Uint8Array(12))).replace(/\+/g, '-').replace(/\//g, '_') : undefined,
    onIdle_: () => {
      const { delivered, dropped } = queue.stats();
      listeners.emit('idle', { type: 'idle', delivered, dropped });
    },
    authorization_: async (body) => {
      if (o.join && !(await joinResult).ok) throw new Error('not joined');
      return authorize(body);
    },
    reauthorize_: (refusal) => signer?.adjustClock(refusal.serverDate_) ?? false,
    onDelivered_: (body, attempt, status) => {
      if ((body as { action?: string }).action === 'status') listeners.emit('report', { body: body as StatusReport, attempt, status });
    },
    onError_: (error) => {
      if (error.kind === 'stopped') {
        // e.g. 410: the participation expired; nothing more is sent, so nothing more is refreshed.
        if (reportingOn()) reporting = 'stopped';
        quiet();
        // A path outside the API (no /v1) answers 405 or a web page: say what to fix, once.
        if (error.reason === 'not-the-api') error = { ...error, message: `${error.message}; ${notTheApiHint(o.serverUrl)}` };
      }
      emitError(error);
    },
  });

  // Staying in the room: refresh every expires/3 (or refreshEveryMs), each after the previous one settled.
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  const scheduleRefresh = () => {
    const ms = o.refreshEveryMs ?? (expires === undefined ? undefined : (expires * 1000) / 3);
    if (ms === undefined || reporting !== 'active') return;
    refreshTimer = setTimeout(async () => {
      const r = await queue.enqueue_({ action: 'refresh' }, 'refresh');
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

  const actor = createActor(roomSessionMachine, o.inspect && { inspect: o.inspect });
  actor.on('anomaly', (anomaly) => listeners.emit('anomaly', anomaly));
  // With an error observer, XState hands a machine failure to us instead of throwing it from a timer.
  actor.subscribe({ error: (err) => failed(`the machine failed: ${errorName(err)}`) });
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
    if (actorStopped) return failed(`session stopped: event ${JSON.stringify(String(type))} ignored`);
    // The live actor cannot take these: XState needs a string type, and acts on its reserved
    // `xstate.*` types itself (`xstate.stop` would stop it). The model gives the machine's answer.
    if (type === undefined) return listeners.emit('anomaly', rejectUnknown(actor.getSnapshot(), event).anomaly!);
    const before = actor.getSnapshot();
    try {
      // Only the type: SDK event objects carry much else the machine has no use for.
      actor.send({ type } as RoomEvent);
    } catch (err) {
      return failed(`the machine failed on ${type}: ${errorName(err)}`);
    }
    const { report } = describeStep(type, before, actor.getSnapshot());
    if (report && reportingOn()) void queue.enqueue_(report);
  };

  // The page is going away: no task may run after this handler, so the leave goes now (its fetch starts in
  // this handler's microtasks), keepalive, signed without waiting for anything but a signer still loading.
  const leaveNow = () => {
    if (reporting === 'left' || actorStopped) return;
    // Still joining: cancel the join; the server may have taken it, and forgets it when it expires.
    const joined = reporting !== 'joining' && auth;
    reporting = 'left';
    quiet();
    if (!joined) {
      cancelJoin();
      joinAbort.abort();
    }
    // A Hawk signer still loading (page closed within moments of joining) signs when it arrives, if the page
    // lives that long; otherwise the server forgets the participation when it expires.
    else void attempt({ ...o, body_: LEAVE_BODY, authorization_: authorize, cancel_: new AbortController().signal, keepalive_: true });
    queue.stop(PAGE_GONE, { kind: 'discarded' });
  };

  let detachSignal = () => {};
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
            listenerThrew('a subscribe observer', err);
          }
        });
      return actor.subscribe(typeof observer === 'function' ? { next: guard(observer) } : { next: guard(observer.next), error: guard(observer.error), complete: guard(observer.complete) });
    },
    on(type, fn) {
      if (!EVENT_NAMES.includes(type)) throw new TypeError(`session.on: unknown event ${JSON.stringify(String(type))}; use one of ${EVENT_NAMES.map((n) => `'${n}'`).join(', ')}`);
      if (typeof fn !== 'function') throw new TypeError('session.on: the listener must be a function');
      return listeners.on(type, fn);
    },
    flush: () => queue.flush(),
    ready: () => joinResult,
    room: () => room,
    leave: () =>
      (leaving ??= (async () => {
        clearTimeout(refreshTimer);
        if (reportingOn()) reporting = 'leaving';
        let result: LeaveResult | JoinResult = await joinResult;
        if (result.ok) {
          await queue.flush();
          // The spec's main text sends {"action":"leave"}; the session token is already the Basic user.
          result = await queue.enqueue_({ action: 'leave' }, 'leave');
          if (reporting === 'leaving') reporting = 'left';
        }
        pageWatch?.unsubscribe();
        return result.ok ? (result as LeaveResult) : { ok: false as const, error: { ...result.error, message: redact(result.error.message) } };
      })()),
    leaveOnPageHide: () => (pageWatch ??= watchPageHide(leaveNow)),
    stop() {
      if (actorStopped) return;
      actorStopped = true;
      detachSignal();
      quiet();
      cancelJoin();
      actor.stop();
      queue.stop('session stopped: waiting requests discarded', { kind: 'discarded' });
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
  if (!o.join) scheduleRefresh();
  // The caller's signal ends the session: a join in flight is cancelled; otherwise leave, then stop.
  const signal = o.signal;
  if (signal) {
    const end = () => {
      if (reporting === 'joining') cancelJoin();
      void session.leave().then(() => session.stop());
    };
    if (signal.aborted) end();
    else {
      signal.addEventListener('abort', end, { once: true });
      detachSignal = () => signal.removeEventListener('abort', end);
    }
  }
  return session;
}
