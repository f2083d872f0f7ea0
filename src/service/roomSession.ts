// createRoomSession: runs the room-session machine for one room session and reports every accepted
// event to the room server (spec sections 1 and 4.6), in order, through the delivery queue.
import { createActor, type Observer, type Subscription as XSubscription } from 'xstate';
import type { RoomAnomaly, RoomEvent } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { describeStep, eventTypeOf, stepRoom, type RoomSnapshot } from '../model/step';
import type { StatusReport } from '../report';
import { basicAuthorization } from '../transport/basic';
import { CONTENT_TYPE } from '../transport/attempt';
import { DeliveryQueue, type DeliveryResult, type QueueStats } from '../transport/deliveryQueue';
import { redactor, type RoomSessionError } from '../transport/errors';
import { HawkSigner } from '../transport/hawk';
import { Listeners, type Subscription } from './listeners';
import { resolveOptions, type RoomSessionOptions } from './options';

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
  /** Feed one SDK event. Never throws: a malformed event becomes an `anomaly`. */
  send(event: RoomEvent | { readonly type: string }): void;
  getSnapshot(): RoomSnapshot;
  /** Snapshots, as XState's actor.subscribe (a throwing observer is caught and reported as an `error`). */
  subscribe(observer: ((snapshot: RoomSnapshot) => void) | Partial<Observer<RoomSnapshot>>): XSubscription;
  on<K extends 'report' | 'anomaly' | 'error'>(type: K, fn: (payload: RoomSessionEvents[K]) => void): Subscription;
  /** Resolves when every report queued so far is delivered or definitively failed. Never rejects. */
  flush(): Promise<void>;
  /** Stop reporting new events, flush, then POST {"action":"leave"}. Idempotent; never rejects. */
  leave(): Promise<LeaveResult>;
  /** Stop the machine and all sending now (queued reports are dropped, with one `error`). */
  stop(): void;
  /** Where reporting stands: counts and state. */
  stats(): RoomSessionStats;
}

export function createRoomSession(options: RoomSessionOptions): RoomSession {
  const o = resolveOptions(options);
  const redact = redactor(o.secrets);
  let reporting: ReportingState = 'active';
  let leaving: Promise<LeaveResult> | undefined;

  const listeners: Listeners<RoomSessionEvents> = new Listeners<RoomSessionEvents>((type, err) => {
    if (type !== 'error') emitError({ type: 'error', kind: 'listener', message: `a '${String(type)}' listener threw: ${describe(err)}` });
  });
  const emitError = (error: RoomSessionError) => listeners.emit('error', { ...error, message: redact(error.message) });

  const signer = o.auth.type === 'hawk' ? new HawkSigner(o.auth.credentials, o.auth.localtimeOffsetMsec ?? 0) : undefined;
  const basic = o.auth.type === 'basic' ? basicAuthorization(o.auth.sessionToken) : undefined;
  const authorization = (body: string) =>
    signer ? signer.header({ method: 'POST', url: o.url, contentType: CONTENT_TYPE, body }) : Promise.resolve(basic!);

  const queue = new DeliveryQueue({
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
      if (error.kind === 'stopped' && reporting === 'active') reporting = 'stopped';
      emitError(error);
    },
  });

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
    if (actorStopped) {
      emitError({ type: 'error', kind: 'stopped', message: `session stopped: event ${JSON.stringify(String(eventTypeOf(event)))} ignored` });
      return;
    }
    const type = eventTypeOf(event);
    // The live actor cannot take these: XState needs a string type, and acts on its reserved
    // `xstate.*` types itself (`xstate.stop` would stop it). The pure step gives the machine's answer.
    if (type === undefined) {
      const { anomaly } = stepRoom(actor.getSnapshot(), event).step;
      if (anomaly) listeners.emit('anomaly', anomaly);
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

  return {
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
      if (reporting === 'active') reporting = 'leaving';
      leaving = (async () => {
        await queue.flush();
        // The spec's main text sends {"action":"leave"}; the session token is already the Basic user.
        const result = await queue.enqueue({ action: 'leave' }, 'leave');
        if (reporting === 'leaving') reporting = 'left';
        return result.ok ? result : { ok: false as const, error: { ...result.error, message: redact(result.error.message) } };
      })();
      return leaving;
    },
    stop() {
      if (actorStopped) return;
      actorStopped = true;
      actor.stop();
      queue.stop('session stopped: waiting requests discarded', 'dropped');
      if (reporting !== 'left') reporting = 'stopped';
    },
    stats: () => ({ ...queue.stats(), reporting }),
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
