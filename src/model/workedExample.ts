import type { RoomEventType, RoomState } from '../../machines/domain';

/** Spec section 5: the two-party call seen from the desktop side, with the expected settled state and counters. */
export const WORKED_EXAMPLE: ReadonlyArray<{
  event: RoomEventType;
  state: RoomState;
  connections: number;
  sendStreams: number;
  recvStreams: number;
}> = [
  { event: 'Session.connectionCreated', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
  { event: 'Publisher.streamCreated', state: 'waiting', connections: 1, sendStreams: 1, recvStreams: 0 },
  { event: 'Session.connectionCreated', state: 'sending', connections: 2, sendStreams: 1, recvStreams: 0 },
  { event: 'Session.streamCreated', state: 'sendrecv', connections: 2, sendStreams: 1, recvStreams: 1 },
  { event: 'Session.streamDestroyed', state: 'sending', connections: 2, sendStreams: 1, recvStreams: 0 },
  { event: 'Session.connectionDestroyed', state: 'waiting', connections: 1, sendStreams: 1, recvStreams: 0 },
  { event: 'Publisher.streamDestroyed', state: 'waiting', connections: 1, sendStreams: 0, recvStreams: 0 },
  { event: 'Session.connectionDestroyed', state: 'init', connections: 0, sendStreams: 0, recvStreams: 0 },
];
