// The room-session vocabulary, spelled as in the spec (room-session.md, sections 1 and 2).
// Every other module takes its names and types from here.

export const ROOM_STATES = [
  'init',
  'waiting',
  'starting',
  'sending',
  'receiving',
  'sendrecv',
  'cleanup',
] as const;
export type RoomState = (typeof ROOM_STATES)[number];

export const ROOM_EVENTS = [
  'Session.connectionCreated',
  'Session.connectionDestroyed',
  'Session.streamCreated',
  'Session.streamDestroyed',
  'Publisher.streamCreated',
  'Publisher.streamDestroyed',
] as const;
export type RoomEventType = (typeof ROOM_EVENTS)[number];

export interface RoomCounters {
  connections: number;
  sendStreams: number;
  recvStreams: number;
}
export type RoomCounter = keyof RoomCounters;
export const ROOM_COUNTERS = ['connections', 'sendStreams', 'recvStreams'] as const satisfies readonly RoomCounter[];

export type RoomEvent = { type: RoomEventType };

export type AnomalyReason = 'counter-underflow' | 'unknown-event';
export interface RoomAnomaly {
  type: 'anomaly';
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

export const ZERO_COUNTERS: Readonly<RoomCounters> = Object.freeze({
  connections: 0,
  sendStreams: 0,
  recvStreams: 0,
});

export function isRoomEventType(type: unknown): type is RoomEventType {
  return typeof type === 'string' && (ROOM_EVENTS as readonly string[]).includes(type);
}

export function isRoomState(value: unknown): value is RoomState {
  return typeof value === 'string' && (ROOM_STATES as readonly string[]).includes(value);
}
