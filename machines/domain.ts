// The room-session vocabulary, spelled as in the spec (room-session.md, sections 1 and 2).
// Every other module takes its names and types from here.

/** The seven room-session states of spec section 2, in the spec's order; `init` is where every session starts. */
export const ROOM_STATES = [
  'init',
  'waiting',
  'starting',
  'sending',
  'receiving',
  'sendrecv',
  'cleanup',
] as const;
/** One of the seven room-session states (`ROOM_STATES`): the `state` a status report carries. */
export type RoomState = (typeof ROOM_STATES)[number];

/** The six SDK events the machine counts (spec section 1), spelled as the OpenTok SDK names them. */
export const ROOM_EVENTS = [
  'Session.connectionCreated',
  'Session.connectionDestroyed',
  'Session.streamCreated',
  'Session.streamDestroyed',
  'Publisher.streamCreated',
  'Publisher.streamDestroyed',
] as const;
/** One of the six event types (`ROOM_EVENTS`): what send() and stepRoom() take, alone or as `{ type }`. */
export type RoomEventType = (typeof ROOM_EVENTS)[number];

/** The three counters the machine keeps (spec section 1), never below 0; a status report carries them. */
export interface RoomCounters {
  /** Connections in the session, this client's own included (`Session.connection*`). */
  connections: number;
  /** Streams this client publishes (`Publisher.stream*`). */
  sendStreams: number;
  /** Streams this client receives from others (`Session.stream*`). */
  recvStreams: number;
}
/** The name of one counter: `'connections' | 'sendStreams' | 'recvStreams'`. */
export type RoomCounter = keyof RoomCounters;
/** The counters' names, in a status report's order. */
export const ROOM_COUNTERS = ['connections', 'sendStreams', 'recvStreams'] as const satisfies readonly RoomCounter[];

/** An event the machine takes: one of the six types as an object (`{ type: 'Session.streamCreated' }`). */
export type RoomEvent = { type: RoomEventType };

/** Why an event was rejected: it would take a counter below 0, or its type is not one of the six. */
export type AnomalyReason = 'counter-underflow' | 'unknown-event';
/**
 * A rejected event (spec 4.1): the machine emits it (a session's `anomaly` event, a step's `anomaly`) and
 * changes nothing else; no report is sent for it.
 */
export interface RoomAnomaly {
  type: 'anomaly';
  /** Why the event was rejected. */
  reason: AnomalyReason;
  /** The rejected event's type, as sent (a string, whatever was sent). */
  event: string;
}

/** Spec section 1: which counter each event moves, and which way. */
export const COUNTING: Readonly<Record<RoomEventType, { counter: RoomCounter; delta: 1 | -1 }>> = {
  'Session.connectionCreated': { counter: 'connections', delta: 1 },
  'Session.connectionDestroyed': { counter: 'connections', delta: -1 },
  'Session.streamCreated': { counter: 'recvStreams', delta: 1 },
  'Session.streamDestroyed': { counter: 'recvStreams', delta: -1 },
  'Publisher.streamCreated': { counter: 'sendStreams', delta: 1 },
  'Publisher.streamDestroyed': { counter: 'sendStreams', delta: -1 },
};

/** All three counters at 0: the machine's initial context. */
export const ZERO_COUNTERS: Readonly<RoomCounters> = Object.freeze({
  connections: 0,
  sendStreams: 0,
  recvStreams: 0,
});

/** True when `type` is one of the six event types: narrows a string from an SDK or the wire before sending it. */
export function isRoomEventType(type: unknown): type is RoomEventType {
  return typeof type === 'string' && (ROOM_EVENTS as readonly string[]).includes(type);
}

/** True when `value` is one of the seven state names: narrows a state read from JSON or the wire. */
export function isRoomState(value: unknown): value is RoomState {
  return typeof value === 'string' && (ROOM_STATES as readonly string[]).includes(value);
}
