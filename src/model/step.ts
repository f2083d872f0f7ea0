import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import { isRoomEventType, type RoomAnomaly, type RoomCounters, type RoomEvent, type RoomEventType, type RoomState } from '../../machines/domain';
import { roomSessionMachine } from '../../machines/roomSession';
import { statusReport, type StatusReport } from '../report';

/** A snapshot of the room-session machine: `value` is the state, `context` the counters. stepRoom() takes and returns them. */
export type RoomSnapshot = SnapshotFrom<typeof roomSessionMachine>;

/** What one event did: accepted (one report) or rejected (one anomaly), and the settled state after it. */
export interface RoomStep {
  event: string;
  accepted: boolean;
  state: RoomState;
  counters: RoomCounters;
  /** Present exactly when the event was accepted. */
  report?: StatusReport;
  /** Present exactly when the event was rejected. */
  anomaly?: RoomAnomaly;
}

/** The machine's snapshot before any event (`init`, counters at 0): call it to start stepping with stepRoom(). */
export function initialRoomSnapshot(): RoomSnapshot {
  return initialTransition(roomSessionMachine)[0];
}

export function countersOf(snapshot: RoomSnapshot): RoomCounters {
  const { connections, sendStreams, recvStreams } = snapshot.context;
  return { connections, sendStreams, recvStreams };
}

/**
 * Describe the effect of `event` from `before` to `after` (two snapshots of the same machine).
 * An event is accepted exactly when it changed the counters (spec 4.1: every accepted event counts).
 */
export function describeStep(eventType: string, before: RoomSnapshot, after: RoomSnapshot, anomaly?: RoomAnomaly): RoomStep {
  const state = after.value as RoomState;
  const counters = countersOf(after);
  const accepted = isRoomEventType(eventType) && !sameCounters(countersOf(before), counters);
  if (accepted) return { event: eventType, accepted, state, counters, report: statusReport(eventType as RoomEventType, state, counters) };
  return {
    event: eventType,
    accepted: false,
    state,
    counters,
    anomaly: anomaly ?? { type: 'anomaly', reason: isRoomEventType(eventType) ? 'counter-underflow' : 'unknown-event', event: eventType },
  };
}

/**
 * What may be passed where an event goes in: an event object or its type alone (`'Session.streamCreated'`
 * is shorthand for `{ type: 'Session.streamCreated' }`). A literal type is checked when compiling, so a
 * misspelt name fails to compile; a value typed `unknown` or `string` is checked at run time instead
 * (rejected as `unknown-event` when it is not one of the six).
 */
export type RoomEventInput<E = unknown> = unknown extends E
  ? E
  : E extends string
    ? string extends E
      ? E
      : RoomEventType
    : E extends { readonly type: infer T }
      ? string extends T
        ? E
        : [T] extends [RoomEventType]
          ? E
          : RoomEvent
      : RoomEventType | RoomEvent;

/** `event` itself when it passes RoomEventInput, else what it should have been (so the compiler's message names the six). */
export type CheckedEvent<E> = [E] extends [RoomEventInput<E>] ? E : RoomEventInput<E>;

/**
 * The pure step: the machine's `transition()` on one event. Whatever `event` is, it does not throw (a bad one
 * is rejected as an anomaly); it throws a TypeError only when `snapshot` is not a machine snapshot, such as
 * `initialRoomSnapshot` itself instead of `initialRoomSnapshot()`, or a snapshot persisted as JSON.
 */
export function stepRoom<const E>(snapshot: RoomSnapshot, event: CheckedEvent<E>): { snapshot: RoomSnapshot; step: RoomStep } {
  if (!(snapshot as Partial<RoomSnapshot> | undefined)?.machine) throw new TypeError('stepRoom: snapshot must be a room snapshot (call initialRoomSnapshot())');
  const type = eventTypeOf(event);
  if (type === undefined) return { snapshot, step: rejectUnknown(snapshot, event) };
  const [next, actions] = transition(roomSessionMachine, snapshot, { type } as { type: RoomEventType });
  const emitted = actions.find((a) => (a.type as string) === 'xstate.emit') as { params?: { event?: RoomAnomaly } } | undefined;
  return { snapshot: next, step: describeStep(type, snapshot, next, emitted?.params?.event) };
}

/** The step for an event the machine cannot be given (see eventTypeOf): rejected, `unknown-event`, nothing changes. */
export function rejectUnknown(snapshot: RoomSnapshot, event: unknown): RoomStep {
  const shown = describeUnknown(event);
  return describeStep(shown, snapshot, snapshot, { type: 'anomaly', reason: 'unknown-event', event: shown });
}

/** Run a whole event sequence from `init`; each event an object or its type alone. */
export function walkRoom<const E extends readonly unknown[]>(events: { readonly [K in keyof E]: CheckedEvent<E[K]> }): RoomStep[] {
  let snapshot = initialRoomSnapshot();
  return (events as readonly unknown[]).map((event) => {
    const r = stepRoom(snapshot, event);
    snapshot = r.snapshot;
    return r.step;
  });
}

/**
 * XState reserves the `xstate.` prefix and acts on some such types itself before the machine sees them
 * (`xstate.init` is ignored, `xstate.stop` stops the actor), so they are rejected as unknown events here.
 */
export const XSTATE_RESERVED_PREFIX = 'xstate.';

/**
 * An event's type when the machine can be given it, else undefined (XState throws on non-string types).
 * A string is an event type given alone.
 */
export function eventTypeOf(event: unknown): string | undefined {
  const type = typeof event === 'string' ? event : typeof event === 'object' && event !== null ? (event as { type?: unknown }).type : undefined;
  return typeof type === 'string' && !type.startsWith(XSTATE_RESERVED_PREFIX) ? type : undefined;
}

function describeUnknown(event: unknown): string {
  if (typeof event === 'object' && event !== null && 'type' in event) return String((event as { type: unknown }).type);
  return typeof event === 'string' ? event : typeof event;
}

export function sameCounters(a: RoomCounters, b: RoomCounters): boolean {
  return a.connections === b.connections && a.sendStreams === b.sendStreams && a.recvStreams === b.recvStreams;
}
